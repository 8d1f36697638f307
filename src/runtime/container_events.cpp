#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "cgroups/stats.hpp"
#include "common/fs.hpp"
#include "common/json_escape.hpp"
#include "common/process.hpp"
#include "runtime/container_internal.hpp"

namespace berth::runtime {

namespace {

struct Open {
  ContainerState state;
  UniqueFd cgroup;
};

Result<Open> open_container(const std::string& root, const std::string& id) {
  auto st = read_state(root, id);
  if (!st) return std::move(st).error();
  if (read_status(root, *st) == ContainerStatus::stopped) return make_error("container not running");
  auto cg = open_file(st->cgroup_mount + st->cgroup_path, O_RDONLY | O_DIRECTORY);
  if (!cg) return std::move(cg).error().wrap("open the container's cgroup");
  return Open{std::move(*st), std::move(*cg)};
}

Result<std::string> stats_of(const Open& c) {
  auto stats = cgroups::read_stats(c.cgroup.get());
  if (!stats) return std::move(stats).error();
  return cgroups::stats_json(c.state.id, *stats);
}

// Reads memory.events through the fd that is polled: kernfs re-arms its
// change notification for the open file that was read.
uint64_t oom_kills(int events_fd) {
  if (events_fd < 0) return 0;
  char buf[512];
  ssize_t n = ::pread(events_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  return cgroups::keyed_value(std::string_view(buf, static_cast<size_t>(n)), "oom_kill").value_or(0);
}

}  // namespace

Result<std::string> container_stats(const std::string& root, const std::string& id) {
  auto c = open_container(root, id);
  if (!c) return std::move(c).error();
  return stats_of(*c);
}

Status container_events(const std::string& root, const std::string& id, int interval_ms,
                        const std::function<void(const std::string&)>& emit) {
  auto c = open_container(root, id);
  if (!c) return std::move(c).error();
  auto init = open_pidfd(c->state.pid, c->state.pid_start_time);
  if (!init) return make_error("container not running");
  // memory.events signals every change with POLLPRI, like cgroup.events.
  UniqueFd events(::openat(c->cgroup.get(), "memory.events", O_RDONLY | O_CLOEXEC));
  uint64_t kills = oom_kills(events.get());
  for (;;) {
    auto stats = stats_of(*c);
    if (!stats) return std::move(stats).error();
    emit(*stats);
    // Wait for the interval, an OOM kill, or the end of the container.
    long deadline = interval_ms;
    while (deadline > 0) {
      pollfd fds[2] = {{init->get(), POLLIN, 0}, {events ? events.get() : -1, POLLPRI, 0}};
      timespec t0{}, t1{};
      clock_gettime(CLOCK_MONOTONIC, &t0);
      int r = ::poll(fds, 2, static_cast<int>(deadline));
      if (r < 0 && errno != EINTR) return sys_error("poll container events");
      if (fds[0].revents & POLLIN) return {};
      if (fds[1].revents & (POLLPRI | POLLERR)) {
        uint64_t now = oom_kills(events.get());
        for (; kills < now; ++kills) emit(cat("{\"type\":\"oom\",\"id\":", json_quote(id), "}"));
      }
      clock_gettime(CLOCK_MONOTONIC, &t1);
      deadline -= (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    }
  }
}

}  // namespace berth::runtime
