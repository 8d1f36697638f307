// The whole benchmark: find the runtimes, set up the workspace, run the
// interleaved sequential runs, the concurrency levels, the traced berth
// runs and the VM baseline, and clean up. Progress goes to a callback; the
// library itself never prints.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/report.hpp"
#include "common/error.hpp"

namespace berth::bench {

struct Options {
  std::vector<std::string> runtimes = {"berth", "runc", "crun"};
  bool runtimes_given = false;  // --runtimes: a missing one is an error, not a skip
  std::string berth, runc, crun;  // binaries; empty: look for them
  std::string bundle;             // empty: the built-in busybox bundle
  std::string busybox = "/bin/busybox";
  int runs = 100;
  int warmup = 10;
  std::vector<int> concurrency = {1, 2, 4, 8};
  int concurrency_containers = 40;
  int trace_runs = 30;
  int timeout_s = 60;
  bool vm = true;
  int vm_runs = 5;
  std::string vm_accel = "auto";  // auto, kvm, tcg
  std::string qemu = "qemu-system-x86_64";
  std::string kernel;             // empty: cache or download
  std::string vm_cache = "/var/cache/berth-bench";
  int vm_timeout_s = 300;
  std::string workdir = "/tmp";
  std::string launcher = "/proc/self/exe";  // berth-bench itself, in launcher mode; empty: measure directly
  std::vector<std::string> command_line;
  std::function<void(std::string_view)> progress;  // one line, no newline
};

/// Checks the options before anything runs (counts, levels, names).
Status validate(const Options& o);

/// Runs the benchmark. Everything it creates is removed before it returns,
/// on success, on error and on request_stop().
Result<Results> run_benchmark(const Options& o);

/// Where berth-runtime is when --berth is not given: next to this program
/// (a build tree), in ../sbin of its prefix (an installation), then PATH.
std::string default_berth_path(const std::string& self_exe);

/// A program's path: `name` itself if it contains a slash, else the first
/// executable in PATH or the sbin directories.
std::string find_program(const std::string& name);

/// Parses "1,2,4,8" (positive, no duplicates); "" or "none" means no levels.
Result<std::vector<int>> parse_levels(const std::string& s);

}  // namespace berth::bench
