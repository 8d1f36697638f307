// io controller: io.bfq.weight or io.weight, and io.max.
//
// The spec's blockIO weights use cgroup v1's range [10, 1000]. The BFQ
// scheduler's io.bfq.weight takes that range as is; io.weight (the io.cost
// controller) wants [1, 10000], so the value is converted when BFQ is absent,
// as runc and crun do.
#include <cstdint>
#include <utility>

#include "cgroups/resources.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

constexpr const char* kField = "linux.resources.blockIO.";
constexpr uint64_t kWeightMin = 10, kWeightMax = 1000;

std::string device(int64_t major, int64_t minor) { return cat(major, ":", minor); }

Status check_weight(const std::string& field, const std::optional<uint16_t>& w) {
  if (w && *w != 0 && (*w < kWeightMin || *w > kWeightMax))
    return make_error(kField, field, ": ", *w, " is out of range [", kWeightMin, ", ", kWeightMax, "]");
  return {};
}

Status check_device(const std::string& field, int64_t major, int64_t minor) {
  if (major < 0) return make_error(kField, field, ".major: invalid value ", major);
  if (minor < 0) return make_error(kField, field, ".minor: invalid value ", minor);
  return {};
}

// One io.max line per device, with only the keys that were set, in the
// kernel's own order. The kernel would merge separate writes the same way;
// one line per device keeps a device's limits in one place.
std::vector<std::string> io_max_lines(const Io& io) {
  std::vector<std::pair<std::string, std::string>> devices;  // device -> "rbps=1 wbps=2"
  auto add = [&](const std::vector<ThrottleDevice>& list, const char* key) {
    for (const auto& t : list) {
      if (t.rate == 0) continue;  // runc skips unset rates
      std::string dev = device(t.major, t.minor);
      auto it = devices.begin();
      while (it != devices.end() && it->first != dev) ++it;
      if (it == devices.end()) it = devices.insert(devices.end(), {dev, ""});
      std::string kv = cat(key, "=", t.rate);
      // A device listed twice for one key: the later entry wins, as it
      // would have with one write per entry.
      auto pos = it->second.find(cat(key, "="));
      if (pos != std::string::npos) {
        auto end = it->second.find(' ', pos);
        it->second.replace(pos, end == std::string::npos ? std::string::npos : end - pos, kv);
      } else {
        it->second += (it->second.empty() ? "" : " ") + kv;
      }
    }
  };
  add(io.throttle_read_bps, "rbps");
  add(io.throttle_write_bps, "wbps");
  add(io.throttle_read_iops, "riops");
  add(io.throttle_write_iops, "wiops");
  std::vector<std::string> lines;
  for (const auto& [dev, keys] : devices) lines.push_back(dev + " " + keys);
  return lines;
}

Status write_weight_file(int dirfd, const std::string& name, const std::vector<std::string>& lines) {
  if (lines.empty()) return {};
  if (lines.size() == 1) return write_cgroup_file(dirfd, name, lines.front());
  return write_cgroup_lines(dirfd, name, lines);
}

}  // namespace

uint64_t io_weight_from_blkio(uint64_t weight) {
  if (weight == 0) return 0;
  if (weight <= kWeightMin) return 1;
  if (weight >= kWeightMax) return 10000;
  return 1 + (weight - kWeightMin) * 9999 / (kWeightMax - kWeightMin);
}

Status validate_io(const Io& io) {
  BERTH_TRY(check_weight("weight", io.weight));
  if (io.leaf_weight && *io.leaf_weight != 0)
    return make_error(kField, "leafWeight: leaf weights do not exist in cgroup v2");
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    const auto& d = io.weight_device[i];
    std::string field = cat("weightDevice[", i, "]");
    BERTH_TRY(check_device(field, d.major, d.minor));
    BERTH_TRY(check_weight(field + ".weight", d.weight));
    if (d.leaf_weight && *d.leaf_weight != 0)
      return make_error(kField, field, ".leafWeight: leaf weights do not exist in cgroup v2");
  }
  const std::pair<const char*, const std::vector<ThrottleDevice>*> lists[] = {
      {"throttleReadBpsDevice", &io.throttle_read_bps},
      {"throttleWriteBpsDevice", &io.throttle_write_bps},
      {"throttleReadIOPSDevice", &io.throttle_read_iops},
      {"throttleWriteIOPSDevice", &io.throttle_write_iops},
  };
  for (const auto& [name, list] : lists)
    for (size_t i = 0; i < list->size(); ++i)
      BERTH_TRY(check_device(cat(name, "[", i, "]"), (*list)[i].major, (*list)[i].minor));
  return {};
}

Status apply_io(int dirfd, const Io& io) {
  bool weight = io.weight && *io.weight != 0;
  std::vector<const WeightDevice*> weighted;
  for (const auto& d : io.weight_device)
    if (d.weight && *d.weight != 0) weighted.push_back(&d);
  if (weight || !weighted.empty()) {
    auto bfq = read_file_at(dirfd, "io.bfq.weight");
    if (!bfq && bfq.error().code() != ENOENT) return std::move(bfq).error();
    // Kernels before 5.4 show a single number here and take no per-device
    // weights; later ones show "default N" plus device lines.
    bool have_bfq = bfq.ok();
    bool bfq_per_device = have_bfq && !parse_int<int64_t>(trim(*bfq));
    std::vector<std::string> bfq_lines, weight_lines;
    if (weight) {
      if (have_bfq)
        bfq_lines.push_back(cat(*io.weight));
      else
        weight_lines.push_back(cat(io_weight_from_blkio(*io.weight)));
    }
    for (const auto* d : weighted) {
      // runc drops device weights without per-device BFQ; io.weight takes
      // them too ("MAJ:MIN weight"), so they land there instead.
      if (bfq_per_device)
        bfq_lines.push_back(device(d->major, d->minor) + " " + cat(*d->weight));
      else
        weight_lines.push_back(device(d->major, d->minor) + " " + cat(io_weight_from_blkio(*d->weight)));
    }
    BERTH_TRY(write_weight_file(dirfd, "io.bfq.weight", bfq_lines));
    BERTH_TRY(write_weight_file(dirfd, "io.weight", weight_lines));
  }
  return write_cgroup_lines(dirfd, "io.max", io_max_lines(io));
}

}  // namespace berth::cgroups
