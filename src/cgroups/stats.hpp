// Resource usage of a cgroup v2 cgroup, read from its interface files, and
// rendered as runc's `events --stats` JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace berth::cgroups {

/// "max" in a cgroup file (no limit).
inline constexpr uint64_t kUnlimited = UINT64_MAX;

/// cpu.stat; times in microseconds, as the kernel reports them.
struct CpuStats {
  uint64_t usage_usec = 0, user_usec = 0, system_usec = 0;
  uint64_t nr_periods = 0, nr_throttled = 0, throttled_usec = 0;
};

/// memory.*; sizes in bytes, limits kUnlimited for "max".
struct MemoryStats {
  uint64_t current = 0, max = 0, peak = 0;
  uint64_t swap_current = 0, swap_max = 0;
  std::map<std::string, uint64_t> stat;  // memory.stat, as is
  uint64_t oom = 0, oom_kill = 0;        // memory.events
};

/// pids.current and pids.max (kUnlimited for "max").
struct PidsStats {
  uint64_t current = 0, max = 0;
};

/// One device line of io.stat.
struct IoDeviceStats {
  uint64_t major = 0, minor = 0;
  uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0;
};

/// hugetlb.<size>.current, .max and the "max" count of .events (allocations
/// that failed at the limit).
struct HugetlbStats {
  uint64_t current = 0, max = 0, failcnt = 0;
};

/// Groups stay unset when none of their files exist (controller not enabled).
struct Stats {
  std::optional<CpuStats> cpu;
  std::optional<MemoryStats> memory;
  std::optional<PidsStats> pids;
  std::vector<IoDeviceStats> io;                // io.stat order
  std::map<std::string, HugetlbStats> hugetlb;  // page size ("2MB") -> stats
};

/// The number after `key` in a flat-keyed cgroup file ("key value" lines,
/// like cgroup.events or memory.events); nullopt if the key is absent.
std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key);

/// Reads every stats file the cgroup open at `cgroup_dirfd` has. A missing
/// file is not an error (its controller is just not enabled); unreadable or
/// malformed content is, naming the file. Without pids.current, the number of
/// processes is counted from cgroup.procs, as runc does.
Result<Stats> read_stats(int cgroup_dirfd);

/// One line of `runc events --stats`:
/// {"type":"stats","id":ID,"data":{"cpu":..,"cpuset":..,"memory":..,"pids":..,
/// "blkio":..,"hugetlb":..,"intel_rdt":{},"network_interfaces":null}}, with
/// runc's field names, its omitted zero fields, CPU times in nanoseconds and
/// cgroup v1-style memory+swap totals, and (berth's addition) memory.events'
/// oom and oom_kill counts under memory.events when not zero. Empty only if
/// memory runs out.
std::string stats_json(const std::string& id, const Stats& stats);

}  // namespace berth::cgroups
