// cgroup v2 resource limits: the runtime-spec's linux.resources groups as
// plain structs, their validation, the controllers they need, and the writes
// that put them into a cgroup's interface files.
//
// The runtime converts its parsed config into these types; nothing here knows
// about JSON or the runtime. Every write goes through a directory fd of the
// cgroup, so tests point it at a temporary directory of fixture files.
//
// Values follow runc's cgroup v2 conversions (libcontainer/cgroups/fs2 and
// opencontainers/cgroups), and where runc silently drops a cgroup v1-only
// field, berth refuses it as crun does: a requested limit is never a no-op.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace berth::cgroups {

/// linux.resources.memory. Limits are bytes; -1 means "no limit" and 0 means
/// "not set", as in runc.
struct Memory {
  std::optional<int64_t> limit;        // memory.max
  std::optional<int64_t> reservation;  // memory.low
  std::optional<int64_t> swap;         // memory+swap combined, as cgroup v1 took it
  bool check_before_update = false;    // refuse a limit at or below current usage
  // cgroup v1 only; validate() refuses them.
  std::optional<int64_t> kernel, kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> use_hierarchy;
  bool disable_oom_killer = false;
};

/// linux.resources.cpu, cpuset included (cpus, mems).
struct Cpu {
  std::optional<uint64_t> shares;  // cgroup v1 range [2, 262144], 0 = not set
  std::optional<int64_t> quota;    // microseconds per period; -1 = no limit
  std::optional<uint64_t> period;  // microseconds
  std::optional<uint64_t> burst;   // microseconds
  std::optional<int64_t> idle;     // 0 or 1
  std::string cpus, mems;          // "0-3,5"
  // cgroup v1 only; validate() refuses them.
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;  // 0 = not set (runc skips it)
};

/// linux.resources.blockIO.
struct Io {
  std::optional<uint16_t> weight;       // cgroup v1 range [10, 1000], 0 = not set
  std::optional<uint16_t> leaf_weight;  // cgroup v1 only
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps, throttle_write_bps, throttle_read_iops, throttle_write_iops;
};

/// One entry of linux.resources.hugepageLimits.
struct Hugepage {
  std::string page_size;  // "2MB", "1GB", "64KB"
  uint64_t limit = 0;     // bytes
};

/// One device of linux.resources.rdma.
struct Rdma {
  std::optional<uint32_t> hca_handles, hca_objects;
};

/// linux.resources without devices (those go to devices_bpf.hpp). Absent
/// groups and empty lists write nothing.
struct Resources {
  std::optional<Memory> memory;
  std::optional<Cpu> cpu;
  std::optional<int64_t> pids_limit;  // <= 0: no limit
  std::optional<Io> io;
  std::vector<Hugepage> hugepages;
  std::map<std::string, Rdma> rdma;               // device name -> limits
  std::map<std::string, std::string> unified;     // file name -> value
};

// --- conversions (cgroup v1 values in the spec -> cgroup v2 files) ----------

/// cpu.shares [2, 262144] to cpu.weight [1, 10000] with the log-quadratic
/// curve runc (>= 1.3.2) and crun (>= 1.23) use, which maps the v1 default
/// 1024 to the v2 default 100; out-of-range values clamp. 0 stays 0 (not set).
uint64_t cpu_weight_from_shares(uint64_t shares);

/// blkio weight [10, 1000] to io.weight [1, 10000], linearly, as runc and crun
/// do when io.bfq.weight (which takes the v1 range as is) does not exist.
uint64_t io_weight_from_blkio(uint64_t weight);

/// The memory.swap.max value for the spec's memory+swap total: swap minus
/// limit, "max" for -1, "0" when both are equal; nullopt when nothing is to
/// be written. Fails like runc when swap is set without a limit or below it.
Result<std::optional<std::string>> swap_max_value(std::optional<int64_t> swap, std::optional<int64_t> limit);

