// hugetlb controller: hugetlb.<size>.max and hugetlb.<size>.rsvd.max.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>

#include "cgroups/resources.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

// The kernel names the files after the page size as "<n>KB", "<n>MB" or
// "<n>GB" (mm/hugetlb_cgroup.c), the same form the spec's pageSize uses.
bool valid_page_size(std::string_view s) {
  if (s.size() < 3) return false;
  auto unit = s.substr(s.size() - 2);
  if (unit != "KB" && unit != "MB" && unit != "GB") return false;
  auto n = s.substr(0, s.size() - 2);
  auto v = parse_int<uint64_t>(n);
  return v && *v > 0 && n.front() != '0';
}

}  // namespace

Status validate_hugetlb(const std::vector<Hugepage>& pages) {
  for (size_t i = 0; i < pages.size(); ++i)
    if (!valid_page_size(pages[i].page_size))
      return make_error("linux.resources.hugepageLimits[", i, "].pageSize: invalid page size ", quote(pages[i].page_size),
                        " (want e.g. \"2MB\", \"1GB\", \"64KB\")");
  return {};
}

Status apply_hugetlb(int dirfd, const std::vector<Hugepage>& pages) {
  for (const auto& p : pages) {
    std::string value = cat(p.limit);
    BERTH_TRY(write_cgroup_file(dirfd, cat("hugetlb.", p.page_size, ".max"), value));
    // Pages reserved at mmap() time count against .rsvd.max (Linux 5.7+).
    // Left at its default, a workload could reserve past the limit it was
    // given; a kernel without the file has nothing to set.
    std::string rsvd = cat("hugetlb.", p.page_size, ".rsvd.max");
    if (::faccessat(dirfd, rsvd.c_str(), F_OK, 0) == 0) BERTH_TRY(write_cgroup_file(dirfd, rsvd, value));
  }
  return {};
}

}  // namespace berth::cgroups
