// linux.resources -> the cgroup library's types, and the checks that go
// with them before any cgroup exists.
#pragma once

#include <string>

#include "cgroups/resources.hpp"
#include "common/error.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

/// Converts the spec's resources. Values runc treats as "not set" are left
/// out (0 for memory limits, cpu shares, quota and period, the pids limit,
/// blkio weights and throttle rates), and a group with nothing left is
/// dropped, so that a caller's "no limit" never needs a controller.
cgroups::Resources to_cgroup_resources(const Resources& r);

/// Refuses resources the host cannot enforce, naming the field and the
/// controller: `linux.resources.pids: cgroup v2 controller "pids" is not
/// available on this host`; and net_cls/net_prio, which cgroup v2 lacks.
Status check_resources_available(const std::string& mountpoint, const Resources& spec_resources,
                                 const cgroups::Resources& r);

}  // namespace berth::runtime
