// Logging through an injected sink. Library code calls log::debug/warn/error;
// only a frontend (src/cli) decides where lines go and in which format:
//   text: time="2026-11-26T12:00:00Z" level=error msg="container not running"
//   json: {"level":"error","msg":"container not running","time":"2026-11-26T12:00:00Z"}
// Both are the shapes runc writes and its callers (containerd, podman) parse.
#pragma once

#include <string>
#include <string_view>

namespace berth::log {

enum class Level { debug = 0, info, warning, error };
enum class Format {
  text,   // logfmt, as runc writes to its --log file
  json,   // one JSON object a line
  human,  // "berth-runtime: warning: msg" for a terminal (stderr without --log)
};

/// Sends lines at or above `min` to `fd` in `format`. fd -1 silences logging.
void configure(int fd, Format format, Level min);
/// The program name used by the human format.
void set_program(std::string_view name);
/// The current destination fd (-1 when silent).
int sink_fd();
Format sink_format();

/// True if lines at `level` are written (to skip building costly messages).
bool enabled(Level level);

/// Writes one line, if `level` passes the threshold.
void write(Level level, std::string_view msg);
inline void debug(std::string_view msg) { write(Level::debug, msg); }
inline void info(std::string_view msg) { write(Level::info, msg); }
inline void warn(std::string_view msg) { write(Level::warning, msg); }
inline void error(std::string_view msg) { write(Level::error, msg); }

/// Renders one line without writing it (used by tests and by the init
/// process, which formats into a fixed buffer before its parent is gone).
std::string format_line(Format format, Level level, std::string_view msg, std::string_view time);

const char* level_name(Level level);

}  // namespace berth::log
