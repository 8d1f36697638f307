#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "common/process.hpp"
#include "runtime/container_internal.hpp"

namespace berth::runtime {

Status start_container(const std::string& root, const std::string& id) {
  auto dir = StateDir::open(root, id);
  if (!dir) return std::move(dir).error();
  auto st = dir->load();
  if (!st) return std::move(st).error();
  switch (dir->status(*st)) {
    case ContainerStatus::created: break;
    case ContainerStatus::stopped: return make_error("cannot start a container that has stopped");
    case ContainerStatus::running: return make_error("cannot start an already running container");
    default: return make_error("cannot start a container in the ", status_name(dir->status(*st)), " state");
  }
  auto pidfd = open_pidfd(st->pid, st->pid_start_time);
  if (!pidfd) return make_error("cannot start a container that has stopped");
  // Non-blocking open of the read side never waits; the init, blocked in
  // its open of the write side, wakes up and writes one byte.
  UniqueFd fifo(::openat(dir->fd(), "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (!fifo) return sys_error("open exec fifo");
  pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd->get(), POLLIN, 0}};
  for (;;) {
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_error("wait for container init");
    if (fds[0].revents & POLLIN) {
      char byte;
      ssize_t n = ::read(fifo.get(), &byte, 1);
      if (n == 1) break;
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    }
    if (fds[1].revents & POLLIN) return make_error("cannot start a container that has stopped");
  }
  if (::unlinkat(dir->fd(), "exec.fifo", 0) < 0) return sys_error("remove exec fifo");
  if (auto spec = saved_spec(*dir)) run_poststart_hooks(*spec, *st);
  return {};
}

}  // namespace berth::runtime
