// Summary statistics for benchmark samples.
//
// Percentiles use the nearest-rank method: the p-th percentile of n sorted
// samples is the sample at rank ceil(p/100 * n) (1-based), and the 0th is the
// smallest. Every reported percentile is therefore a value that was actually
// measured, never an interpolation between two runs; the median of an even
// number of samples is the lower of the two middle ones.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "common/error.hpp"

namespace berth::bench {

/// The nearest-rank percentile `p` (0..100) of `samples`, which need not be
/// sorted. Fails on no samples, a NaN sample or `p` out of range.
Result<double> percentile(std::vector<double> samples, double p);

/// What the report shows for one metric of one series.
struct Summary {
  size_t n = 0;
  double min = 0, p25 = 0, p50 = 0, p75 = 0, p90 = 0, p99 = 0, max = 0;
  double mean = 0;
};

/// Sorts once and takes every percentile of Summary. Fails like percentile().
Result<Summary> summarize(std::vector<double> samples);

/// numerator / denominator, or nothing when the denominator is not positive
/// (a ratio to a zero or a missing measurement means nothing).
std::optional<double> ratio(double numerator, double denominator);

}  // namespace berth::bench
