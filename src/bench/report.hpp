// Everything one benchmark measured, and its two renderings: the JSON file
// (every raw sample plus the statistics) and the table for a terminal.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/host.hpp"
#include "bench/interleave.hpp"
#include "bench/phases.hpp"
#include "bench/runner.hpp"
#include "bench/stats.hpp"

namespace berth::bench {

/// The reference runtime every ratio divides by.
inline constexpr const char* kBerth = "berth";

struct RuntimeInfo {
  std::string name;     // berth, runc, crun
  std::string path;     // the binary that ran
  std::string version;  // first line of `--version`
};

/// One runtime's (or the VM's) start-up samples.
struct Series {
  std::string name;
  std::vector<Measurement> samples;
  std::vector<int> order;  // position of each sample in the whole interleaved schedule
};

/// The same workload with `level` containers at a time.
struct ConcurrencyRun {
  std::string runtime;
  int level = 1;
  double elapsed_ms = 0;
  std::vector<Measurement> runs;
  double per_second() const { return elapsed_ms > 0 ? static_cast<double>(runs.size()) * 1000.0 / elapsed_ms : 0; }
};

struct VmResult {
  bool requested = false;
  std::string accel;         // kvm or tcg
  std::string accel_reason;  // why that one
  std::string kernel, kernel_package, kernel_source;
  std::string qemu_version;
  std::vector<std::string> argv;  // of one boot, with this run's paths
  Series series;                  // name "vm"
  std::string error;              // set when the baseline could not be measured
};

struct Parameters {
  std::vector<std::string> command_line;
  int runs = 0, warmup = 0;
  std::vector<int> concurrency_levels;
  int concurrency_containers = 0;
  int trace_runs = 0;
  int vm_runs = 0;
  int timeout_s = 0;
  std::string bundle;      // the bundle directory given, or "built-in"
  std::string workload;    // process.args joined
  std::string cgroup_parent;  // /berth-bench-<pid>
};

struct Results {
  Machine machine;
  std::string load_start, load_end;
  std::string cgroups;           // Cgroups::describe()
  bool controllers_hidden = false;  // crun's hybrid workaround in effect
  Parameters params;
  std::vector<RuntimeInfo> runtimes;
  std::vector<Skipped> skipped;
  std::vector<Series> sequential;  // one per runtime, same order
  std::vector<ConcurrencyRun> concurrency;
  VmResult vm;
  std::optional<Breakdown> phases;
  std::string phases_error;
  long rss_floor_kib = -1;  // peak RSS the launcher's child has before exec; -1: unknown
  std::vector<std::string> cgroups_left;  // should stay empty
  std::vector<std::string> notes;
};

/// Statistics of one series: wall_ms, cpu_ms, max_rss_kib. Fails on no samples.
struct SeriesStats {
  Summary wall, cpu, rss;
};
Result<SeriesStats> series_stats(const Series& s);

/// The JSON document (schema "berth-bench/1"; see berth-bench(1)).
nlohmann::json to_json(const Results& r);

/// The human-readable report: machine, tables with the ratios to berth,
/// the concurrency table, the targets, the phase breakdown.
std::string render_table(const Results& r);

}  // namespace berth::bench
