// cgroup v2 freezer (cgroup.freeze / cgroup.events) and the OOM-kill counter
// of memory.events: what pause, resume and events need from a cgroup.
#pragma once

#include <cstdint>

#include "common/error.hpp"

namespace berth::cgroups {

/// Writes cgroup.freeze and waits (up to `timeout_ms`) until cgroup.events
/// reports "frozen 1" (or "frozen 0"), polling for POLLPRI instead of
/// sleeping. The write alone only asks: tasks stop at their next return to
/// user space. A freeze that does not complete in time is undone, so a
/// container is never left half-frozen. Thawing a cgroup without the freezer
/// is a no-op; freezing one fails.
Status set_frozen(int cgroup_dirfd, bool frozen, int timeout_ms);

/// True once every task of the cgroup has stopped ("frozen 1" in
/// cgroup.events; cgroup.freeze on kernels whose events file lacks the key).
Result<bool> is_frozen(int cgroup_dirfd);

/// The "oom_kill" count of memory.events: processes of the cgroup the OOM
/// killer has killed. 0 when the memory controller is not enabled there.
Result<uint64_t> oom_kill_count(int cgroup_dirfd);

}  // namespace berth::cgroups
