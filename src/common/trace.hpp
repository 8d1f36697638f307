// Start-up phase tracing. With BERTH_TRACE=<file> in the environment,
// berth-runtime appends one JSON object per container to <file>:
//
//   {"id":"c1","command":"run","pid":1234,"phases":[
//     {"name":"parse","process":"runtime","start_us":51,"wall_us":210,"cpu_us":198}, ...],
//    "wall_us":9870}
//
// start_us counts from the runtime's main(); wall_us is CLOCK_MONOTONIC time
// spent in the phase and cpu_us the CPU time of the process that ran it
// (the runtime, or the container's init for the phases it runs). Without
// BERTH_TRACE every call is a test of one pointer.
#pragma once

#include <cstdint>
#include <string>

namespace berth::trace {

/// One phase as recorded.
struct Mark {
  char name[24];
  char process[8];  // "runtime" or "init"
  uint64_t start_ns;
  uint64_t wall_ns;
  uint64_t cpu_ns;
};

/// Shared between the runtime and the init (MAP_SHARED, made before clone).
struct Buffer {
  uint64_t origin_ns;  // CLOCK_MONOTONIC at the runtime's main()
  uint32_t count;
  Mark marks[64];
};

/// Reads BERTH_TRACE and, if set, maps the shared buffer. Call first in main().
void init_from_env();
/// True when tracing is on.
bool enabled();

/// Times a phase from construction to destruction (or to end()).
class Phase {
 public:
  Phase(const char* name, const char* process = "runtime");
  ~Phase() { end(); }
  Phase(const Phase&) = delete;
  Phase& operator=(const Phase&) = delete;
  void end();

 private:
  const char* name_;
  const char* process_;
  uint64_t start_wall_ = 0;
  uint64_t start_cpu_ = 0;
  bool open_ = false;
};

/// Appends the record for container `id` to the trace file and clears the
/// buffer for the next container.
void flush(const std::string& id, const std::string& command);

}  // namespace berth::trace
