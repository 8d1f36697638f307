// Spawning and measuring one process: wall time with CLOCK_MONOTONIC around
// spawn and reap, CPU time and peak RSS from wait4(2)'s rusage (the process
// and every descendant it waited for), with a timeout.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::bench {

/// What to run. Every child gets stdin from /dev/null, its own process group
/// (so a timeout can kill the group, and a Ctrl-C reaches only berth-bench,
/// which then stops the children itself) and default signal dispositions.
struct Spawn {
  std::vector<std::string> argv;  // argv[0] is an absolute path, or a name looked up in PATH
  std::vector<std::string> env;   // the whole environment, NAME=VALUE
  std::string stdout_path;        // empty: /dev/null
  std::string stderr_path;        // empty: /dev/null
  /// If set, the run goes through this program's launcher mode (see
  /// exec_helper.hpp), which measures it; argv[0] must then be absolute.
  std::string launcher;
};

/// One measured run.
struct Measurement {
  double wall_ms = 0;    // CLOCK_MONOTONIC from just before spawn to just after reap
  double user_ms = 0;    // ru_utime
  double sys_ms = 0;     // ru_stime
  long max_rss_kib = 0;  // ru_maxrss: the largest single process of the tree, not a sum
  int exit_code = -1;    // shell style: 128 + signal for a killed process
  bool timed_out = false;
  double cpu_ms() const { return user_ms + sys_ms; }
};

/// Runs `s` and waits up to `timeout_ms`; on timeout the process group gets
/// SIGKILL and the result says timed_out. Fails only if it cannot spawn or
/// wait, or when stop was requested.
Result<Measurement> run_measured(const Spawn& s, int timeout_ms);

/// `total` runs, at most `parallel` at a time; run i is `make(i, slot)`
/// where slot (0..parallel-1) is free while the run lasts.
struct Batch {
  double elapsed_ms = 0;  // first spawn to last reap
  std::vector<Measurement> runs;  // in the order the runs were started
};
Result<Batch> run_batch(int total, int parallel, const std::function<Spawn(int index, int slot)>& make,
                        int timeout_ms);

/// Output (stdout and stderr together) and exit code of a helper command.
struct Captured {
  int exit_code = -1;
  std::string output;
};
/// With `interruptible` false it ignores request_stop() (for clean-up).
Result<Captured> capture(const std::vector<std::string>& argv, int timeout_ms, bool interruptible = true);

/// The current environment plus `extra` (NAME=VALUE entries replace same-named ones).
std::vector<std::string> environment_with(const std::vector<std::string>& extra);

/// Called from a SIGINT/SIGTERM handler: every wait returns an error soon
/// and kills the process it was waiting for.
void request_stop();
bool stop_requested();

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t monotonic_ns();

}  // namespace berth::bench
