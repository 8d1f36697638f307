#include "cgroups/freezer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <ctime>
#include <string_view>

#include "cgroups/resources.hpp"
#include "cgroups/stats.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

namespace berth::cgroups {

namespace {

long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Waits for cgroup.events to say "frozen <want>".
Status wait_frozen(int dirfd, bool want, int timeout_ms) {
  UniqueFd events(::openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!events) return sys_error("open cgroup.events");
  long deadline = now_ms() + timeout_ms;
  for (;;) {
    // pread from 0 re-reads the whole file and re-arms kernfs' notification.
    char buf[512];
    ssize_t n = ::pread(events.get(), buf, sizeof buf, 0);
    if (n < 0) return sys_error("read cgroup.events");
    auto frozen = keyed_value(std::string_view(buf, static_cast<size_t>(n)), "frozen");
    // Without the key the kernel cannot report it; the write was all we had.
    if (!frozen || (*frozen != 0) == want) return {};
    long left = deadline - now_ms();
    if (left <= 0)
      return Error(ETIMEDOUT, cat("cgroup did not become ", want ? "frozen" : "thawed", " within ", timeout_ms, " ms"));
    // A change of "frozen" is signalled as POLLPRI on the events file.
    pollfd p{events.get(), POLLPRI, 0};
    if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) return sys_error("poll cgroup.events");
  }
}

}  // namespace

Status set_frozen(int cgroup_dirfd, bool frozen, int timeout_ms) {
  if (auto st = write_cgroup_file(cgroup_dirfd, "cgroup.freeze", frozen ? "1" : "0"); !st) {
    if (st.error().code() != ENOENT) return st;
    // Without the v2 freezer (Linux < 5.2) nothing can be frozen, so there
    // is nothing to thaw either.
    if (!frozen) return {};
    return Error(ENOENT, "freeze cgroup: cgroup.freeze does not exist (the cgroup v2 freezer needs Linux 5.2)");
  }
  auto st = wait_frozen(cgroup_dirfd, frozen, timeout_ms);
  if (!st && frozen) (void)write_cgroup_file(cgroup_dirfd, "cgroup.freeze", "0");
  return st;
}

Result<bool> is_frozen(int cgroup_dirfd) {
  auto events = read_file_at(cgroup_dirfd, "cgroup.events");
  if (events) {
    if (auto v = keyed_value(*events, "frozen")) return *v != 0;
  } else if (events.error().code() != ENOENT) {
    return std::move(events).error();
  }
  auto freeze = read_file_at(cgroup_dirfd, "cgroup.freeze");
  if (!freeze) {
    if (freeze.error().code() == ENOENT) return false;
    return std::move(freeze).error();
  }
  return trim(*freeze) == "1";
}

Result<uint64_t> oom_kill_count(int cgroup_dirfd) {
  auto text = read_file_at(cgroup_dirfd, "memory.events");
  if (!text) {
    if (text.error().code() == ENOENT) return uint64_t{0};
    return std::move(text).error();
  }
  return keyed_value(*text, "oom_kill").value_or(0);
}

}  // namespace berth::cgroups
