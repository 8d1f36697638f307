// berth-runtime: an OCI runtime with runc's command line.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/runtime_cli.hpp"
#include "common/fs.hpp"
#include "common/trace.hpp"
#include "common/strings.hpp"
#include "runtime/spec_default.hpp"
#include "version.hpp"

namespace berth::cli {

namespace {

const char* kUsage = "berth-runtime [global options] command [command options] [arguments...]";

std::string version_text() {
  return cat("berth-runtime version ", kBerthVersion, "\ncommit: ", kBerthCommit, "\nspec: ", runtime::kOciVersion, "\n");
}

void print_help(FlagSet& globals) {
  std::string out = cat("NAME:\n   berth-runtime - a fast, runc-compatible OCI container runtime\n\nUSAGE:\n   ", kUsage,
                        "\n\nVERSION:\n   ", kBerthVersion,
                        "\n\nDESCRIPTION:\n   berth-runtime creates and runs containers from OCI bundles (a directory\n"
                        "   with config.json and a root filesystem). It takes the same arguments as\n"
                        "   runc and can replace it under containerd, podman and CRI-O.\n\nCOMMANDS:\n");
  size_t width = 0;
  for (const auto& c : runtime_commands()) width = std::max(width, std::string(c.help.name).size());
  for (const auto& c : runtime_commands())
    out += cat("   ", c.help.name, std::string(width - std::string(c.help.name).size() + 3, ' '), c.help.summary, "\n");
  out += cat("   help", std::string(width + 3 - 4, ' '), "show the help of a command\n\nGLOBAL OPTIONS:\n", globals.usage(),
             "\nSee berth-runtime(8).\n");
  std::fputs(out.c_str(), stdout);
}

// Open fds 0-2 onto /dev/null if the caller closed them, so that no file
// berth opens can land on a stdio number and reach a container as its stdio.
void ensure_stdio() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

}  // namespace

const std::vector<CommandEntry>& runtime_commands() {
  static const std::vector<CommandEntry> commands = {
      {{"create", "<container-id>", "create a container",
        "Creates a container from the bundle (default: the current directory) and leaves its\n"
        "   process waiting for `start`. The pid file is written before create returns."},
       cmd_create},
      {{"delete", "<container-id>", "delete any resources held by the container",
        "Deletes a stopped or created container: its cgroup and state. With --force a running\n"
        "   container is killed first, and a container that does not exist is not an error."},
       cmd_delete},
      {{"events", "<container-id>", "display container events such as OOM notifications and resource usage",
        "Prints resource usage of the container's cgroup as JSON (runc's shape), every --interval,\n"
        "   and {\"type\":\"oom\",\"id\":ID} when the OOM killer strikes, until the container stops;\n"
        "   with --stats, one report."},
       cmd_events},
      {{"exec", "<container-id> [command [args...]]", "execute a new process inside the container",
        "Runs a new process in a created or running container's namespaces and cgroup (a paused\n"
        "   one with --ignore-paused; the process then waits for resume). By default it is the\n"
        "   container's own process (env, cwd, user, capabilities, rlimits) with the given command;\n"
        "   --process gives a whole runtime-spec process instead. Exits with the process's status,\n"
        "   or returns at once with --detach. Flags end at the container id."},
       cmd_exec},
      {{"features", "", "show the enabled features",
        "Prints the runtime-spec features document: the OCI versions, hooks, mount options,\n"
        "   namespaces, capabilities, cgroup and seccomp support of this build."},
       cmd_features},
      {{"kill", "<container-id> [signal]", "send a signal to the container's init process (default: SIGTERM)",
        "The signal is a number or a name, with or without SIG, in any case (9, KILL, sigkill).\n"
        "   With --all it goes to every process in the container's cgroup."},
       cmd_kill},
      {{"list", "", "list containers started by berth-runtime with the given root",
        "Lists the containers under --root as a table (ID, PID, STATUS, BUNDLE, CREATED, OWNER),\n"
        "   as JSON, or as ids only."},
       cmd_list},
      {{"pause", "<container-id>", "suspend all processes of the container",
        "Freezes every process of the container (cgroup.freeze) and returns once the kernel\n"
        "   reports the cgroup frozen."},
       cmd_pause},
      {{"ps", "<container-id> [ps options]", "display the processes running in the container",
        "Lists the container's processes: with --format json, their host pids as a JSON array;\n"
        "   otherwise the lines of ps(1) (default options: -ef) that belong to the container."},
       cmd_ps},
      {{"resume", "<container-id>", "resume all processes that were paused",
        "Thaws a paused container."},
       cmd_resume},
      {{"run", "<container-id>", "create and run a container",
        "Creates and starts a container in one step. In the foreground it forwards signals and\n"
        "   the terminal, deletes the container when it exits (unless --keep) and exits with the\n"
        "   status of its process."},
       cmd_run},
      {{"spec", "", "create a new specification file",
        "Writes a starting config.json into the bundle directory; --rootless makes one for a\n"
        "   user without privileges."},
       cmd_spec},
      {{"start", "<container-id>", "executes the user defined process in a created container",
        "Lets a created container's process exec."},
       cmd_start},
      {{"state", "<container-id>", "output the state of a container",
        "Prints the runtime-spec state of a container as JSON."},
       cmd_state},
      {{"update", "<container-id>", "update the resource limits of a container",
        "Merges new limits (--resources FILE with a linux.resources object, or the flags) into\n"
        "   the container's config and writes them into its cgroup."},
       cmd_update},
  };
  return commands;
}

const CommandHelp& command_help(std::string_view name) {
  for (const auto& c : runtime_commands())
    if (name == c.help.name) return c.help;
  std::abort();  // a command asked for a help entry that the table lacks
}

int fail(const Error& err) {
  std::string msg = err.message();
  log::error(msg);
  // With --log the line went to the file; the caller still sees the reason.
  if (log::sink_fd() != 2) (void)write_all(2, cat("berth-runtime: ", msg, "\n"), "stderr");
  return 1;
}

Result<std::optional<std::vector<std::string>>> parse_command(FlagSet& flags, const CommandHelp& help,
                                                              const std::vector<std::string>& args,
                                                              bool stop_at_positional) {
  bool want_help = false;
  auto pos = flags.parse(args, stop_at_positional, &want_help);
  if (!pos) return std::move(pos).error();
  if (want_help) {
    std::string usage = cat("berth-runtime ", help.name, " [command options]", *help.args ? " " : "", help.args);
    std::string out = cat("NAME:\n   berth-runtime ", help.name, " - ", help.summary, "\n\nUSAGE:\n   ", usage,
                          "\n\nDESCRIPTION:\n   ", help.description,
                          "\n\nOPTIONS:\n", flags.usage());
    std::fputs(out.c_str(), stdout);
    return std::optional<std::vector<std::string>>{};
  }
  return std::optional<std::vector<std::string>>(std::move(*pos));
}

Status expect_args(const CommandHelp& help, const std::vector<std::string>& args, size_t min, size_t max) {
  if (args.size() >= min && args.size() <= max) return {};
  std::string usage = cat("usage: berth-runtime ", help.name, " [command options] ", help.args);
  if (min == max) return make_error(quote(help.name), " requires exactly ", min, " argument(s); ", usage);
  if (args.size() < min) return make_error(quote(help.name), " requires at least ", min, " argument(s); ", usage);
  return make_error(quote(help.name), " requires at most ", max, " argument(s); ", usage);
}

Status check_preserved_fds(const GlobalOptions& g, int n) {
  if (n < 0) return make_error("--preserve-fds: must not be negative");
  for (int fd = 3; fd < 3 + n; ++fd)
    if (::fcntl(fd, F_GETFD) < 0 || fd == g.log_fd) return make_error("--preserve-fds: fd ", fd, " is not open");
  return {};
}

int listen_fds() {
  // Socket activation applies only when the fds were passed to this very
  // process (LISTEN_PID), as sd_listen_fds(3) defines it.
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  if (!fds || !pid || parse_int<pid_t>(pid) != ::getpid()) return 0;
  auto n = parse_int<int>(fds);
  return n && *n > 0 ? *n : 0;
}

}  // namespace berth::cli

