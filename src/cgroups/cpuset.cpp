// cpuset controller: cpuset.cpus, cpuset.mems.
#include <cstdint>

#include "cgroups/resources.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

bool valid_id_list(std::string_view list) {
  if (list.empty()) return false;
  for (const auto& item : split(list, ',')) {
    auto dash = item.find('-');
    std::string_view first = std::string_view(item).substr(0, dash);
    auto lo = parse_int<uint32_t>(first);
    if (!lo) return false;
    if (dash == std::string::npos) continue;
    auto hi = parse_int<uint32_t>(std::string_view(item).substr(dash + 1));
    // The kernel's bitmap_parselist refuses descending ranges ("3-1").
    if (!hi || *hi < *lo) return false;
  }
  return true;
}

Status validate_cpuset(const Cpu& c) {
  if (!c.cpus.empty() && !valid_id_list(c.cpus))
    return make_error("linux.resources.cpu.cpus: invalid CPU list ", quote(c.cpus), " (want e.g. \"0-3,5\")");
  if (!c.mems.empty() && !valid_id_list(c.mems))
    return make_error("linux.resources.cpu.mems: invalid memory node list ", quote(c.mems), " (want e.g. \"0-1\")");
  return {};
}

Status apply_cpuset(int dirfd, const Cpu& c) {
  if (!c.cpus.empty()) BERTH_TRY(write_cgroup_file(dirfd, "cpuset.cpus", c.cpus));
  if (!c.mems.empty()) BERTH_TRY(write_cgroup_file(dirfd, "cpuset.mems", c.mems));
  return {};
}

}  // namespace berth::cgroups
