// cpu controller: cpu.weight (from cgroup v1 shares), cpu.max, cpu.max.burst,
// cpu.idle.
#include <cmath>
#include <cstdint>

#include "cgroups/resources.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

constexpr const char* kField = "linux.resources.cpu.";
constexpr uint64_t kSharesMin = 2, kSharesMax = 262144;  // kernel MIN_SHARES, MAX_SHARES
constexpr uint64_t kWeightMin = 1, kWeightMax = 10000;
constexpr uint64_t kDefaultPeriod = 100000;  // the kernel's default cfs period
// Limits of the kernel's CFS bandwidth control (kernel/sched/core.c).
constexpr int64_t kQuotaMin = 1000;
constexpr uint64_t kPeriodMin = 1000, kPeriodMax = 1000000;

}  // namespace

uint64_t cpu_weight_from_shares(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= kSharesMin) return kWeightMin;
  if (shares >= kSharesMax) return kWeightMax;
  // A parabola in log space through (2, 1), (1024, 100) and (262144, 10000):
  // weight = 10^((l^2 + 125 l) / 612 - 7/34) with l = log2(shares). The
  // constant is folded into the numerator (7/34 == 126/612) so that the
  // default 1024 gives exactly 10^2 and ceil() cannot round it up to 101.
  double l = std::log2(static_cast<double>(shares));
  double exponent = (l * l + 125.0 * l - 126.0) / 612.0;
  return static_cast<uint64_t>(std::ceil(std::pow(10.0, exponent)));
}

std::optional<std::string> cpu_max_value(std::optional<int64_t> quota, std::optional<uint64_t> period) {
  bool has_quota = quota && *quota != 0;
  bool has_period = period && *period != 0;
  if (!has_quota && !has_period) return std::nullopt;
  std::string q = has_quota && *quota > 0 ? cat(*quota) : std::string("max");
  return cat(q, " ", has_period ? *period : kDefaultPeriod);
}

Status validate_cpu(const Cpu& c) {
  if (c.shares && *c.shares != 0 && (*c.shares < kSharesMin || *c.shares > kSharesMax))
    return make_error(kField, "shares: ", *c.shares, " is out of range [", kSharesMin, ", ", kSharesMax, "]");
  if (c.quota && *c.quota < -1) return make_error(kField, "quota: invalid value ", *c.quota, " (want -1 for no limit)");
  if (c.quota && *c.quota > 0 && *c.quota < kQuotaMin)
    return make_error(kField, "quota: ", *c.quota, " is below the kernel's minimum of ", kQuotaMin, " microseconds");
  if (c.period && *c.period != 0 && (*c.period < kPeriodMin || *c.period > kPeriodMax))
    return make_error(kField, "period: ", *c.period, " is out of range [", kPeriodMin, ", ", kPeriodMax, "] microseconds");
  // The kernel refuses a burst larger than the quota it would add to.
  if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota))
    return make_error(kField, "burst: ", *c.burst, " exceeds the quota (", *c.quota, ")");
  if (c.idle && *c.idle != 0 && *c.idle != 1) return make_error(kField, "idle: invalid value ", *c.idle, " (want 0 or 1)");
  if (c.realtime_runtime && *c.realtime_runtime != 0)
    return make_error(kField, "realtimeRuntime: real-time CPU limits do not exist in cgroup v2");
  if (c.realtime_period && *c.realtime_period != 0)
    return make_error(kField, "realtimePeriod: real-time CPU limits do not exist in cgroup v2");
  return {};
}

Status apply_cpu(int dirfd, const Cpu& c) {
  if (c.idle) BERTH_TRY(write_cgroup_file(dirfd, "cpu.idle", cat(*c.idle)));
  // An idle cgroup has no weight: the kernel refuses cpu.weight then (runc
  // skips it too).
  bool idle = c.idle && *c.idle != 0;
  if (c.shares && *c.shares != 0 && !idle)
    BERTH_TRY(write_cgroup_file(dirfd, "cpu.weight", cat(cpu_weight_from_shares(*c.shares))));
  auto max = cpu_max_value(c.quota, c.period);
  bool burst_pending = false;
  if (c.burst) {
    auto st = write_cgroup_file(dirfd, "cpu.max.burst", cat(*c.burst));
    // A burst above the old quota is EINVAL; if a new quota is coming,
    // write the burst again after it.
    if (!st && !(st.error().code() == EINVAL && max)) return st;
    burst_pending = !st.ok();
  }
  if (max) BERTH_TRY(write_cgroup_file(dirfd, "cpu.max", *max));
  if (burst_pending) BERTH_TRY(write_cgroup_file(dirfd, "cpu.max.burst", cat(*c.burst)));
  return {};
}

}  // namespace berth::cgroups
