#include "bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace berth::bench {

namespace {

// `sorted` is non-empty and ascending; p is in [0, 100].
double nearest_rank(const std::vector<double>& sorted, double p) {
  size_t n = sorted.size();
  if (p <= 0) return sorted.front();
  // The small epsilon keeps p = 90 of n = 10 at rank 9: 0.9 * 10 is
  // 9.000000000000002 in binary floating point.
  double rank = std::ceil(p / 100.0 * static_cast<double>(n) - 1e-9);
  size_t r = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(n)));
  return sorted[r - 1];
}

Status check(const std::vector<double>& samples) {
  if (samples.empty()) return make_error("no samples");
  for (double v : samples)
    if (std::isnan(v)) return make_error("a sample is not a number");
  return {};
}

}  // namespace

Result<double> percentile(std::vector<double> samples, double p) {
  BERTH_TRY_CTX(check(samples), "percentile");
  if (!(p >= 0 && p <= 100)) return make_error("percentile: p must be between 0 and 100");
  std::sort(samples.begin(), samples.end());
  return nearest_rank(samples, p);
}

Result<Summary> summarize(std::vector<double> samples) {
  BERTH_TRY_CTX(check(samples), "summarize");
  std::sort(samples.begin(), samples.end());
  Summary s;
  s.n = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.p25 = nearest_rank(samples, 25);
  s.p50 = nearest_rank(samples, 50);
  s.p75 = nearest_rank(samples, 75);
  s.p90 = nearest_rank(samples, 90);
  s.p99 = nearest_rank(samples, 99);
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.n);
  return s;
}

std::optional<double> ratio(double numerator, double denominator) {
  if (!(denominator > 0) || std::isnan(numerator)) return std::nullopt;
  return numerator / denominator;
}

}  // namespace berth::bench
