// berth-monitor as a library: the pieces that can be tested without a
// container (option parsing, the json-file log writer, exit.json) and run(),
// the whole monitor. The interface with berthd is fixed in protocol.hpp.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::monitor {

struct Options {
  std::string root;    // runtime state root (--root)
  std::string id;      // container id (--id)
  std::string bundle;  // bundle directory (--bundle)
  std::string dir;     // the container's directory in berthd's data root (--dir)
  bool tty = false;
  bool stdin_open = false;  // --stdin: the container's stdin is a pipe the monitor holds
  bool stdin_once = false;  // --stdin-once: close it when an attach client that wrote stdin leaves
  uint64_t log_max_size = 0;  // bytes; 0: never rotate
  int log_max_files = 1;      // container.log plus N-1 rotated files
  int sync_fd = -1;
  bool help = false;
};

/// Parses the arguments after argv[0] ("--flag VALUE" or "--flag=VALUE").
/// Every path must be absolute and the four of them present (unless --help).
Result<Options> parse_options(const std::vector<std::string>& args);

/// The --help text.
std::string usage();

enum class Stream { stdout_, stderr_ };

/// One json-file line: {"log":...,"stream":...,"time":...}\n
std::string log_entry(std::string_view log, Stream stream, std::string_view time);

/// Docker's json-file log: output is cut at '\n' (kept), a partial line is
/// written when it reaches kMaxLogLine bytes or its stream ends. Before an
/// entry would push the file past max_size, the files are rotated:
/// container.log -> .1 -> .2 ... and the oldest beyond max_files-1 removed.
class LogWriter {
 public:
  LogWriter(std::string dir, uint64_t max_size, int max_files);
  /// Opens (appends to) DIR/container.log.
  Status open();
  /// Adds output of `stream`, read at `time`; complete lines are written.
  Status feed(Stream stream, std::string_view data, std::string_view time);
  /// Writes what is left of `stream` as a last, partial entry.
  Status finish(Stream stream, std::string_view time);
  uint64_t size() const { return size_; }

 private:
  Status write_entry(Stream stream, std::string_view log, std::string_view time);
  Status rotate();

  std::string dir_;
  uint64_t max_size_;
  int max_files_;
  UniqueFd fd_;
  uint64_t size_ = 0;
  std::string pending_[2];
};

struct ExitStatus {
  int exit_code = 0;  // 128+signal when killed by a signal
  int signal = 0;
};
/// Converts a waitpid(2) status the way docker reports it.
ExitStatus exit_status(int wait_status);

/// The content of exit.json (one line, with its newline).
std::string exit_json(const ExitStatus& st, bool oom_killed, std::string_view finished_at);

/// True if a runtime stats object (container_stats) reports an OOM kill.
bool stats_report_oom_kill(std::string_view stats_json);

/// RFC 3339 with nanoseconds in UTC, trailing zeros of the fraction
/// dropped (what common/time.hpp's rfc3339_nano gives, without libc's
/// formatting code).
std::string format_time_nano(const timespec& ts);
/// format_time_nano of the real-time clock now.
std::string now_rfc3339_nano();

/// The whole monitor: start-up, the event loop, exit. Returns the process
/// exit code (0 after the container ran, 1 when it could not be started).
int run(const Options& opts);

}  // namespace berth::monitor