/// The cpu.max line: "<quota|max> <period>", period defaulting to 100000 as
/// the kernel's; nullopt when neither quota nor period is set.
std::optional<std::string> cpu_max_value(std::optional<int64_t> quota, std::optional<uint64_t> period);

// --- checks ------------------------------------------------------------------

/// The cgroup v2 controllers the set values need, in a stable order:
/// memory, cpu, cpuset, pids, io, hugetlb, rdma, then the prefix of each
/// unified key ("memory.high" -> "memory"); "cgroup.*" keys need none.
std::vector<std::string> controllers_needed(const Resources& r);

/// Refuses what the kernel or runc would refuse, before any cgroup exists,
/// with a message that starts with the field ("linux.resources.cpu.shares:
/// ..."): ranges, negative values, swap below the limit, list and page-size
/// syntax, unified keys, and cgroup v1-only fields.
Status validate(const Resources& r);

/// Fails with `cgroup v2 controller "memory" is not available on this host`
/// for the first controller missing from the hierarchy root's
/// cgroup.controllers.
Status check_available(const std::string& mountpoint, const std::vector<std::string>& controllers);

/// Makes `controllers` usable in the cgroup `rel_path`: writes "+name" into
/// cgroup.subtree_control of every cgroup from the hierarchy root down to
/// rel_path's parent, only where a controller is not enabled yet (so a shared
/// parent is never rewritten). Checks availability first.
Status enable_controllers(const std::string& mountpoint, const std::string& rel_path,
                          const std::vector<std::string>& controllers);

/// Per-controller parts of validate(), each in its controller's file.
Status validate_memory(const Memory& m);
Status validate_cpu(const Cpu& c);
Status validate_cpuset(const Cpu& c);
Status validate_io(const Io& io);
Status validate_hugetlb(const std::vector<Hugepage>& pages);
Status validate_rdma(const std::map<std::string, Rdma>& rdma);
Status validate_unified(const std::map<std::string, std::string>& unified);

/// True for a kernel id list as cpuset.cpus and cpuset.mems take it:
/// "0-3,5,7-8" (ascending ranges, no blanks, no empty items).
bool valid_id_list(std::string_view list);

// --- writes --------------------------------------------------------------------

/// Writes one value into an existing file of the cgroup. The error names the
/// file and the value: `write memory.max "1048576": Device or resource busy`.
Status write_cgroup_file(int dirfd, const std::string& name, std::string_view value);

/// Writes several lines into one file through a single open file, one write(2)
/// each, because files like io.max and rdma.max parse one entry per write.
Status write_cgroup_lines(int dirfd, const std::string& name, const std::vector<std::string>& lines);

/// memory.swap.max, memory.max, memory.low (in runc's order, swap first so a
/// lowered limit never trips over the old swap setting).
Status apply_memory(int dirfd, const Memory& m);
/// cpu.idle, cpu.weight, cpu.max.burst, cpu.max.
Status apply_cpu(int dirfd, const Cpu& c);
/// cpuset.cpus, cpuset.mems.
Status apply_cpuset(int dirfd, const Cpu& c);
/// pids.max.
Status apply_pids(int dirfd, int64_t limit);
/// io.bfq.weight or io.weight, and one io.max line per throttled device.
Status apply_io(int dirfd, const Io& io);
/// hugetlb.<size>.max (and .rsvd.max where the kernel has it).
Status apply_hugetlb(int dirfd, const std::vector<Hugepage>& pages);
/// One rdma.max line per device.
Status apply_rdma(int dirfd, const std::map<std::string, Rdma>& rdma);
/// The unified map, after the typed groups so that it can override them;
/// each key must name an existing file of the cgroup.
Status apply_unified(int dirfd, const std::map<std::string, std::string>& unified);

/// Writes every set value into the cgroup open at `cgroup_dirfd`, controller
/// by controller in runc's order (pids, memory, io, cpu, cpuset, hugetlb,
/// rdma, unified). Call validate() first; apply() does not repeat its checks.
Status apply(int cgroup_dirfd, const Resources& r);

}  // namespace berth::cgroups
