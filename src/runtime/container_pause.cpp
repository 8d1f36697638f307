#include <fcntl.h>

#include "cgroups/freezer.hpp"
#include "common/fs.hpp"
#include "runtime/container_internal.hpp"

namespace berth::runtime {

namespace {

constexpr int kFreezeTimeoutMs = 10000;

Status set_frozen(const std::string& root, const std::string& id, bool frozen) {
  auto dir = StateDir::open(root, id);
  if (!dir) return std::move(dir).error();
  auto st = dir->load();
  if (!st) return std::move(st).error();
  ContainerStatus status = dir->status(*st);
  if (frozen && status != ContainerStatus::running && status != ContainerStatus::created)
    return make_error("container not running");
  if (!frozen && status != ContainerStatus::paused) return make_error("container not paused");
  auto cg = open_file(st->cgroup_mount + st->cgroup_path, O_RDONLY | O_DIRECTORY);
  if (!cg) return std::move(cg).error().wrap("open the container's cgroup");
  return cgroups::set_frozen(cg->get(), frozen, kFreezeTimeoutMs);
}

}  // namespace

Status pause_container(const std::string& root, const std::string& id) { return set_frozen(root, id, true); }
Status resume_container(const std::string& root, const std::string& id) { return set_frozen(root, id, false); }

}  // namespace berth::runtime
