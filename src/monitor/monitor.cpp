// The testable pieces of berth-monitor: options, the json-file log and
// exit.json. The event loop is in monitor_run.cpp.
#include "monitor/monitor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/json_escape.hpp"
#include "common/strings.hpp"
#include "monitor/protocol.hpp"

namespace berth::monitor {

namespace {

Status need_absolute(const std::string& flag, const std::string& value) {
  if (value.empty()) return make_error("missing --", flag);
  if (value.front() != '/') return make_error("--", flag, " ", quote(value), " is not an absolute path");
  return {};
}

}  // namespace

Result<Options> parse_options(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (!starts_with(name, "--")) return make_error("unexpected argument ", quote(name));
    name = name.substr(2);
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool is_bool = name == "tty" || name == "stdin" || name == "stdin-once" || name == "help";
    if (is_bool) {
      if (has_value) return make_error("flag --", name, " takes no value");
      if (name == "tty") o.tty = true;
      if (name == "stdin") o.stdin_open = true;
      if (name == "stdin-once") o.stdin_once = true;
      if (name == "help") o.help = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return make_error("flag --", name, " needs a value");
      value = args[++i];
    }
    if (name == "root") {
      o.root = value;
    } else if (name == "id") {
      o.id = value;
    } else if (name == "bundle") {
      o.bundle = value;
    } else if (name == "dir") {
      o.dir = value;
    } else if (name == "log-max-size") {
      auto v = parse_int<uint64_t>(value);
      if (!v) return make_error("invalid --log-max-size ", quote(value), " (expected bytes)");
      o.log_max_size = *v;
    } else if (name == "log-max-files") {
      auto v = parse_int<int>(value);
      if (!v || *v < 1) return make_error("invalid --log-max-files ", quote(value), " (expected 1 or more)");
      o.log_max_files = *v;
    } else if (name == "sync-fd") {
      auto v = parse_int<int>(value);
      if (!v || *v < 0) return make_error("invalid --sync-fd ", quote(value));
      o.sync_fd = *v;
    } else {
      return make_error("unknown flag --", name);
    }
  }
  if (o.help) return o;
  BERTH_TRY(need_absolute("root", o.root));
  BERTH_TRY(need_absolute("bundle", o.bundle));
  BERTH_TRY(need_absolute("dir", o.dir));
  if (o.id.empty()) return make_error("missing --id");
  return o;
}

std::string usage() {
  return "Usage: berth-monitor --root RUNTIME_ROOT --id ID --bundle BUNDLE --dir DIR\n"
         "                     [--tty] [--stdin] [--stdin-once]\n"
         "                     [--log-max-size BYTES] [--log-max-files N] [--sync-fd FD]\n"
         "\n"
         "Creates and starts one container through the runtime library, holds its stdio,\n"
         "writes DIR/container.log (docker's json-file format) and DIR/exit.json, and\n"
         "deletes the container when its process exits. berthd starts one per container.\n"
         "\n"
         "  --root DIR           runtime state root\n"
         "  --id ID              container id\n"
         "  --bundle DIR         bundle with config.json and the rootfs\n"
         "  --dir DIR            the container's directory (monitor.lock, monitor.pid,\n"
         "                       attach.sock, container.log, exit.json)\n"
         "  --tty                give the container a pty (process.terminal)\n"
         "  --stdin              keep the container's stdin open for attach clients\n"
         "  --stdin-once         close stdin when an attach client that wrote to it leaves\n"
         "  --log-max-size BYTES rotate container.log before it grows past BYTES\n"
         "  --log-max-files N    keep at most N log files (default 1)\n"
         "  --sync-fd FD         write \"ok <pid>\" or \"error <message>\" there once started\n"
         "  --help               print this text\n";
}

std::string log_entry(std::string_view log, Stream stream, std::string_view time) {
  std::string out;
  out.reserve(log.size() + 64);
  out.append("{\"log\":");
  out.append(json_quote(log));
  out.append(stream == Stream::stdout_ ? ",\"stream\":\"stdout\",\"time\":\"" : ",\"stream\":\"stderr\",\"time\":\"");
  out.append(time);
  out.append("\"}\n");
  return out;
}

LogWriter::LogWriter(std::string dir, uint64_t max_size, int max_files)
    : dir_(std::move(dir)), max_size_(max_size), max_files_(max_files < 1 ? 1 : max_files) {}

