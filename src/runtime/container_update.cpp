#include <fcntl.h>

#include <nlohmann/json.hpp>

#include "cgroups/devices_bpf.hpp"
#include "cgroups/resources.hpp"
#include "common/fs.hpp"
#include "runtime/container_internal.hpp"
#include "runtime/resources.hpp"

namespace berth::runtime {

Status update_container(const std::string& root, const std::string& id, const UpdateRequest& req) {
  using json = nlohmann::json;
  auto dir = StateDir::open(root, id);
  if (!dir) return std::move(dir).error();
  auto st = dir->load();
  if (!st) return std::move(st).error();
  if (dir->status(*st) == ContainerStatus::stopped) return make_error("container not running");
  auto text = read_file_at(dir->fd(), kSavedConfig);
  if (!text) return std::move(text).error().wrap("read the container's saved config");

  // The new values are merged into the saved config, which stays the record
  // of what the container runs with (and the base of the next update).
  json config;
  bool devices_changed = false;
  try {
    config = json::parse(*text);
    json& resources = config["linux"]["resources"];
    if (!resources.is_object()) resources = json::object();
    if (!req.resources_json.empty()) {
      json patch;
      try {
        patch = json::parse(req.resources_json);
      } catch (const json::parse_error& e) {
        return make_error("parse --resources: ", e.what());
      }
      if (!patch.is_object()) return make_error("--resources: expected a linux.resources object");
      devices_changed = patch.contains("devices");
      resources.merge_patch(patch);
    }
    for (const auto& [path, value] : req.fields) {
      json* at = &resources;
      for (const auto& key : path) at = &(*at)[key];
      *at = json::parse(value);
    }
  } catch (const json::exception& e) {
    return make_error("update: ", e.what());
  }
  std::string merged = config.dump();
  auto spec = parse_spec(merged);
  if (!spec) return std::move(spec).error();
  BERTH_TRY(validate_spec(*spec));

  cgroups::Resources limits = to_cgroup_resources(*spec->linux_->resources);
  BERTH_TRY(check_resources_available(st->cgroup_mount, *spec->linux_->resources, limits));
  auto cg = open_file(st->cgroup_mount + st->cgroup_path, O_RDONLY | O_DIRECTORY);
  if (!cg) return std::move(cg).error().wrap("open the container's cgroup");
  if (auto needed = cgroups::controllers_needed(limits); !needed.empty()) {
    BERTH_TRY(cgroups::enable_controllers(st->cgroup_mount, st->cgroup_path, needed));
    BERTH_TRY_CTX(cgroups::apply(cg->get(), limits), "apply cgroup limits");
  }
  if (devices_changed) BERTH_TRY(cgroups::replace_device_filter(cg->get(), device_rules(*spec)));
  return write_file_atomic(dir->fd(), kSavedConfig, merged, 0600);
}

}  // namespace berth::runtime
