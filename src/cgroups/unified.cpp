// linux.resources.unified: raw cgroup v2 files by name, for knobs the spec
// has no field for (memory.high, cpu.uclamp.min, ...).
#include "cgroups/resources.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

// A key names a file directly inside the cgroup, "CONTROLLER.PARAMETER":
// anything with a "/" (or a NUL, which would end the name early) could reach
// outside the container's own cgroup.
bool valid_key(const std::string& key) {
  if (key.find('/') != std::string::npos || key.find('\0') != std::string::npos) return false;
  auto dot = key.find('.');
  return dot != std::string::npos && dot > 0 && dot + 1 < key.size();
}

std::string field(const std::string& key) { return cat("linux.resources.unified[", quote(key), "]"); }

}  // namespace

Status validate_unified(const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified)
    if (!valid_key(key))
      return make_error(field(key), ": invalid key (want a file name of the form CONTROLLER.PARAMETER, without \"/\")");
  return {};
}

Status apply_unified(int dirfd, const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    if (!valid_key(key)) return make_error(field(key), ": invalid key");
    // Multi-line values (io.max, rdma.max) are written one entry per write,
    // as the kernel parses them; an empty value writes nothing, as in crun.
    std::vector<std::string> lines;
    for (auto& line : split(value, '\n'))
      if (!trim(line).empty()) lines.push_back(std::move(line));
    if (lines.empty()) continue;
    auto st = lines.size() == 1 ? write_cgroup_file(dirfd, key, lines.front()) : write_cgroup_lines(dirfd, key, lines);
    if (!st) return std::move(st).error().wrap(field(key));
  }
  return {};
}

}  // namespace berth::cgroups
