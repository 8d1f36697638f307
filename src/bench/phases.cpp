#include "bench/phases.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "bench/stats.hpp"
#include "common/strings.hpp"

namespace berth::bench {

namespace {

using json = nlohmann::json;

double number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double median(std::vector<double> v) {
  auto p = percentile(std::move(v), 50);
  return p ? *p : 0.0;
}

// Length of the union of [start, end) intervals.
double union_length(std::vector<std::pair<double, double>> iv) {
  std::sort(iv.begin(), iv.end());
  double total = 0, cur_s = 0, cur_e = -1;
  for (auto [s, e] : iv) {
    if (s > cur_e) {
      if (cur_e > cur_s) total += cur_e - cur_s;
      cur_s = s;
      cur_e = e;
    } else {
      cur_e = std::max(cur_e, e);
    }
  }
  if (cur_e > cur_s) total += cur_e - cur_s;
  return total;
}

}  // namespace

Result<std::vector<TraceRecord>> parse_trace(const std::string& body) {
  std::vector<TraceRecord> out;
  size_t lineno = 0;
  for (const auto& line : split(body, '\n')) {
    ++lineno;
    if (trim(line).empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("phases") || !j["phases"].is_array())
      return make_error("trace line ", lineno, ": not a trace record");
    TraceRecord r;
    r.id = text(j, "id");
    r.command = text(j, "command");
    r.wall_us = number(j, "wall_us");
    for (const auto& p : j["phases"]) {
      if (!p.is_object()) return make_error("trace line ", lineno, ": a phase is not an object");
      r.phases.push_back(TracePhase{text(p, "name"), text(p, "process"), number(p, "start_us"), number(p, "wall_us"),
                                    number(p, "cpu_us")});
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<Breakdown> break_down(const std::vector<TraceRecord>& records, const std::vector<double>& measured_wall_ms) {
  if (records.empty()) return make_error("no traced runs");
  if (records.size() != measured_wall_ms.size()) return make_error("traced runs and measured runs differ in number");
  struct Acc {
    std::vector<double> start, wall, cpu;
  };
  std::map<std::pair<std::string, std::string>, Acc> acc;  // (process, name)
  std::vector<double> measured, traced, outside, before, between, after, rt_cpu, init_cpu;
  for (size_t i = 0; i < records.size(); ++i) {
    const TraceRecord& r = records[i];
    std::map<std::pair<std::string, std::string>, TracePhase> per_run;
    std::vector<std::pair<double, double>> runtime_iv;
    double rc = 0, ic = 0;
    for (const auto& p : r.phases) {
      auto key = std::make_pair(p.process, p.name);
      auto [it, fresh] = per_run.try_emplace(key, p);
      if (!fresh) {
        it->second.wall_us += p.wall_us;
        it->second.cpu_us += p.cpu_us;
      }
      if (p.process == "runtime") {
        runtime_iv.emplace_back(p.start_us, p.start_us + p.wall_us);
        rc += p.cpu_us;
      } else {
        ic += p.cpu_us;
      }
    }
    for (const auto& [key, p] : per_run) {
      auto& a = acc[key];
      a.start.push_back(p.start_us);
      a.wall.push_back(p.wall_us);
      a.cpu.push_back(p.cpu_us);
    }
    double m_us = measured_wall_ms[i] * 1000.0;
    measured.push_back(m_us);
    traced.push_back(r.wall_us);
    outside.push_back(m_us - r.wall_us);
    rt_cpu.push_back(rc);
    init_cpu.push_back(ic);
    if (!runtime_iv.empty()) {
      double first = runtime_iv.front().first, last = runtime_iv.front().second;
      for (auto [s, e] : runtime_iv) {
        first = std::min(first, s);
        last = std::max(last, e);
      }
      before.push_back(first);
      between.push_back(std::max(0.0, (last - first) - union_length(runtime_iv)));
      after.push_back(std::max(0.0, r.wall_us - last));
    }
  }
  Breakdown b;
  b.runs = records.size();
  for (auto& [key, a] : acc)
    b.phases.push_back(PhaseRow{key.second, key.first, a.wall.size(), median(a.start), median(a.wall), median(a.cpu)});
  std::stable_sort(b.phases.begin(), b.phases.end(),
                   [](const PhaseRow& x, const PhaseRow& y) { return x.start_us < y.start_us; });
  b.measured_wall_us = median(measured);
  b.traced_wall_us = median(traced);
  b.outside_main_us = median(outside);
  if (!before.empty()) {
    b.before_first_phase_us = median(before);
    b.between_phases_us = median(between);
    b.after_last_phase_us = median(after);
  }
  b.runtime_cpu_in_phases_us = median(rt_cpu);
  b.init_cpu_in_phases_us = median(init_cpu);
  return b;
}

}  // namespace berth::bench