Status LogWriter::open() {
  std::string path = cat(dir_, "/", kLogFile);
  fd_.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd_) return sys_error("open ", path);
  struct stat st{};
  if (::fstat(fd_.get(), &st) < 0) return sys_error("stat ", path);
  size_ = static_cast<uint64_t>(st.st_size);
  return {};
}

Status LogWriter::rotate() {
  std::string base = cat(dir_, "/", kLogFile);
  if (max_files_ == 1) {
    if (::ftruncate(fd_.get(), 0) < 0) return sys_error("truncate ", base);
    size_ = 0;
    return {};
  }
  // Oldest first, so no rename overwrites a file still to be moved.
  std::string oldest = cat(base, ".", max_files_ - 1);
  if (::unlink(oldest.c_str()) < 0 && errno != ENOENT) return sys_error("remove ", oldest);
  for (int i = max_files_ - 2; i >= 1; --i) {
    std::string from = cat(base, ".", i), to = cat(base, ".", i + 1);
    if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT) return sys_error("rename ", from);
  }
  std::string first = cat(base, ".1");
  if (::rename(base.c_str(), first.c_str()) < 0) return sys_error("rename ", base);
  return open();
}

Status LogWriter::write_entry(Stream stream, std::string_view log, std::string_view time) {
  if (!fd_) return make_error("log file is not open");
  std::string line = log_entry(log, stream, time);
  if (max_size_ > 0 && size_ > 0 && size_ + line.size() > max_size_) BERTH_TRY(rotate());
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write ", dir_, "/", kLogFile);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  size_ += line.size();
  return {};
}

Status LogWriter::feed(Stream stream, std::string_view data, std::string_view time) {
  std::string& pending = pending_[static_cast<int>(stream)];
  while (!data.empty()) {
    size_t nl = data.find('\n');
    size_t room = kMaxLogLine - pending.size();
    if (nl != std::string_view::npos && nl < room) {
      pending.append(data.substr(0, nl + 1));
      data.remove_prefix(nl + 1);
    } else if (data.size() >= room) {
      pending.append(data.substr(0, room));
      data.remove_prefix(room);
    } else {
      pending.append(data);
      return {};
    }
    Status st = write_entry(stream, pending, time);
    pending.clear();
    BERTH_TRY(st);
  }
  return {};
}

Status LogWriter::finish(Stream stream, std::string_view time) {
  std::string& pending = pending_[static_cast<int>(stream)];
  if (pending.empty()) return {};
  Status st = write_entry(stream, pending, time);
  pending.clear();
  return st;
}

ExitStatus exit_status(int wait_status) {
  ExitStatus st;
  if (WIFEXITED(wait_status)) {
    st.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    st.signal = WTERMSIG(wait_status);
    st.exit_code = 128 + st.signal;
  }
  return st;
}

std::string exit_json(const ExitStatus& st, bool oom_killed, std::string_view finished_at) {
  return cat("{\"ExitCode\":", st.exit_code, ",\"Signal\":", st.signal, ",\"OOMKilled\":", oom_killed,
             ",\"FinishedAt\":\"", finished_at, "\"}\n");
}

bool stats_report_oom_kill(std::string_view stats_json) {
  constexpr std::string_view key = "\"oom_kill\":";
  size_t at = stats_json.find(key);
  if (at == std::string_view::npos) return false;
  at += key.size();
  while (at < stats_json.size() && stats_json[at] == ' ') ++at;
  return at < stats_json.size() && stats_json[at] >= '1' && stats_json[at] <= '9';
}

std::string format_time_nano(const timespec& ts) {
  // Plain arithmetic instead of gmtime_r/strftime/snprintf: the loop calls
  // this for every log entry, and glibc's time and printf code would make a
  // good part of the monitor's static text resident again.
  int64_t days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  // Days since 1970-01-01 to a proleptic Gregorian date, in 400-year eras.
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[40];
  char* p = buf;
  auto put = [&p](int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  put(year, 4);
  *p++ = '-';
  put(month, 2);
  *p++ = '-';
  put(day, 2);
  *p++ = 'T';
  put(secs / 3600, 2);
  *p++ = ':';
  put(secs / 60 % 60, 2);
  *p++ = ':';
  put(secs % 60, 2);
  if (ts.tv_nsec > 0) {
    *p++ = '.';
    put(ts.tv_nsec, 9);
    while (p[-1] == '0') --p;  // Go's RFC3339Nano drops trailing zeros
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

std::string now_rfc3339_nano() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return format_time_nano(ts);
}

}  // namespace berth::monitor
