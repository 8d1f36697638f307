// Command-line flags with the grammar runc's callers use (Go's flag package
// as extended by urfave/cli): `--name value`, `--name=value`, one dash or two
// (`-no-subreaper`), short aliases (`-b dir`), booleans as `--name` or
// `--name=true|false`, `--` to end flags. By default flags and positional
// arguments may be interleaved; `stop_at_positional` makes everything after
// the first positional argument positional (exec, kill).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::cli {

class FlagSet {
 public:
  void add_bool(std::string name, char short_name, bool* out, std::string help);
  void add_string(std::string name, char short_name, std::string* out, std::string value_name, std::string help);
  void add_int(std::string name, char short_name, int* out, std::string value_name, std::string help);
  /// A string flag that may be given several times (each value appended).
  void add_list(std::string name, char short_name, std::vector<std::string>* out, std::string value_name,
                std::string help);

  /// Parses `args`; returns the positional arguments. `help` is set when
  /// -h/--help was given (parsing stops there).
  Result<std::vector<std::string>> parse(const std::vector<std::string>& args, bool stop_at_positional, bool* help);

  /// Two-column flag help, one flag a line.
  std::string usage() const;

 private:
  struct Flag {
    std::string name;
    char short_name = 0;
    enum class Kind { boolean, string, integer, list } kind = Kind::boolean;
    std::string value_name;
    std::string help;
    std::function<Status(const std::string&)> set;
  };
  const Flag* find(const std::string& name) const;
  std::vector<Flag> flags_;
};

/// Parses Go's bool spellings: 1 t T TRUE true True / 0 f F FALSE false False.
std::optional<bool> parse_go_bool(const std::string& s);

}  // namespace berth::cli
