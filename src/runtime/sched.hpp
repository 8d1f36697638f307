// process.scheduler, process.ioPriority and process.execCPUAffinity: parsed
// into kernel values before clone, applied by the init just before exec.
#pragma once

#include <sched.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

/// The fields of the kernel's struct sched_attr (sched_setattr(2)).
struct SchedAttr {
  uint32_t policy = 0;
  uint64_t flags = 0;
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t runtime = 0, deadline = 0, period = 0;
};

/// Validates process.scheduler and converts it; errors name the field.
Result<SchedAttr> make_sched_attr(const Scheduler& s);

/// ioprio_set(2) value from process.ioPriority (class << 13 | priority).
Result<int> make_io_priority(const IoPriority& io);

/// Parses a cpu list such as "0-3,7" into a cpu_set_t; `field` names the
/// config field in errors.
Result<cpu_set_t> parse_cpu_list(const std::string& list, const std::string& field);

/// sched_setattr(2) on the calling process.
Status apply_sched_attr(const SchedAttr& attr);
/// ioprio_set(2) on the calling process.
Status apply_io_priority(int value);
/// sched_setaffinity(2) on the calling process.
Status apply_cpu_affinity(const cpu_set_t& set, const char* what);

}  // namespace berth::runtime
