#include "cli/runtime_cli.hpp"
#include "common/fs.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

int cmd_exec(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("exec");
  runtime::ExecOptions o;
  FlagSet flags;
  flags.add_string("process", 'p', &o.process_file, "FILE", "a runtime-spec process JSON to run (\"-\": stdin)");
  flags.add_list("env", 'e', &o.env, "NAME=value", "set an environment variable (may be repeated)");
  flags.add_string("cwd", 0, &o.cwd, "DIR", "working directory inside the container");
  flags.add_string("user", 'u', &o.user, "UID[:GID]", "run as this user id (and group id)");
  flags.add_list("additional-gids", 'g', &o.additional_gids, "GID", "an additional group id (may be repeated)");
  flags.add_list("cap", 'c', &o.caps, "CAP", "add a capability to every set (may be repeated)");
  flags.add_bool("no-new-privs", 0, &o.no_new_privs, "set no_new_privs for the process");
  flags.add_bool("tty", 't', &o.tty, "allocate a pseudo-terminal");
  flags.add_string("console-socket", 0, &o.console_socket, "PATH", "unix socket that receives the pty master");
  flags.add_string("pidfd-socket", 0, &o.pidfd_socket, "PATH", "unix socket that receives a pidfd of the process");
  flags.add_bool("detach", 'd', &o.detach, "return once the process runs");
  flags.add_string("pid-file", 0, &o.pid_file, "FILE", "write the process id to FILE");
  flags.add_int("preserve-fds", 0, &o.preserve_fds, "N", "pass N additional fds (3 .. 3+N-1) to the process");
  flags.add_string("process-label", 0, &o.process_label, "LABEL", "SELinux label of the process (not supported)");
  flags.add_string("apparmor", 0, &o.apparmor, "PROFILE", "AppArmor profile of the process (not supported)");
  flags.add_bool("ignore-paused", 0, &o.ignore_paused, "exec even if the container is paused");
  // Everything after the container id is the command, flags included.
  auto pos = parse_command(flags, help, args, true);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, ~size_t{0}); !st) return fail(st.error());
  o.root = g.root;
  o.self_argv = g.argv;
  o.id = (**pos)[0];
  o.args.assign((**pos).begin() + 1, (**pos).end());
  if (!o.process_file.empty() && !o.args.empty())
    return fail(make_error("exec: give either --process or a command, not both"));
  if (auto st = check_preserved_fds(g, o.preserve_fds); !st) return fail(st.error());
  for (std::string* path : {&o.pid_file, &o.console_socket, &o.pidfd_socket}) {
    if (path->empty()) continue;
    auto abs = absolute_path(*path);
    if (!abs) return fail(abs.error());
    *path = *abs;
  }
  auto code = runtime::exec_container(o);
  if (!code) return fail(std::move(code).error().wrap(cat("exec in container ", o.id)));
  return *code;
}

}  // namespace berth::cli
