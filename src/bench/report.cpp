#include "bench/report.hpp"

#include <cstdio>

#include "common/strings.hpp"

namespace berth::bench {

namespace {

using json = nlohmann::json;

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Enough digits to compare, few enough to read: 3 significant figures at least.
std::string num(double v) {
  double a = v < 0 ? -v : v;
  if (a >= 1000) return fmt(v, 0);
  if (a >= 100) return fmt(v, 1);
  if (a >= 10) return fmt(v, 2);
  return fmt(v, 3);
}

std::string pad_left(const std::string& s, size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }
std::string pad_right(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

json summary_json(const Summary& s) {
  return {{"n", s.n},     {"min", s.min}, {"p25", s.p25}, {"p50", s.p50},   {"p75", s.p75},
          {"p90", s.p90}, {"p99", s.p99}, {"max", s.max}, {"mean", s.mean}};
}

json samples_json(const Series& s) {
  json a = json::array();
  for (size_t i = 0; i < s.samples.size(); ++i) {
    const Measurement& m = s.samples[i];
    json o = {{"wall_ms", m.wall_ms},         {"user_ms", m.user_ms},     {"sys_ms", m.sys_ms},
              {"cpu_ms", m.cpu_ms()},         {"max_rss_kib", m.max_rss_kib}, {"exit_code", m.exit_code}};
    if (i < s.order.size()) o["order"] = s.order[i];
    a.push_back(std::move(o));
  }
  return a;
}

json series_json(const Series& s) {
  json o = {{"samples", samples_json(s)}};
  if (auto st = series_stats(s))
    o["stats"] = {{"wall_ms", summary_json(st->wall)}, {"cpu_ms", summary_json(st->cpu)}, {"max_rss_kib", summary_json(st->rss)}};
  else
    o["stats"] = nullptr;
  return o;
}

json ratio_value(double berth, double other) {
  auto r = ratio(berth, other);
  return r ? json(*r) : json(nullptr);
}

json ratios_json(const SeriesStats& b, const SeriesStats& o) {
  auto one = [](const Summary& x, const Summary& y) {
    return json{{"p50", ratio_value(x.p50, y.p50)},
                {"p90", ratio_value(x.p90, y.p90)},
                {"p99", ratio_value(x.p99, y.p99)},
                {"max", ratio_value(x.max, y.max)}};
  };
  return {{"wall_ms", one(b.wall, o.wall)}, {"cpu_ms", one(b.cpu, o.cpu)}, {"max_rss_kib", one(b.rss, o.rss)}};
}

const Series* find_series(const Results& r, const std::string& name) {
  for (const auto& s : r.sequential)
    if (s.name == name) return &s;
  return nullptr;
}

// Target checks against crun, all from this run's medians.
struct Target {
  const char* what;
  double berth, crun, limit;
  const char* unit;
};
std::vector<Target> targets(const SeriesStats& b, const SeriesStats& c) {
  return {{"median wall time", b.wall.p50, c.wall.p50, 0.8, "ms"},
          {"median CPU time", b.cpu.p50, c.cpu.p50, 1.0, "ms"},
          {"median peak RSS", b.rss.p50, c.rss.p50, 0.8, "KiB"}};
}

std::string vm_label(const Results& r) { return cat("vm (qemu, ", r.vm.accel.empty() ? "?" : r.vm.accel, ")"); }

}  // namespace

Result<SeriesStats> series_stats(const Series& s) {
  std::vector<double> wall, cpu, rss;
  for (const auto& m : s.samples) {
    wall.push_back(m.wall_ms);
    cpu.push_back(m.cpu_ms());
    rss.push_back(static_cast<double>(m.max_rss_kib));
  }
  auto w = summarize(wall);
  if (!w) return std::move(w).error().wrap(s.name);
  auto c = summarize(cpu);
  if (!c) return std::move(c).error().wrap(s.name);
  auto m = summarize(rss);
  if (!m) return std::move(m).error().wrap(s.name);
  return SeriesStats{*w, *c, *m};
}

json to_json(const Results& r) {
  json j;
  j["schema"] = "berth-bench/1";
  j["command"] = r.params.command_line;
  j["machine"] = {{"kernel", r.machine.kernel},
                  {"cpu_model", r.machine.cpu_model},
                  {"cpus", r.machine.cpus},
                  {"memory_kib", r.machine.memory_kib},
                  {"date", r.machine.date},
                  {"load_average_start", r.load_start},
                  {"load_average_end", r.load_end},
                  {"cgroups", r.cgroups},
                  {"cgroup_controllers_hidden", r.controllers_hidden}};
  j["rss_floor_kib"] = r.rss_floor_kib >= 0 ? json(r.rss_floor_kib) : json(nullptr);
  j["parameters"] = {{"runs", r.params.runs},
                     {"warmup", r.params.warmup},
                     {"concurrency_levels", r.params.concurrency_levels},
                     {"concurrency_containers", r.params.concurrency_containers},
                     {"trace_runs", r.params.trace_runs},
                     {"vm_runs", r.params.vm_runs},
                     {"timeout_s", r.params.timeout_s},
                     {"bundle", r.params.bundle},
                     {"workload", r.params.workload},
                     {"cgroup_parent", r.params.cgroup_parent},
                     {"percentile_method", "nearest-rank: the sample at rank ceil(p/100*n) of the sorted samples"},
                     {"ratio_definition", "berth / other, so below 1 means berth is faster or smaller"}};
  j["runtimes"] = json::array();
  for (const auto& rt : r.runtimes) j["runtimes"].push_back({{"name", rt.name}, {"path", rt.path}, {"version", rt.version}});
  j["skipped"] = json::array();
  for (const auto& s : r.skipped) j["skipped"].push_back({{"name", s.name}, {"reason", s.reason}});

  j["sequential"] = json::object();
  for (const auto& s : r.sequential) j["sequential"][s.name] = series_json(s);

  j["ratios_to_berth"] = json::object();
  const Series* berth = find_series(r, kBerth);
  auto bst = berth ? series_stats(*berth) : Result<SeriesStats>(make_error("no berth samples"));
  if (bst) {
    for (const auto& s : r.sequential) {
      if (s.name == kBerth) continue;
      if (auto ost = series_stats(s)) j["ratios_to_berth"][s.name] = ratios_json(*bst, *ost);
    }
    if (!r.vm.series.samples.empty())
      if (auto vst = series_stats(r.vm.series)) j["ratios_to_berth"]["vm"] = ratios_json(*bst, *vst);
  }

  j["concurrency"] = json::array();
  for (const auto& c : r.concurrency) {
    json walls = json::array();
    for (const auto& m : c.runs) walls.push_back(m.wall_ms);
    j["concurrency"].push_back({{"runtime", c.runtime},
                                {"level", c.level},
                                {"containers", c.runs.size()},
                                {"elapsed_ms", c.elapsed_ms},
                                {"containers_per_s", c.per_second()},
                                {"wall_ms", walls}});
  }

  if (r.vm.requested) {
    json v = series_json(r.vm.series);
    v["accel"] = r.vm.accel;
    v["accel_reason"] = r.vm.accel_reason;
    v["kernel"] = r.vm.kernel;
    v["kernel_package"] = r.vm.kernel_package;
    v["kernel_source"] = r.vm.kernel_source;
    v["qemu_version"] = r.vm.qemu_version;
    v["argv"] = r.vm.argv;
    v["error"] = r.vm.error.empty() ? json(nullptr) : json(r.vm.error);
    j["vm"] = std::move(v);
  } else {
    j["vm"] = nullptr;
  }

  if (r.phases) {
    const Breakdown& b = *r.phases;
    json rows = json::array();
    for (const auto& p : b.phases)
      rows.push_back({{"name", p.name}, {"process", p.process}, {"runs", p.runs}, {"start_us", p.start_us},
                      {"wall_us", p.wall_us}, {"cpu_us", p.cpu_us}});
    j["phases"] = {{"runs", b.runs},
                   {"statistic", "median over the traced runs"},
                   {"measured_wall_us", b.measured_wall_us},
                   {"traced_wall_us", b.traced_wall_us},
                   {"outside_main_us", b.outside_main_us},
                   {"before_first_phase_us", b.before_first_phase_us},
                   {"between_phases_us", b.between_phases_us},
                   {"after_last_phase_us", b.after_last_phase_us},
                   {"runtime_cpu_in_phases_us", b.runtime_cpu_in_phases_us},
                   {"init_cpu_in_phases_us", b.init_cpu_in_phases_us},
                   {"phases", rows}};
  } else {
    j["phases"] = nullptr;
  }
  if (!r.phases_error.empty()) j["phases_error"] = r.phases_error;

  const Series* crun = find_series(r, "crun");
  if (bst && crun) {
    if (auto cst = series_stats(*crun)) {
      json t = json::array();
      for (const auto& x : targets(*bst, *cst)) {
        auto q = ratio(x.berth, x.crun);
        t.push_back({{"what", x.what}, {"berth", x.berth}, {"crun", x.crun}, {"ratio", q ? json(*q) : json(nullptr)},
                     {"limit", x.limit}, {"met", q.has_value() && *q <= x.limit}});
      }
      j["targets"] = t;
    }
  }
  j["cleanup"] = {{"cgroups_left", r.cgroups_left}};
  j["notes"] = r.notes;
  return j;
}

std::string render_table(const Results& r) {
  std::string o;
  o += cat("berth-bench: ", r.params.runs, " runs per runtime after ", r.params.warmup,
           " warm-up, interleaved; workload: ", r.params.workload, " (", r.params.bundle, ")\n");
  o += cat("machine: ", r.machine.kernel, "; ", r.machine.cpu_model, ", ", r.machine.cpus, " CPUs, ",
           fmt(static_cast<double>(r.machine.memory_kib) / 1048576.0, 1), " GiB; load ", r.load_start, " -> ",
           r.load_end, "\n");
  o += cat("cgroups: ", r.cgroups, r.controllers_hidden ? "; cgroup.controllers hidden for every runtime (crun's workaround)" : "",
           "\n");
  for (const auto& rt : r.runtimes) o += cat("  ", pad_right(rt.name, 6), " ", rt.path, ": ", rt.version, "\n");
  if (r.vm.requested && !r.vm.qemu_version.empty()) o += cat("  vm     ", r.vm.qemu_version, ", ", r.vm.kernel_package, "\n");
  for (const auto& s : r.skipped) o += cat("  skipped ", s.name, ": ", s.reason, "\n");

  const Series* berth = find_series(r, kBerth);
  auto bst = berth ? series_stats(*berth) : Result<SeriesStats>(make_error("no berth samples"));
  std::vector<std::pair<std::string, const Series*>> rows;
  for (const auto& s : r.sequential) rows.emplace_back(s.name, &s);
  if (!r.vm.series.samples.empty()) rows.emplace_back(vm_label(r), &r.vm.series);

  struct Metric {
    const char* title;
    Summary SeriesStats::*field;
    double scale;
  };
  const Metric metrics[] = {{"wall time (ms)", &SeriesStats::wall, 1.0},
                            {"CPU time, user+sys of the whole process tree (ms)", &SeriesStats::cpu, 1.0},
                            {"peak RSS, largest single process (MiB)", &SeriesStats::rss, 1.0 / 1024.0}};
  for (const auto& m : metrics) {
    o += cat("\n", m.title, "\n");
    o += cat("  ", pad_right("", 16), pad_left("n", 5), pad_left("p50", 10), pad_left("p90", 10), pad_left("p99", 10),
             pad_left("max", 10), pad_left("berth/x p50", 13), "\n");
    for (const auto& [label, s] : rows) {
      auto st = series_stats(*s);
      if (!st) continue;
      const Summary& x = (*st).*(m.field);
      std::string rat = "-";
      if (bst)
        if (auto q = ratio(((*bst).*(m.field)).p50, x.p50)) rat = fmt(*q, *q < 0.1 ? 4 : 2);
      o += cat("  ", pad_right(label, 16), pad_left(cat(x.n), 5), pad_left(num(x.p50 * m.scale), 10),
               pad_left(num(x.p90 * m.scale), 10), pad_left(num(x.p99 * m.scale), 10), pad_left(num(x.max * m.scale), 10),
               pad_left(rat, 13), "\n");
    }
  }
  if (r.rss_floor_kib >= 0)
    o += cat("peak RSS floor of the method (the launcher's child before exec): ",
             fmt(static_cast<double>(r.rss_floor_kib) / 1024.0, 3), " MiB\n");
  if (r.vm.requested && !r.vm.error.empty()) o += cat("\nvm baseline: not measured: ", r.vm.error, "\n");
  if (r.vm.requested && r.vm.error.empty()) o += cat("vm: ", r.vm.accel, " (", r.vm.accel_reason, ")\n");

  if (!r.concurrency.empty()) {
    o += cat("\nconcurrency: containers per second, ", r.params.concurrency_containers,
             " containers per level and runtime\n  ", pad_right("", 16));
    for (int l : r.params.concurrency_levels) o += pad_left(cat(l, " at a time"), 13);
    o += "\n";
    for (const auto& rt : r.runtimes) {
      o += cat("  ", pad_right(rt.name, 16));
      for (int l : r.params.concurrency_levels) {
        std::string cell = "-";
        for (const auto& c : r.concurrency)
          if (c.runtime == rt.name && c.level == l) cell = num(c.per_second());
        o += pad_left(cell, 13);
      }
      o += "\n";
    }
  }

  const Series* crun = find_series(r, "crun");
  if (bst && crun) {
    if (auto cst = series_stats(*crun)) {
      o += "\ntargets (this run, medians):\n";
      for (const auto& t : targets(*bst, *cst)) {
        auto q = ratio(t.berth, t.crun);
        bool met = q && *q <= t.limit;
        o += cat("  berth ", t.what, " <= ", fmt(t.limit, 1), " x crun: ", met ? "met" : "NOT met", " (",
                 num(t.berth), " vs ", num(t.crun), " ", t.unit, ", ", q ? fmt(*q, 2) : std::string("-"), " x)\n");
      }
    }
  } else {
    o += "\ntargets: crun was not measured in this run\n";
  }

  if (r.phases) {
    const Breakdown& b = *r.phases;
    o += cat("\nberth phases: medians of ", b.runs, " traced runs (BERTH_TRACE), in microseconds\n");
    o += cat("  measured wall (spawn to reap) ", fmt(b.measured_wall_us, 0), "; main() to trace flush ",
             fmt(b.traced_wall_us, 0), "\n");
    o += cat("  ", pad_right("phase", 16), pad_right("process", 9), pad_left("start", 9), pad_left("wall", 9),
             pad_left("cpu", 9), pad_left("% wall", 8), "\n");
    auto pct = [&](double us) { return b.measured_wall_us > 0 ? fmt(100.0 * us / b.measured_wall_us, 1) : "-"; };
    for (const auto& p : b.phases)
      o += cat("  ", pad_right(p.name, 16), pad_right(p.process, 9), pad_left(fmt(p.start_us, 0), 9),
               pad_left(fmt(p.wall_us, 0), 9), pad_left(fmt(p.cpu_us, 0), 9), pad_left(pct(p.wall_us), 8), "\n");
    o += "  not inside any runtime phase:\n";
    auto line = [&](const char* what, double us) {
      o += cat("    ", pad_right(what, 46), pad_left(fmt(us, 0), 9), pad_left(pct(us), 8), "\n");
    };
    line("exec, dynamic loading, exit (outside main())", b.outside_main_us);
    line("main() to the first phase", b.before_first_phase_us);
    line("between runtime phases", b.between_phases_us);
    line("after the last phase, to the trace flush", b.after_last_phase_us);
    o += cat("  CPU in phases: runtime ", fmt(b.runtime_cpu_in_phases_us, 0), ", init ",
             fmt(b.init_cpu_in_phases_us, 0),
             " (init phases run while the runtime waits in clone/wait_ready)\n");
  } else if (!r.phases_error.empty()) {
    o += cat("\nberth phases: not available: ", r.phases_error, "\n");
  }
  if (!r.cgroups_left.empty()) o += cat("\nwarning: cgroups left behind: ", join(r.cgroups_left, ", "), "\n");
  for (const auto& n : r.notes) o += cat("note: ", n, "\n");
  return o;
}

}  // namespace berth::bench
