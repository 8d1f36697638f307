// berth-runtime's command line: global options, one function per command
// (cmd_<verb>.cpp), and the helpers they share. Only this layer prints and
// picks exit codes.
#pragma once

#include <string>
#include <vector>

#include "cli/flags.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace berth::cli {

struct GlobalOptions {
  char* const* argv = nullptr;  // berth-runtime's own argv
  std::string root = "/run/berth";
  std::string log_path;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  std::string rootless = "auto";
  int log_fd = -1;  // the --log file, or -1
  log::Format format = log::Format::text;
};

struct CommandHelp {
  const char* name;
  const char* args;         // "<container-id>"
  const char* summary;      // one line for the command list
  const char* description;  // a paragraph for `<cmd> --help`
};

using CommandFn = int (*)(const GlobalOptions&, const std::vector<std::string>&);

struct CommandEntry {
  CommandHelp help;
  CommandFn run;
};

/// Every command, in the order `--help` lists them.
const std::vector<CommandEntry>& runtime_commands();
/// The help entry of one command.
const CommandHelp& command_help(std::string_view name);

/// Reports an error the way runc does (log sink, plus stderr when the log
/// goes elsewhere) and returns exit code 1.
int fail(const Error& err);

/// Parses a command's flags. Returns nullopt after printing help (the caller
/// returns 0) and an Error for bad flags.
Result<std::optional<std::vector<std::string>>> parse_command(FlagSet& flags, const CommandHelp& help,
                                                              const std::vector<std::string>& args,
                                                              bool stop_at_positional = false);

/// `"create" requires exactly 1 argument(s)`-style checks.
Status expect_args(const CommandHelp& help, const std::vector<std::string>& args, size_t min, size_t max);

/// Checks that fds 3 .. 3+n-1 are open and are not berth's own log file,
/// so nothing of berth's is ever passed into a container by mistake.
Status check_preserved_fds(const GlobalOptions& g, int n);

/// The number of socket-activation fds (LISTEN_FDS, when LISTEN_PID is this
/// process), which runc-style runtimes pass on like --preserve-fds.
int listen_fds();

int cmd_create(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_start(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_run(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_state(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_list(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_kill(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_exec(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_pause(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_resume(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_ps(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_events(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_update(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_features(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_delete(const GlobalOptions& g, const std::vector<std::string>& args);
int cmd_spec(const GlobalOptions& g, const std::vector<std::string>& args);

}  // namespace berth::cli
