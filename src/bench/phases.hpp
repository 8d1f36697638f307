// berth-runtime's own account of where its start-up time goes: the lines it
// appends to $BERTH_TRACE (see src/common/trace.hpp), reduced to a median
// per phase plus the time no phase covers.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::bench {

struct TracePhase {
  std::string name;
  std::string process;  // "runtime" or "init"
  double start_us = 0;  // from the runtime's main()
  double wall_us = 0;
  double cpu_us = 0;
};

struct TraceRecord {
  std::string id;
  std::string command;
  double wall_us = 0;  // main() to the trace's flush
  std::vector<TracePhase> phases;
};

/// Parses the trace file: one JSON object a line; blank lines are skipped.
Result<std::vector<TraceRecord>> parse_trace(const std::string& text);

/// The median of one phase over the traced runs. A phase that occurs twice
/// in one run counts with the sum of both.
struct PhaseRow {
  std::string name;
  std::string process;
  size_t runs = 0;  // traced runs that had the phase
  double start_us = 0, wall_us = 0, cpu_us = 0;  // medians
};

/// Medians over the traced runs. The medians of the parts do not add up to
/// the median total exactly; each is a median of its own.
struct Breakdown {
  size_t runs = 0;
  std::vector<PhaseRow> phases;       // by median start
  double measured_wall_us = 0;        // spawn to reap, measured by berth-bench
  double traced_wall_us = 0;          // main() to the trace's flush
  double outside_main_us = 0;         // measured - traced: exec, dynamic loading, exit
  double before_first_phase_us = 0;   // main() to the first runtime phase
  double between_phases_us = 0;       // runtime time between its phases
  double after_last_phase_us = 0;     // end of the last runtime phase to the flush
  double runtime_cpu_in_phases_us = 0;  // sum of runtime phases' CPU
  double init_cpu_in_phases_us = 0;     // sum of init phases' CPU
};

/// `measured_wall_ms[i]` is berth-bench's wall time of the run that wrote
/// `records[i]` (same length). Fails without records or on a length mismatch.
Result<Breakdown> break_down(const std::vector<TraceRecord>& records, const std::vector<double>& measured_wall_ms);

}  // namespace berth::bench
