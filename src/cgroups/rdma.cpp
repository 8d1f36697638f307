// rdma controller: rdma.max, one "<device> hca_handle=N hca_object=M" line
// per device.
#include "cgroups/resources.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

Status validate_rdma(const std::map<std::string, Rdma>& rdma) {
  for (const auto& [dev, limit] : rdma) {
    // The name is the first word of an rdma.max line: blanks would shift the
    // keys into it.
    bool ok = !dev.empty() && dev.find_first_of(" \t\n/=") == std::string::npos;
    if (!ok) return make_error("linux.resources.rdma[", quote(dev), "]: invalid device name");
  }
  return {};
}

Status apply_rdma(int dirfd, const std::map<std::string, Rdma>& rdma) {
  std::vector<std::string> lines;
  for (const auto& [dev, limit] : rdma) {
    std::string line = dev;
    if (limit.hca_handles) line += cat(" hca_handle=", *limit.hca_handles);
    if (limit.hca_objects) line += cat(" hca_object=", *limit.hca_objects);
    if (line != dev) lines.push_back(std::move(line));
  }
  return write_cgroup_lines(dirfd, "rdma.max", lines);
}

}  // namespace berth::cgroups