int main(int argc, char** argv) {
  using namespace berth;
  using namespace berth::cli;
  ensure_stdio();
  trace::init_from_env();
  log::set_program("berth-runtime");
  std::vector<std::string> args(argv + 1, argv + argc);

  GlobalOptions g;
  g.argv = argv;
  bool show_version = false;
  FlagSet globals;
  globals.add_string("root", 0, &g.root, "DIR", "root directory for container state (default: \"/run/berth\")");
  globals.add_string("log", 0, &g.log_path, "FILE", "write log lines to FILE (errors are also printed to stderr)");
  globals.add_string("log-format", 0, &g.log_format, "text|json", "format of log lines (default: \"text\")");
  globals.add_bool("debug", 0, &g.debug, "log debug messages");
  globals.add_bool("systemd-cgroup", 0, &g.systemd_cgroup, "manage cgroups through systemd (not supported)");
  globals.add_string("rootless", 0, &g.rootless, "true|false|auto", "accepted for runc compatibility; berth checks its privileges itself (default: \"auto\")");
  globals.add_bool("version", 'v', &show_version, "print the version");

  bool help = false;
  auto rest = globals.parse(args, true, &help);
  if (!rest) {
    log::configure(2, log::Format::human, log::Level::warning);
    return fail(rest.error());
  }
  if (show_version) {
    std::fputs(cli::version_text().c_str(), stdout);
    return 0;
  }
  if (help || rest->empty()) {
    print_help(globals);
    return rest->empty() && !help ? 1 : 0;
  }
  log::Level level = g.debug ? log::Level::debug : log::Level::warning;
  if (g.log_format == "json") {
    g.format = log::Format::json;
  } else if (g.log_format == "text") {
    g.format = log::Format::text;
  } else {
    log::configure(2, log::Format::human, level);
    return fail(make_error("unknown log-format ", quote(g.log_format), " (expected text or json)"));
  }
  if (!g.log_path.empty()) {
    int fd = ::open(g.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      log::configure(2, log::Format::human, level);
      return fail(sys_error("open log file ", g.log_path));
    }
    g.log_fd = fd;
    log::configure(fd, g.format, level);
  } else {
    log::configure(2, g.format == log::Format::json ? log::Format::json : log::Format::human, level);
  }
  if (g.rootless != "auto" && !parse_go_bool(g.rootless))
    return fail(make_error("invalid value ", quote(g.rootless), " for --rootless (expected true, false or auto)"));
  auto abs_root = absolute_path(g.root);
  if (!abs_root) return fail(abs_root.error());
  g.root = *abs_root;

  std::string name = rest->front();
  std::vector<std::string> cmd_args(rest->begin() + 1, rest->end());
  if (name == "help") {
    if (cmd_args.empty()) {
      print_help(globals);
      return 0;
    }
    name = cmd_args.front();
    cmd_args = {"--help"};
  }
  for (const auto& c : runtime_commands())
    if (name == c.help.name) return c.run(g, cmd_args);
  return fail(make_error("no such command: ", quote(name), "; see berth-runtime --help"));
}
