#include "runtime/container_internal.hpp"

namespace berth::runtime {

Result<std::vector<pid_t>> container_pids(const std::string& root, const std::string& id) {
  auto st = read_state(root, id);
  if (!st) return std::move(st).error();
  if (read_status(root, *st) == ContainerStatus::stopped) return std::vector<pid_t>{};
  return cgroups::Cgroup::at(st->cgroup_mount, st->cgroup_path).pids();
}

}  // namespace berth::runtime
