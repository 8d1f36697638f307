// Flags with the docker CLI's grammar (cobra/pflag): `--name value`,
// `--name=value`, `-n value`, `-nvalue`, grouped booleans (`-it`, `-dit`),
// `--` to end flags. Long flags need two dashes. For run, create and exec
// parsing stops at the first positional argument (the image or container),
// so the command's own flags pass through untouched.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::client {

class Args {
 public:
  void add_bool(std::string name, char short_name, bool* out, std::string help);
  void add_string(std::string name, char short_name, std::string* out, std::string value_name, std::string help);
  void add_list(std::string name, char short_name, std::vector<std::string>* out, std::string value_name,
                std::string help);

  /// Parses `args` (without the command name). `interspersed` allows flags
  /// after positional arguments. Sets `*help` on -h/--help. Errors read as
  /// docker's: "unknown flag: --x", "flag needs an argument: 'e' in -e".
  Result<std::vector<std::string>> parse(const std::vector<std::string>& args, bool interspersed, bool* help) const;

  /// The "Options:" block of --help.
  std::string usage() const;

 private:
  struct Flag {
    std::string name;
    char short_name = 0;
    enum class Kind { boolean, string, list } kind = Kind::boolean;
    bool* b = nullptr;
    std::string* s = nullptr;
    std::vector<std::string>* l = nullptr;
    std::string value_name;
    std::string help;
  };
  const Flag* find_long(const std::string& name) const;
  const Flag* find_short(char c) const;
  static Status set(const Flag& f, const std::string& value);
  std::vector<Flag> flags_;
};

}  // namespace berth::client
