#include "runtime/sched.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <string_view>

#include "common/strings.hpp"

namespace berth::runtime {

namespace {

struct NamedValue {
  std::string_view name;
  uint64_t value;
};

// Linux's values (include/uapi/linux/sched.h); SCHED_ISO is reserved and
// refused by the kernel, so it is refused here with a clear message.
constexpr NamedValue kPolicies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

constexpr NamedValue kSchedFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},     {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

constexpr NamedValue kIoClasses[] = {
    {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3},
};

// The kernel's struct sched_attr, version 0 (48 bytes: no utilization clamps,
// for which the runtime-spec has no values).
struct KernelSchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

}  // namespace

Result<SchedAttr> make_sched_attr(const Scheduler& s) {
  SchedAttr a;
  const NamedValue* policy = nullptr;
  for (const auto& p : kPolicies)
    if (p.name == s.policy) policy = &p;
  if (!policy) return make_error("process.scheduler.policy: unknown policy ", quote(s.policy));
  if (s.policy == "SCHED_ISO") return make_error("process.scheduler.policy: SCHED_ISO is not implemented by Linux");
  a.policy = static_cast<uint32_t>(policy->value);
  for (size_t i = 0; i < s.flags.size(); ++i) {
    const NamedValue* flag = nullptr;
    for (const auto& f : kSchedFlags)
      if (f.name == s.flags[i]) flag = &f;
    if (!flag) return make_error("process.scheduler.flags[", i, "]: unknown flag ", quote(s.flags[i]));
    if (flag->value & 0x60)
      return make_error("process.scheduler.flags[", i, "]: ", s.flags[i],
                        " needs clamp values the runtime-spec does not carry");
    a.flags |= flag->value;
  }
  if (s.nice) {
    if (*s.nice < -20 || *s.nice > 19) return make_error("process.scheduler.nice: must be between -20 and 19, got ", *s.nice);
    a.nice = *s.nice;
  }
  bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
  if (s.priority) {
    if (realtime && (*s.priority < 1 || *s.priority > 99))
      return make_error("process.scheduler.priority: must be between 1 and 99 for ", s.policy, ", got ", *s.priority);
    if (!realtime && *s.priority != 0)
      return make_error("process.scheduler.priority: must be 0 for ", s.policy, ", got ", *s.priority);
    a.priority = static_cast<uint32_t>(*s.priority);
  } else if (realtime) {
    return make_error("process.scheduler.priority: required for ", s.policy);
  }
  bool deadline = s.policy == "SCHED_DEADLINE";
  if (deadline) {
    if (!s.runtime || !s.deadline) return make_error("process.scheduler: runtime and deadline are required for SCHED_DEADLINE");
    a.runtime = *s.runtime;
    a.deadline = *s.deadline;
    a.period = s.period.value_or(*s.deadline);
    if (!(a.runtime <= a.deadline && a.deadline <= a.period))
      return make_error("process.scheduler: SCHED_DEADLINE needs runtime <= deadline <= period");
  } else if (s.runtime || s.deadline || s.period) {
    return make_error("process.scheduler: runtime, deadline and period are only valid for SCHED_DEADLINE");
  }
  return a;
}

Result<int> make_io_priority(const IoPriority& io) {
  const NamedValue* klass = nullptr;
  for (const auto& c : kIoClasses)
    if (c.name == io.klass) klass = &c;
  if (!klass) return make_error("process.ioPriority.class: unknown class ", quote(io.klass));
  if (io.priority < 0 || io.priority > 7)
    return make_error("process.ioPriority.priority: must be between 0 and 7, got ", io.priority);
  return static_cast<int>(klass->value << 13) | io.priority;
}

Result<cpu_set_t> parse_cpu_list(const std::string& list, const std::string& field) {
  cpu_set_t set;
  CPU_ZERO(&set);
  auto bad = [&] { return make_error(field, ": invalid cpu list ", quote(list)); };
  if (trim(list).empty()) return bad();
  for (const auto& part : split(std::string(trim(list)), ',')) {
    auto dash = part.find('-');
    auto lo = parse_int<int>(trim(std::string_view(part).substr(0, dash)));
    auto hi = dash == std::string::npos ? lo : parse_int<int>(trim(std::string_view(part).substr(dash + 1)));
    if (!lo || !hi || *lo < 0 || *hi < *lo) return bad();
    if (*hi >= CPU_SETSIZE) return make_error(field, ": cpu ", *hi, " is beyond ", CPU_SETSIZE - 1);
    for (int c = *lo; c <= *hi; ++c) CPU_SET(c, &set);
  }
  return set;
}

Status apply_sched_attr(const SchedAttr& a) {
  KernelSchedAttr k{};
  k.size = sizeof k;
  k.sched_policy = a.policy;
  k.sched_flags = a.flags;
  k.sched_nice = a.nice;
  k.sched_priority = a.priority;
  k.sched_runtime = a.runtime;
  k.sched_deadline = a.deadline;
  k.sched_period = a.period;
  if (::syscall(SYS_sched_setattr, 0, &k, 0) < 0) return sys_error("set scheduler (sched_setattr)");
  return {};
}

Status apply_io_priority(int value) {
  constexpr int kWhoProcess = 1;  // IOPRIO_WHO_PROCESS
  if (::syscall(SYS_ioprio_set, kWhoProcess, 0, value) < 0) return sys_error("set I/O priority (ioprio_set)");
  return {};
}

Status apply_cpu_affinity(const cpu_set_t& set, const char* what) {
  if (::sched_setaffinity(0, sizeof set, &set) < 0) return sys_error("set ", what, " CPU affinity");
  return {};
}

}  // namespace berth::runtime
