// Processes: identity that survives pid reuse, pidfds, and an RAII child.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth {

/// What /proc/<pid>/stat says about a process.
struct ProcStat {
  char state = '?';          // R S D Z T t X I ...
  uint64_t start_time = 0;   // field 22, clock ticks since boot
};

/// Reads /proc/<pid>/stat; nullopt if the process does not exist.
std::optional<ProcStat> read_proc_stat(pid_t pid);

/// True if `pid` is alive (not a zombie) and started at `start_time`: the
/// pair identifies one process for its whole life, so a recycled pid is never
/// mistaken for the container's init.
bool process_matches(pid_t pid, uint64_t start_time);

/// pidfd_open(2) that is guaranteed to refer to the process that started at
/// `start_time` (checked after the open, which closes the reuse race).
Result<UniqueFd> open_pidfd(pid_t pid, uint64_t start_time);

/// pidfd_send_signal(2) (glibc 2.36's declaration is not usable from C++).
int pidfd_signal(int pidfd, int sig);

/// Waits for a pidfd to become readable (the process exited), up to
/// `timeout_ms` (-1: forever). Returns true if it exited.
bool wait_pidfd_exit(int pidfd, int timeout_ms);

/// waitpid() that retries on EINTR and converts the status to a shell-style
/// exit code (128+signal for a killed process).
Result<int> wait_exit_code(pid_t pid);

/// Owns a child process: unless released, the destructor SIGKILLs and reaps
/// it, so a failed setup never leaves a half-made container running.
class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& o) noexcept : pid_(o.release()) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ~ChildProcess() { kill_and_reap(); }

  pid_t pid() const { return pid_; }
  pid_t release() {
    pid_t p = pid_;
    pid_ = -1;
    return p;
  }
  /// SIGKILL + waitpid; a no-op without a child.
  void kill_and_reap();

 private:
  pid_t pid_ = -1;
};

}  // namespace berth
