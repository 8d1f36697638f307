#include <signal.h>

#include "cli/runtime_cli.hpp"
#include "common/fs.hpp"
#include "common/trace.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

namespace {

// Flags shared by create and run.
struct CreateFlags {
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  std::string pidfd_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;

  void define(FlagSet& f) {
    f.add_string("bundle", 'b', &bundle, "DIR", "path to the root of the bundle directory (default: current directory)");
    f.add_string("pid-file", 0, &pid_file, "FILE", "write the process id of the container's init to FILE");
    f.add_string("console-socket", 0, &console_socket, "PATH",
                 "unix socket that receives the pty master as SCM_RIGHTS (with process.terminal)");
    f.add_string("pidfd-socket", 0, &pidfd_socket, "PATH", "unix socket that receives a pidfd of the container's init");
    f.add_bool("no-pivot", 0, &no_pivot, "do not use pivot_root (MS_MOVE + chroot; for ramdisk roots only)");
    f.add_bool("no-new-keyring", 0, &no_new_keyring, "do not create a new session keyring for the container");
    f.add_int("preserve-fds", 0, &preserve_fds, "N", "pass N additional fds (3 .. 3+N-1) to the container");
  }
};

Result<runtime::RunOptions> make_options(const GlobalOptions& g, const CreateFlags& f, const std::string& id) {
  if (g.systemd_cgroup) return make_error("not supported: --systemd-cgroup (berth manages cgroup v2 directly)");
  BERTH_TRY(check_preserved_fds(g, f.preserve_fds + listen_fds()));
  runtime::RunOptions o;
  o.root = g.root;
  o.id = id;
  auto bundle = absolute_path(f.bundle);
  if (!bundle) return std::move(bundle).error();
  o.bundle = *bundle;
  if (!f.pid_file.empty()) {
    auto p = absolute_path(f.pid_file);
    if (!p) return std::move(p).error();
    o.pid_file = *p;
  }
  for (auto [from, to] : {std::pair{&f.console_socket, &o.console_socket}, std::pair{&f.pidfd_socket, &o.pidfd_socket}}) {
    if (from->empty()) continue;
    auto p = absolute_path(*from);
    if (!p) return std::move(p).error();
    *to = *p;
  }
  o.no_pivot = f.no_pivot;
  o.no_new_keyring = f.no_new_keyring;
  o.preserve_fds = f.preserve_fds + listen_fds();
  // Socket activation: the passed sockets are fds 3.. for the container's
  // init too, so it is told so, as systemd would (pid 1 in its namespace).
  if (listen_fds() > 0) o.extra_env = {cat("LISTEN_FDS=", listen_fds()), "LISTEN_PID=1"};
  o.log_fd = g.log_fd;
  o.log_format = g.format;
  return o;
}

}  // namespace

int cmd_create(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("create");
  CreateFlags f;
  FlagSet flags;
  f.define(flags);
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 1); !st) return fail(st.error());
  const std::string& id = (**pos)[0];
  auto opts = make_options(g, f, id);
  if (!opts) return fail(std::move(opts).error().wrap(cat("create container ", id)));
  if (auto st = runtime::create_container(*opts); !st) return fail(std::move(st).error().wrap(cat("create container ", id)));
  trace::flush(id, "create");
  return 0;
}

int cmd_run(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("run");
  CreateFlags f;
  bool detach = false, keep = false, no_subreaper = false;
  FlagSet flags;
  f.define(flags);
  flags.add_bool("detach", 'd', &detach, "detach from the container's process");
  flags.add_bool("keep", 0, &keep, "keep the container's state after it exits (foreground only)");
  flags.add_bool("no-subreaper", 0, &no_subreaper, "do not become the subreaper of the container's processes");
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 1); !st) return fail(st.error());
  const std::string& id = (**pos)[0];
  if (detach && keep) return fail(make_error("run: --keep cannot be used with --detach"));
  auto opts = make_options(g, f, id);
  if (!opts) return fail(std::move(opts).error().wrap(cat("run container ", id)));
  opts->detach = detach;
  opts->keep = keep;
  opts->no_subreaper = no_subreaper;
  auto code = runtime::run_container(*opts);
  if (!code) return fail(std::move(code).error().wrap(cat("run container ", id)));
  trace::flush(id, "run");
  return *code;
}

}  // namespace berth::cli
