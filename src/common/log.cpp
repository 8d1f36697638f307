#include "common/log.hpp"

#include "common/fs.hpp"
#include "common/json_escape.hpp"
#include "common/strings.hpp"
#include "common/time.hpp"

namespace berth::log {

namespace {
int g_fd = 2;
Format g_format = Format::text;
Level g_min = Level::warning;
std::string g_program = "berth";
}  // namespace

void set_program(std::string_view name) { g_program = name; }

void configure(int fd, Format format, Level min) {
  g_fd = fd;
  g_format = format;
  g_min = min;
}

int sink_fd() { return g_fd; }
Format sink_format() { return g_format; }

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "error";
}

std::string format_line(Format format, Level level, std::string_view msg, std::string_view time) {
  if (format == Format::human) {
    if (level == Level::error) return cat(g_program, ": ", msg, "\n");
    return cat(g_program, ": ", level_name(level), ": ", msg, "\n");
  }
  if (format == Format::json)
    return cat("{\"level\":\"", level_name(level), "\",\"msg\":", json_quote(msg), ",\"time\":\"", time, "\"}\n");
  return cat("time=\"", time, "\" level=", level_name(level), " msg=", quote(msg), "\n");
}

bool enabled(Level level) { return g_fd >= 0 && level >= g_min; }

void write(Level level, std::string_view msg) {
  if (g_fd < 0 || level < g_min) return;
  std::string line = format_line(g_format, level, msg, rfc3339_now());
  // One write(2) per line so concurrent writers (runtime, init) never interleave.
  (void)write_all(g_fd, line, "log");
}

}  // namespace berth::log
