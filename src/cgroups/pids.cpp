// pids controller: pids.max.
#include <cstdint>

#include "cgroups/resources.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

Status apply_pids(int dirfd, int64_t limit) {
  // The spec treats zero and negative limits as "no limit"; writing "max"
  // (rather than nothing) also lifts a limit an earlier update set.
  return write_cgroup_file(dirfd, "pids.max", limit > 0 ? cat(limit) : std::string("max"));
}

}  // namespace berth::cgroups
