// The plot: for each runtime and the VM, every start-up wall-time sample as a
// dot on a log-scale axis, over a box (p25..p75, median bar) and a whisker
// (min..max), with the machine, kernel and versions written underneath the
// title. Plain SVG 1.1 written by hand; no plotting dependency.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bench/report.hpp"

namespace berth::bench {

/// Escapes & < > " ' for XML text and attribute values.
std::string xml_escape(std::string_view s);

/// One row of the plot.
struct PlotSeries {
  std::string name;
  std::vector<double> values;  // wall times, ms, all > 0
};

/// The plot of `series` with `title` and `caption` lines; each series is a
/// <g class="series" data-name="..."> element.
std::string render_svg(const std::string& title, const std::vector<std::string>& caption,
                       const std::vector<PlotSeries>& series);

/// The plot of a benchmark: one series per runtime, then the VM.
std::string render_svg(const Results& r);

}  // namespace berth::bench
