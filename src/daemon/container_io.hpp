// A container's output and input as the Engine API carries them: the
// json-file log its monitor writes (read, tailed, followed across
// rotation), docker's multiplexed stream framing, and the two hijacked
// endpoints (attach, exec start).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "daemon/containers.hpp"
#include "daemon/http.hpp"

namespace berth::daemon {

struct LogEntry {
  std::string stream;  // "stdout" or "stderr"
  std::string log;
  std::string time;  // RFC 3339 nano
};

/// Parses one json-file line; false when it is not one.
bool parse_log_line(std::string_view line, LogEntry* out);

/// docker's stream frame: [stream, 0, 0, 0, size (big endian)] + payload;
/// stream 1 is stdout, 2 stderr.
std::string frame(int stream, std::string_view payload);

/// Reads a container's log: the rotated files oldest first, then the
/// current one; then, on request, what is appended, following a rotation.
class LogReader {
 public:
  explicit LogReader(std::string dir) : dir_(std::move(dir)) {}
  /// Every entry written so far (rotated files included).
  std::vector<LogEntry> read_all();
  /// Positions at the end of the current file (nothing old is returned).
  void seek_end();
  /// Entries appended since the last call (complete lines only).
  std::vector<LogEntry> read_new();

 private:
  bool reopen();
  std::string dir_;
  UniqueFd fd_;
  ino_t ino_ = 0;
  std::string partial_;
};

/// docker's detach keys ("ctrl-p,ctrl-q", "ctrl-a,x"): the bytes they stand for.
Result<std::string> parse_detach_keys(std::string_view spec);

/// Watches a client's input for the detach keys, across reads.
class DetachKeys {
 public:
  explicit DetachKeys(std::string keys) : keys_(std::move(keys)) {}
  /// Appends to *out what is input for the container; true once the whole
  /// sequence was seen (what follows it is dropped).
  bool feed(std::string_view in, std::string* out);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

/// POST /containers/{id}/attach, hijacked.
void attach(ContainerManager& m, const std::string& ref, Request& req, ResponseWriter& resp);
/// GET /containers/{id}/logs.
void logs(ContainerManager& m, const std::string& ref, Request& req, ResponseWriter& resp);
/// POST /exec/{id}/start, hijacked unless detached.
void exec_start(ContainerManager& m, const std::string& exec_id, Request& req, ResponseWriter& resp);
/// POST /exec/{id}/resize.
void exec_resize(ContainerManager& m, const std::string& exec_id, Request& req, ResponseWriter& resp);

/// Connects to a running container's monitor (attach.sock).
Result<UniqueFd> connect_monitor(const std::string& dir);

}  // namespace berth::daemon
