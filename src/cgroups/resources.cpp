// The dispatcher of resources.hpp: which controllers a config needs, turning
// them on down the hierarchy, and applying every group through one dirfd.
// The per-controller conversions and writes live in memory.cpp, cpu.cpp, ...
#include "cgroups/resources.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

bool nonzero(const std::optional<int64_t>& v) { return v && *v != 0; }
bool nonzero(const std::optional<uint64_t>& v) { return v && *v != 0; }
bool nonzero(const std::optional<uint16_t>& v) { return v && *v != 0; }

// These predicates mirror what apply_*() would write, so that a controller is
// asked for exactly when one of its files is going to be touched.
bool memory_set(const Memory& m) { return nonzero(m.limit) || nonzero(m.reservation) || nonzero(m.swap); }

bool cpu_set(const Cpu& c) {
  return nonzero(c.shares) || nonzero(c.quota) || nonzero(c.period) || c.burst || c.idle;
}

bool cpuset_set(const Cpu& c) { return !c.cpus.empty() || !c.mems.empty(); }

bool io_set(const Io& io) {
  auto throttled = [](const std::vector<ThrottleDevice>& list) {
    return std::any_of(list.begin(), list.end(), [](const ThrottleDevice& d) { return d.rate != 0; });
  };
  bool device_weight = std::any_of(io.weight_device.begin(), io.weight_device.end(),
                                   [](const WeightDevice& d) { return nonzero(d.weight); });
  return nonzero(io.weight) || device_weight || throttled(io.throttle_read_bps) || throttled(io.throttle_write_bps) ||
         throttled(io.throttle_read_iops) || throttled(io.throttle_write_iops);
}

bool rdma_set(const std::map<std::string, Rdma>& rdma) {
  return std::any_of(rdma.begin(), rdma.end(), [](const auto& kv) { return kv.second.hca_handles || kv.second.hca_objects; });
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

Error write_error(int err, const std::string& name, std::string_view value) {
  return Error(err, cat("write ", name, " ", quote(value)));
}

}  // namespace

Status write_cgroup_file(int dirfd, const std::string& name, std::string_view value) {
  // O_TRUNC keeps fixture files exact; cgroupfs ignores it.
  UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return write_error(errno, name, value);
  while (!value.empty()) {
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return write_error(errno, name, value);
    }
    value.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status write_cgroup_lines(int dirfd, const std::string& name, const std::vector<std::string>& lines) {
  if (lines.empty()) return {};
  UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return write_error(errno, name, lines.front());
  for (const auto& line : lines) {
    std::string data = line + "\n";
    // One write(2) per entry: the kernel parses each write as one entry, so a
    // short write would split an entry; treat it as the error it would cause.
    ssize_t n;
    do {
      n = ::write(fd.get(), data.data(), data.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return write_error(errno, name, line);
    if (static_cast<size_t>(n) != data.size()) return write_error(EIO, name, line);
  }
  return {};
}

std::vector<std::string> controllers_needed(const Resources& r) {
  std::vector<std::string> out;
  auto add = [&](const std::string& c) {
    if (!contains(out, c)) out.push_back(c);
  };
  if (r.memory && memory_set(*r.memory)) add("memory");
  if (r.cpu && cpu_set(*r.cpu)) add("cpu");
  if (r.cpu && cpuset_set(*r.cpu)) add("cpuset");
  if (r.pids_limit) add("pids");
  if (r.io && io_set(*r.io)) add("io");
  if (!r.hugepages.empty()) add("hugetlb");
  if (rdma_set(r.rdma)) add("rdma");
  for (const auto& [key, value] : r.unified) {
    auto dot = key.find('.');
    if (dot == std::string::npos || dot == 0 || value.empty()) continue;
    std::string prefix = key.substr(0, dot);
    // cgroup.* files belong to the core, which every cgroup has.
    if (prefix != "cgroup") add(prefix);
  }
  return out;
}

Status validate(const Resources& r) {
  if (r.memory) BERTH_TRY(validate_memory(*r.memory));
  if (r.cpu) {
    BERTH_TRY(validate_cpu(*r.cpu));
    BERTH_TRY(validate_cpuset(*r.cpu));
  }
  if (r.io) BERTH_TRY(validate_io(*r.io));
  BERTH_TRY(validate_hugetlb(r.hugepages));
  BERTH_TRY(validate_rdma(r.rdma));
  BERTH_TRY(validate_unified(r.unified));
  return {};
}

Status check_available(const std::string& mountpoint, const std::vector<std::string>& controllers) {
  if (controllers.empty()) return {};
  auto text = read_file(mountpoint + "/cgroup.controllers");
  if (!text) return std::move(text).error().wrap("read cgroup v2 controllers");
  auto available = words(*text);
  for (const auto& c : controllers)
    if (!contains(available, c))
      return make_error("cgroup v2 controller ", quote(c), " is not available on this host");
  return {};
}

Status enable_controllers(const std::string& mountpoint, const std::string& rel_path,
                          const std::vector<std::string>& controllers) {
  if (controllers.empty()) return {};
  BERTH_TRY(check_available(mountpoint, controllers));
  std::vector<std::string> parts;
  for (auto& p : split(clean_path("/" + rel_path), '/'))
    if (!p.empty()) parts.push_back(std::move(p));
  // A controller can be enabled in a cgroup's subtree_control only once its
  // parent enabled it, so walk top-down; the cgroup itself needs nothing.
  std::string dir = mountpoint;
  for (size_t level = 0; level < parts.size(); ++level) {
    if (level > 0) dir += "/" + parts[level - 1];
    std::string file = dir + "/cgroup.subtree_control";
    auto current = read_file(file);
    if (!current) return std::move(current).error();
    auto enabled = words(*current);
    std::vector<std::string> add;
    for (const auto& c : controllers)
      if (!contains(enabled, c)) add.push_back("+" + c);
    if (add.empty()) continue;
    std::string value = join(add, " ");
    if (auto st = write_file(file, value); !st) {
      int err = st.error().code();
      // "No internal processes": a non-root cgroup that holds processes
      // cannot hand controllers to its children.
      std::string why = err == EBUSY ? " (the cgroup has processes of its own)" : "";
      return Error(err, cat("write ", file, " ", quote(value), why));
    }
  }
  return {};
}

Status apply(int cgroup_dirfd, const Resources& r) {
  if (r.pids_limit) BERTH_TRY(apply_pids(cgroup_dirfd, *r.pids_limit));
  if (r.memory) BERTH_TRY(apply_memory(cgroup_dirfd, *r.memory));
  if (r.io) BERTH_TRY(apply_io(cgroup_dirfd, *r.io));
  if (r.cpu) {
    BERTH_TRY(apply_cpu(cgroup_dirfd, *r.cpu));
    BERTH_TRY(apply_cpuset(cgroup_dirfd, *r.cpu));
  }
  BERTH_TRY(apply_hugetlb(cgroup_dirfd, r.hugepages));
  BERTH_TRY(apply_rdma(cgroup_dirfd, r.rdma));
  BERTH_TRY(apply_unified(cgroup_dirfd, r.unified));
  return {};
}

}  // namespace berth::cgroups
