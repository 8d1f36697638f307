#include <sys/prctl.h>

#include "common/log.hpp"
#include "common/trace.hpp"
#include "common/unix_socket.hpp"
#include "runtime/container_internal.hpp"
#include "runtime/supervise.hpp"

namespace berth::runtime {

Result<int> run_container(const RunOptions& opts) {
  bool foreground = !opts.detach;
  // The init may be forked by an intermediate process; as subreaper the
  // runtime adopts it and can collect its exit status.
  if (foreground && !opts.no_subreaper && ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    return sys_error("become child subreaper");
  auto prepared = prepare_container(opts, StartMode::sync_socket, foreground && opts.console_socket.empty());
  if (!prepared) return std::move(prepared).error();
  auto& c = **prepared;
  if (!opts.pid_file.empty()) BERTH_TRY(write_pid_file(opts.pid_file, c.init.pid));
  {
    trace::Phase state("state");
    BERTH_TRY_CTX(c.state_dir.save(c.state), "save container state");
  }
  BERTH_TRY(start_init(c.init));
  if (auto spec = saved_spec(c.state_dir)) run_poststart_hooks(*spec, c.state);
  pid_t pid = c.init.pid;
  UniqueFd pidfd = std::move(c.init.pidfd);
  UniqueFd console_peer = std::move(c.console_peer);
  ContainerState state = c.state;
  c.commit();
  // Drop the lock: `kill` and `delete` from elsewhere must work while we wait.
  prepared->reset();
  if (!foreground) return 0;

  UniqueFd master;
  if (console_peer) {
    auto fd = recv_fd(console_peer.get(), nullptr);
    if (!fd) return std::move(fd).error().wrap("receive pty master");
    master = std::move(*fd);
  }
  trace::Phase wait_exit("wait_exit");
  auto code = supervise(pid, pidfd.get(), master.get());
  wait_exit.end();
  if (!code) return code;
  trace::Phase cleanup("delete");
  if (!opts.keep) {
    // Someone may have deleted it meanwhile; that is fine.
    if (auto dir = StateDir::open(opts.root, opts.id)) {
      if (auto st = destroy_container(*dir, state); !st) log::warn(st.error().message());
    }
  }
  return code;
}

}  // namespace berth::runtime
