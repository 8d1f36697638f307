// memory controller: memory.max, memory.low, memory.swap.max.
//
// The spec states swap as memory+swap combined (cgroup v1's memsw), while
// cgroup v2 limits swap alone, so the limit is subtracted, as runc does.
#include <cstdint>

#include "cgroups/resources.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

constexpr const char* kField = "linux.resources.memory.";

// -1 is cgroup v1's way of saying "no limit"; v2 spells it "max".
std::string bytes_value(int64_t v) { return v == -1 ? std::string("max") : cat(v); }

Status check_limit_value(const char* name, const std::optional<int64_t>& v) {
  if (v && *v < -1) return make_error(kField, name, ": invalid value ", *v, " (want bytes, or -1 for no limit)");
  return {};
}

// memory.check_before_update: a limit at or below what the cgroup already
// uses would make the kernel reclaim or OOM-kill right away.
Status check_usage(int dirfd, const Memory& m) {
  auto text = read_file_at(dirfd, "memory.current");
  if (!text) return {};  // best effort, like runc: no usage, no check
  auto usage = parse_int<uint64_t>(trim(*text));
  if (!usage) return {};
  if (m.swap && *m.swap > 0 && static_cast<uint64_t>(*m.swap) <= *usage)
    return make_error(kField, "swap: memory+swap limit ", *m.swap, " is not above the current usage ", *usage);
  if (m.limit && *m.limit > 0 && static_cast<uint64_t>(*m.limit) <= *usage)
    return make_error(kField, "limit: memory limit ", *m.limit, " is not above the current usage ", *usage);
  return {};
}

}  // namespace

Result<std::optional<std::string>> swap_max_value(std::optional<int64_t> swap_opt, std::optional<int64_t> limit_opt) {
  int64_t swap = swap_opt.value_or(0);
  int64_t limit = limit_opt.value_or(0);
  using Value = std::optional<std::string>;
  // An unlimited memory limit with no swap setting lifts both, as cgroup v1's
  // memsw did when only the memory limit was removed.
  if (limit == -1 && swap == 0) return Value("max");
  if (swap == -1) return Value("max");
  if (swap == 0) return Value();
  if (limit == -1) return Value(cat(swap));
  if (limit == 0)
    return make_error(kField, "swap: a memory+swap limit (", swap, ") needs a memory limit");
  if (limit < 0) return make_error(kField, "limit: invalid value ", limit);
  if (swap < limit)
    return make_error(kField, "swap: memory+swap limit (", swap, ") must be at least the memory limit (", limit, ")");
  // Equal values mean "no swap at all": write 0, never leave it unset.
  return Value(cat(swap - limit));
}

Status validate_memory(const Memory& m) {
  BERTH_TRY(check_limit_value("limit", m.limit));
  BERTH_TRY(check_limit_value("reservation", m.reservation));
  BERTH_TRY(check_limit_value("swap", m.swap));
  if (auto sw = swap_max_value(m.swap, m.limit); !sw) return std::move(sw).error();
  // crun refuses these on cgroup v2 rather than dropping them as runc does:
  // the limit the user asked for would silently not exist.
  if (m.kernel) return make_error(kField, "kernel: kernel memory limits do not exist in cgroup v2");
  if (m.kernel_tcp) return make_error(kField, "kernelTCP: kernel TCP memory limits do not exist in cgroup v2");
  if (m.swappiness) return make_error(kField, "swappiness: cgroup v2 has no per-cgroup swappiness");
  if (m.disable_oom_killer) return make_error(kField, "disableOOMKiller: the OOM killer cannot be disabled in cgroup v2");
  if (m.use_hierarchy && !*m.use_hierarchy)
    return make_error(kField, "useHierarchy: cgroup v2 is always hierarchical");
  return {};
}

Status apply_memory(int dirfd, const Memory& m) {
  if (m.check_before_update) BERTH_TRY(check_usage(dirfd, m));
  auto swap = swap_max_value(m.swap, m.limit);
  if (!swap) return std::move(swap).error();
  if (*swap) {
    auto st = write_cgroup_file(dirfd, "memory.swap.max", **swap);
    // Without swap accounting the file does not exist; "max" and "0" then
    // already hold, so only a real swap limit is an error (runc does the same).
    bool trivial = **swap == "max" || **swap == "0";
    if (!st && !(st.error().code() == ENOENT && trivial)) return st;
  }
  if (m.limit && *m.limit != 0) BERTH_TRY(write_cgroup_file(dirfd, "memory.max", bytes_value(*m.limit)));
  if (m.reservation && *m.reservation != 0)
    BERTH_TRY(write_cgroup_file(dirfd, "memory.low", bytes_value(*m.reservation)));
  return {};
}

}  // namespace berth::cgroups
