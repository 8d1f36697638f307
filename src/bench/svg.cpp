#include "bench/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bench/stats.hpp"
#include "common/strings.hpp"

namespace berth::bench {

namespace {

constexpr double kWidth = 960;
constexpr double kLeft = 170;   // room for the series labels
constexpr double kRight = 40;
constexpr double kRowHeight = 64;
constexpr double kLineHeight = 16;

const char* const kColors[] = {"#1b6ca8", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#566573"};

std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string ms_label(double ms) {
  char buf[32];
  if (ms >= 1000)
    std::snprintf(buf, sizeof buf, "%g s", ms / 1000);
  else
    std::snprintf(buf, sizeof buf, "%g ms", ms);
  return buf;
}

std::string value_label(double ms) {
  char buf[32];
  if (ms >= 1000)
    std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
  else if (ms >= 100)
    std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  else
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += ' ';
        else out += c;
    }
  }
  return out;
}

std::string render_svg(const std::string& title, const std::vector<std::string>& caption,
                       const std::vector<PlotSeries>& series) {
  double lo = INFINITY, hi = 0;
  for (const auto& s : series)
    for (double v : s.values)
      if (v > 0) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (!(hi > 0)) {
    lo = 1;
    hi = 10;
  }
  // Whole decades around the data.
  double d_lo = std::floor(std::log10(lo)), d_hi = std::ceil(std::log10(hi));
  if (d_hi <= d_lo) d_hi = d_lo + 1;
  double top = 40 + kLineHeight * static_cast<double>(caption.size()) + 20;
  double plot_h = kRowHeight * static_cast<double>(std::max<size_t>(series.size(), 1));
  double height = top + plot_h + 60;
  double plot_w = kWidth - kLeft - kRight;
  auto x_of = [&](double v) { return kLeft + (std::log10(v) - d_lo) / (d_hi - d_lo) * plot_w; };

  std::string o;
  o += cat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  o += cat("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"", f1(kWidth), "\" height=\"", f1(height),
           "\" viewBox=\"0 0 ", f1(kWidth), " ", f1(height), "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n");
  o += cat("<rect x=\"0\" y=\"0\" width=\"", f1(kWidth), "\" height=\"", f1(height), "\" fill=\"#ffffff\"/>\n");
  o += cat("<text x=\"20\" y=\"28\" font-size=\"17\" font-weight=\"bold\">", xml_escape(title), "</text>\n");
  for (size_t i = 0; i < caption.size(); ++i)
    o += cat("<text x=\"20\" y=\"", f1(48 + kLineHeight * static_cast<double>(i)), "\" font-size=\"12\" fill=\"#333333\">",
             xml_escape(caption[i]), "</text>\n");

  // Grid and axis: a line at every decade, lighter ones at 2x and 5x.
  o += "<g class=\"axis\">\n";
  for (double d = d_lo; d <= d_hi; d += 1) {
    for (double m : {1.0, 2.0, 5.0}) {
      double v = m * std::pow(10.0, d);
      if (std::log10(v) > d_hi + 1e-9) break;
      double x = x_of(v);
      bool major = m == 1.0;
      o += cat("<line x1=\"", f1(x), "\" y1=\"", f1(top), "\" x2=\"", f1(x), "\" y2=\"", f1(top + plot_h), "\" stroke=\"",
               major ? "#bbbbbb" : "#e5e5e5", "\" stroke-width=\"1\"/>\n");
      o += cat("<text x=\"", f1(x), "\" y=\"", f1(top + plot_h + 18), "\" font-size=\"", major ? "12" : "10",
               "\" text-anchor=\"middle\" fill=\"#444444\">", xml_escape(ms_label(v)), "</text>\n");
    }
  }
  o += cat("<line x1=\"", f1(kLeft), "\" y1=\"", f1(top + plot_h), "\" x2=\"", f1(kLeft + plot_w), "\" y2=\"",
           f1(top + plot_h), "\" stroke=\"#444444\" stroke-width=\"1\"/>\n");
  o += cat("<text x=\"", f1(kLeft + plot_w / 2), "\" y=\"", f1(top + plot_h + 42),
           "\" font-size=\"13\" text-anchor=\"middle\">start-up wall time per container or VM boot (log scale)</text>\n");
  o += "</g>\n";

  for (size_t i = 0; i < series.size(); ++i) {
    const PlotSeries& s = series[i];
    const char* color = kColors[i % std::size(kColors)];
    double cy = top + kRowHeight * (static_cast<double>(i) + 0.5);
    o += cat("<g class=\"series\" data-name=\"", xml_escape(s.name), "\">\n");
    std::vector<double> vals;
    for (double v : s.values)
      if (v > 0) vals.push_back(v);
    auto st = summarize(vals);
    std::string label = xml_escape(s.name);
    o += cat("<text x=\"", f1(kLeft - 10), "\" y=\"", f1(cy - 2), "\" font-size=\"14\" font-weight=\"bold\" text-anchor=\"end\" fill=\"",
             color, "\">", label, "</text>\n");
    if (!st) {
      o += cat("<text x=\"", f1(kLeft - 10), "\" y=\"", f1(cy + 14), "\" font-size=\"11\" text-anchor=\"end\">no samples</text>\n");
      o += "</g>\n";
      continue;
    }
    o += cat("<text x=\"", f1(kLeft - 10), "\" y=\"", f1(cy + 14), "\" font-size=\"11\" text-anchor=\"end\" fill=\"#333333\">",
             "median ", xml_escape(value_label(st->p50)), ", n=", st->n, "</text>\n");
    // Whisker min..max, box p25..p75, median bar.
    o += cat("<line x1=\"", f1(x_of(st->min)), "\" y1=\"", f1(cy), "\" x2=\"", f1(x_of(st->max)), "\" y2=\"", f1(cy),
             "\" stroke=\"", color, "\" stroke-width=\"1.5\"/>\n");
    double bx = x_of(st->p25), bw = std::max(1.0, x_of(st->p75) - bx);
    o += cat("<rect x=\"", f1(bx), "\" y=\"", f1(cy - 14), "\" width=\"", f1(bw), "\" height=\"28\" fill=\"", color,
             "\" fill-opacity=\"0.15\" stroke=\"", color, "\" stroke-width=\"1.5\"/>\n");
    double mx = x_of(st->p50);
    o += cat("<line x1=\"", f1(mx), "\" y1=\"", f1(cy - 18), "\" x2=\"", f1(mx), "\" y2=\"", f1(cy + 18), "\" stroke=\"",
             color, "\" stroke-width=\"3\"/>\n");
    // Every sample, spread vertically by a fixed low-discrepancy sequence so
    // that the plot is the same for the same data.
    for (size_t k = 0; k < vals.size(); ++k) {
      double jitter = std::fmod(static_cast<double>(k) * 0.6180339887, 1.0) - 0.5;
      o += cat("<circle cx=\"", f1(x_of(vals[k])), "\" cy=\"", f1(cy + jitter * 36), "\" r=\"2.2\" fill=\"", color,
               "\" fill-opacity=\"0.55\"/>\n");
    }
    o += "</g>\n";
  }
  o += "</svg>\n";
  return o;
}

std::string render_svg(const Results& r) {
  std::vector<PlotSeries> series;
  for (const auto& s : r.sequential) {
    PlotSeries p{s.name, {}};
    for (const auto& m : s.samples) p.values.push_back(m.wall_ms);
    series.push_back(std::move(p));
  }
  if (!r.vm.series.samples.empty()) {
    PlotSeries p{cat("VM (QEMU ", r.vm.accel, ")"), {}};
    for (const auto& m : r.vm.series.samples) p.values.push_back(m.wall_ms);
    series.push_back(std::move(p));
  }
  std::string title = cat("Start-up of ", r.params.workload, ": container runtimes",
                          r.vm.series.samples.empty() ? "" : " vs a VM", " (", r.params.runs, " runs each, interleaved",
                          r.vm.series.samples.empty() ? "" : cat("; ", r.vm.series.samples.size(), " VM boots"), ")");
  std::vector<std::string> caption;
  caption.push_back(cat("machine: ", r.machine.kernel, ", ", r.machine.cpu_model, ", ", r.machine.cpus, " CPUs, ",
                        r.machine.memory_kib / 1024, " MiB; ", r.machine.date, "; load ", r.load_start, " -> ", r.load_end));
  caption.push_back(cat("cgroups: ", r.cgroups));
  std::string versions;
  for (const auto& rt : r.runtimes) versions += cat(versions.empty() ? "" : "; ", rt.version);
  caption.push_back(cat("versions: ", versions));
  if (!r.vm.series.samples.empty()) {
    caption.push_back(cat("VM: ", r.vm.qemu_version, ", ", r.vm.accel == "tcg" ? "software emulation (TCG)" : "KVM"));
    caption.push_back(cat("VM: kernel ", r.vm.kernel_package.empty() ? r.vm.kernel : r.vm.kernel_package,
                          ", /init runs /bin/true and powers off; QEMU start to exit"));
  }
  caption.push_back("dots: every sample; box: p25 to p75; thick bar: median; line: min to max");
  return render_svg(title, caption, series);
}

}  // namespace berth::bench
