#include "daemon/container_io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "common/unix_socket.hpp"
#include "daemon/images.hpp"
#include "daemon/reply.hpp"
#include "image/runconfig.hpp"
#include "monitor/protocol.hpp"


namespace berth::daemon {

using nlohmann::json;

namespace {

bool write_fd(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data.data(), data.size());
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Seconds since the epoch, with fractions, of an RFC 3339 nano time.
double time_value(const std::string& t) {
  double s = static_cast<double>(parse_rfc3339(t));
  if (auto dot = t.find('.'); dot != std::string::npos) {
    size_t end = t.find_first_not_of("0123456789", dot + 1);
    std::string frac = t.substr(dot, end == std::string::npos ? std::string::npos : end - dot);
    s += std::atof(("0" + frac).c_str());
  }
  return s;
}

bool live(const ContainerState& s) { return s.status == "running" || s.status == "paused"; }

// Sends stdin to the monitor in messages it accepts.
bool send_stdin(int sock, std::string_view data) {
  while (!data.empty()) {
    size_t n = std::min(data.size(), monitor::kMaxMessage - 1);
    std::string msg(1, monitor::kMsgStdin);
    msg.append(data.substr(0, n));
    if (::send(sock, msg.data(), msg.size(), MSG_NOSIGNAL) < 0) return false;
    data.remove_prefix(n);
  }
  return true;
}

}  // namespace

bool parse_log_line(std::string_view line, LogEntry* out) {
  json j = json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("log") || !j["log"].is_string()) return false;
  out->log = j["log"].get<std::string>();
  out->stream = j.value("stream", "stdout");
  out->time = j.value("time", "");
  return true;
}

std::string frame(int stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  f.append(payload);
  return f;
}

Result<UniqueFd> connect_monitor(const std::string& dir) {
  UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  std::string path = dir + "/" + std::string(monitor::kAttachSocket);
  // A data root deep enough makes the path longer than sun_path: reach it
  // through a descriptor of its directory instead.
  UniqueFd dirfd;
  std::string name = path;
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    dirfd.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd) return sys_error("open ", dir);
    name = cat("/proc/self/fd/", dirfd.get(), "/", monitor::kAttachSocket);
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, name.c_str(), name.size());
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("connect ", path);
  return s;
}

// ---- LogReader ---------------------------------------------------------------

std::vector<LogEntry> LogReader::read_all() {
  std::vector<LogEntry> out;
  std::string base = dir_ + "/" + std::string(monitor::kLogFile);
  std::vector<std::string> files;
  for (int i = 1; i < 100; ++i) {
    std::string p = cat(base, ".", i);
    if (!path_exists(p)) break;
    files.insert(files.begin(), p);
  }
  for (const auto& f : files) {
    auto text = read_file(f);
    if (!text) continue;
    for (const auto& line : split(*text, '\n')) {
      LogEntry e;
      if (!line.empty() && parse_log_line(line, &e)) out.push_back(std::move(e));
    }
  }
  // The current file through the follower, so a later read_new() goes on
  // exactly where this stopped.
  fd_.reset();
  ino_ = 0;
  partial_.clear();
  auto now = read_new();
  out.insert(out.end(), std::make_move_iterator(now.begin()), std::make_move_iterator(now.end()));
  return out;
}

bool LogReader::reopen() {
  UniqueFd fd(::open((dir_ + "/" + std::string(monitor::kLogFile)).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  struct stat st {};
  ::fstat(fd.get(), &st);
  fd_ = std::move(fd);
  ino_ = st.st_ino;
  partial_.clear();
  return true;
}

void LogReader::seek_end() {
  if (reopen()) ::lseek(fd_.get(), 0, SEEK_END);
}

std::vector<LogEntry> LogReader::read_new() {
  std::vector<LogEntry> out;
  if (!fd_ && !reopen()) return out;
  for (int round = 0; round < 2; ++round) {
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      partial_.append(buf, static_cast<size_t>(n));
      size_t start = 0, nl;
      while ((nl = partial_.find('\n', start)) != std::string::npos) {
        LogEntry e;
        if (parse_log_line(std::string_view(partial_).substr(start, nl - start), &e)) out.push_back(std::move(e));
        start = nl + 1;
      }
      partial_.erase(0, start);
    }
    // At the end of this file: if the monitor rotated it, go on in the new one.
    struct stat st {};
    std::string path = dir_ + "/" + std::string(monitor::kLogFile);
    if (::stat(path.c_str(), &st) == 0 && st.st_ino != ino_) {
      if (!reopen()) break;
      continue;
    }
    break;
  }
  return out;
}

// ---- attach ------------------------------------------------------------------

Result<std::string> parse_detach_keys(std::string_view spec) {
  std::string keys;
  for (const auto& k : split(spec, ',')) {
    if (k.size() == 1) {
      keys += k;
    } else if (k.size() == 6 && k.starts_with("ctrl-")) {
      char c = k[5];
      if (c >= 'a' && c <= 'z') keys += static_cast<char>(c - 'a' + 1);
      else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') keys += static_cast<char>(c - '@');
      else return make_error("invalid detach keys \"", spec, "\": unknown key ", k);
    } else {
      return make_error("invalid detach keys \"", spec, "\": unknown key ", k);
    }
  }
  return keys;
}

bool DetachKeys::feed(std::string_view in, std::string* out) {
  for (char ch : in) {
    if (keys_.empty()) {
      out->push_back(ch);
      continue;
    }
    if (ch == keys_[matched_]) {
      if (++matched_ == keys_.size()) return true;
      continue;
    }
    // A partial match was input after all.
    out->append(keys_, 0, matched_);
    matched_ = 0;
    if (ch == keys_[0]) {
      matched_ = 1;
      if (keys_.size() == 1) return true;
    } else {
      out->push_back(ch);
    }
  }
  return false;
}

void attach(ContainerManager& m, const std::string& ref, Request& req, ResponseWriter& resp) {
  auto c = m.find(ref);
  if (!c) return send_error(resp, 404, "No such container: " + ref);
  // A stopped container is attached to for its next run (`docker start -a`
  // attaches first, then starts).
  if (c->state.status == "paused")
    return send_error(resp, 409, cat("container ", c->name, " is paused, unpause the container before attach"));
  bool want_stdin = req.flag("stdin") && c->config.value("OpenStdin", false);
  bool want_out = req.flag("stdout"), want_err = req.flag("stderr");
  bool stdin_once = c->config.value("StdinOnce", false);
  bool tty = c->tty;
  auto detach_keys = parse_detach_keys(req.param("detachKeys", "ctrl-p,ctrl-q"));
  if (!detach_keys) return send_error(resp, 400, detach_keys.error().message());
  LogReader reader(c->dir);
  std::vector<LogEntry> backlog;
  // Without logs=1, only what is written from now on; a created
  // container's next run appends to the log of its earlier runs, and a log
  // that does not exist yet is read from its start once it appears.
  if (req.flag("logs"))
    backlog = reader.read_all();
  else
    reader.seek_end();
  uint64_t exits0 = c->exits;

  UniqueFd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (in) ::inotify_add_watch(in.get(), c->dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);

  auto h = resp.hijack(tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
  if (h.fd < 0) return;
  int fd = h.fd;
  auto emit = [&](const std::vector<LogEntry>& entries) {
    for (const auto& e : entries) {
      bool err = e.stream == "stderr";
      if ((err && !want_err) || (!err && !want_out)) continue;
      if (!write_fd(fd, tty ? std::string_view(e.log) : std::string_view(frame(err ? 2 : 1, e.log)))) return false;
    }
    return true;
  };
  if (!emit(backlog)) return;

  DetachKeys detach(*detach_keys);
  std::string pending;
  if (want_stdin && detach.feed(h.pending, &pending)) return;
  bool client_eof = false, stdin_closed = false;
  UniqueFd mon;
  for (;;) {
    auto now = m.find(c->id);
    bool finished = !now || now->exits != exits0;
    bool running = now && live(now->state);
    if (running && !mon && want_stdin) {
      if (auto s = connect_monitor(c->dir)) mon = std::move(*s);
    }
    if (mon && !pending.empty()) {
      send_stdin(mon.get(), pending);
      pending.clear();
    }
    if (mon && client_eof && !stdin_closed && pending.empty()) {
      if (stdin_once) {
        char t = monitor::kMsgCloseStdin;
        ::send(mon.get(), &t, 1, MSG_NOSIGNAL);
      }
      stdin_closed = true;
    }
    if (!emit(reader.read_new())) return;
    if (finished) {
      // The monitor has exited: the log is complete.
      emit(reader.read_new());
      ::shutdown(fd, SHUT_WR);
      return;
    }
    // After the client's half-close its socket stays in the set with no
    // events asked: POLLHUP still tells when it is gone for good.
    short client_events = client_eof ? 0 : POLLIN | POLLRDHUP;
    pollfd p[2] = {{in ? in.get() : -1, POLLIN, 0}, {fd, client_events, 0}};
    int n = ::poll(p, 2, 250);
    if (n < 0 && errno != EINTR) return;
    if (p[0].revents & POLLIN) {
      char evbuf[4096];
      while (::read(in.get(), evbuf, sizeof evbuf) > 0) {
      }
    }
    if (p[1].revents & (POLLERR | POLLNVAL)) return;
    if (client_eof && (p[1].revents & POLLHUP)) return;
    if (!client_eof && (p[1].revents & (POLLIN | POLLHUP | POLLRDHUP))) {
      char buf[32 * 1024];
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r > 0) {
        if (want_stdin && detach.feed(std::string_view(buf, static_cast<size_t>(r)), &pending)) {
          // The detach keys: the client leaves, the container runs on.
          if (mon && !pending.empty()) send_stdin(mon.get(), pending);
          return;
        }
      } else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        // berthd shutting down reads as an end of input too: that is not
        // the client closing the container's stdin.
        if (m.shutting_down()) return;
        client_eof = true;
        if (!want_stdin && !want_out && !want_err) return;
      }
    }
  }
}

// ---- logs --------------------------------------------------------------------

void logs(ContainerManager& m, const std::string& ref, Request& req, ResponseWriter& resp) {
  auto c = m.find(ref);
  if (!c) return send_error(resp, 404, "No such container: " + ref);
  bool want_out = req.flag("stdout"), want_err = req.flag("stderr");
  if (!want_out && !want_err) return send_error(resp, 400, "Bad parameters: you must choose at least one stream");
  bool follow = req.flag("follow"), stamps = req.flag("timestamps");
  double since = 0, until = 0;
  if (auto s = req.param("since"); !s.empty()) since = std::atof(s.c_str());
  if (auto u = req.param("until"); !u.empty()) until = std::atof(u.c_str());
  std::string tail = req.param("tail", "all");
  long tail_n = -1;
  if (tail != "all" && !tail.empty()) {
    auto n = parse_int<long>(tail);
    if (!n || *n < 0) return send_error(resp, 400, "invalid tail value \"" + tail + "\"");
    tail_n = *n;
  }
  LogReader reader(c->dir);
  uint64_t exits0 = c->exits;
  bool was_running = live(c->state) || c->state.status == "restarting";
  std::vector<LogEntry> entries = reader.read_all();
  auto keep = [&](const LogEntry& e) {
    bool err = e.stream == "stderr";
    if ((err && !want_err) || (!err && !want_out)) return false;
    double t = time_value(e.time);
    if (since > 0 && t < since) return false;
    if (until > 0 && t > until) return false;
    return true;
  };
  std::erase_if(entries, [&](const LogEntry& e) { return !keep(e); });
  if (tail_n >= 0 && entries.size() > static_cast<size_t>(tail_n))
    entries.erase(entries.begin(), entries.end() - tail_n);
  resp.begin_stream(200, c->tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
  auto out = [&](const std::vector<LogEntry>& es) {
    std::string buf;
    for (const auto& e : es) {
      if (!keep(e)) continue;
      std::string text = stamps ? e.time + " " + e.log : e.log;
      buf += c->tty ? text : frame(e.stream == "stderr" ? 2 : 1, text);
    }
    return resp.chunk(buf);
  };
  if (!out(entries)) return;
  if (!follow || !was_running) return;
  UniqueFd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (in) ::inotify_add_watch(in.get(), c->dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
  for (;;) {
    auto now = m.find(c->id);
    bool finished = !now || now->exits != exits0;
    if (!out(reader.read_new())) return;
    if (finished) {
      out(reader.read_new());
      return;
    }
    if (resp.client_gone()) return;
    pollfd p{in ? in.get() : -1, POLLIN, 0};
    if (::poll(&p, 1, 250) > 0) {
      char evbuf[4096];
      while (::read(in.get(), evbuf, sizeof evbuf) > 0) {
      }
    }
  }
}

// ---- exec --------------------------------------------------------------------

void exec_resize(ContainerManager& m, const std::string& exec_id, Request& req, ResponseWriter& resp) {
  auto e = m.exec_find(exec_id);
  if (!e) return send_error(resp, 404, "No such exec instance: " + exec_id);
  auto h = parse_int<int>(req.param("h")), w = parse_int<int>(req.param("w"));
  if (!h || !w || *h < 0 || *w < 0) return send_error(resp, 400, "h and w must be non-negative numbers");
  bool done = false;
  m.exec_update(exec_id, [&](ExecRecord& r) {
    if (r.pty_master < 0) return;
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(*h);
    ws.ws_col = static_cast<unsigned short>(*w);
    done = ::ioctl(r.pty_master, TIOCSWINSZ, &ws) == 0;
  });
  if (!done && e->tty && !e->running && e->exit_code) return send_error(resp, 409, "the exec process has exited");
  resp.send(200, "", "");
}

void exec_start(ContainerManager& m, const std::string& exec_id, Request& req, ResponseWriter& resp) {
  auto e = m.exec_find(exec_id);
  if (!e) return send_error(resp, 404, "No such exec instance: " + exec_id);
  json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (!body.is_object()) return send_error(resp, 400, "the request body is not a JSON object");
  bool detach = body.value("Detach", false);
  bool first = false;
  m.exec_update(exec_id, [&](ExecRecord& r) { first = !std::exchange(r.started, true); });
  if (!first) return send_error(resp, 409, "Exec " + exec_id + " has already been started");
  auto c = m.find(e->container_id);
  if (!c || c->state.status != "running")
    return send_error(resp, 409, cat("Container ", e->container_id, " is not running"));

  // The user by name needs the container's /etc/passwd.
  std::string user;
  if (!e->user.empty()) {
    auto rootfd = open_file(c->dir + "/rootfs", O_RDONLY | O_DIRECTORY);
    if (!rootfd) return send_error(resp, 500, rootfd.error().message());
    auto ids = image::resolve_user(rootfd->get(), e->user);
    if (!ids) return send_error(resp, 400, ids.error().message());
    user = cat(ids->uid, ":", ids->gid);
  }
  std::string sock_path;
  UniqueFd console;
  if (e->tty && !detach) {
    sock_path = cat(m.options().exec_root, "/exec-", exec_id.substr(0, 16), ".sock");
    ::unlink(sock_path.c_str());
    auto l = listen_unix(sock_path);
    if (!l) return send_error(resp, 500, l.error().message());
    console = std::move(*l);
  }
  struct Unlink {
    std::string p;
    ~Unlink() {
      if (!p.empty()) ::unlink(p.c_str());
    }
  } unlink_sock{sock_path};

  // The runtime's own errors go to a log of their own as well: an error
  // there means the process never ran (docker's exit status 126), which its
  // status alone cannot tell from a process that exited 1 or 127.
  std::string log_path = cat(m.options().exec_root, "/exec-", exec_id.substr(0, 16), ".log");
  ::unlink(log_path.c_str());
  Unlink unlink_log{log_path};
  auto start_failed = [&] {
    auto text = read_file(log_path);
    return text && text->find("\"level\":\"error\"") != std::string::npos;
  };
  std::vector<std::string> args = {m.options().runtime_path, "--root", m.runtime_root(), "--log", log_path,
                                   "--log-format", "json", "exec"};
  if (e->tty) args.push_back("--tty");
  if (!sock_path.empty()) args.insert(args.end(), {"--console-socket", sock_path});
  if (detach) args.push_back("--detach");
  for (const auto& v : e->env) args.insert(args.end(), {"--env", v});
  if (!user.empty()) args.insert(args.end(), {"--user", user});
  if (!e->working_dir.empty()) args.insert(args.end(), {"--cwd", e->working_dir});
  args.push_back(e->container_id);
  args.insert(args.end(), e->cmd.begin(), e->cmd.end());
  // stdio: pipes without a tty; the runtime's errors come on stderr either way.
  int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
  bool pipes = !detach && !e->tty;
  if ((pipes && (::pipe2(in_p, O_CLOEXEC) < 0 || ::pipe2(out_p, O_CLOEXEC) < 0)) || ::pipe2(err_p, O_CLOEXEC) < 0)
    return send_error(resp, 500, sys_error("pipe").message());
  UniqueFd in_r(in_p[0]), in_w(in_p[1]), out_r(out_p[0]), out_w(out_p[1]), err_r(err_p[0]), err_w(err_p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (pipes) {
    posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  // A detached process keeps the runtime's stdio: never a pipe berthd
  // would wait on. The runtime's error is in its log then.
  if (detach)
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  else
    posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  auto spawned = spawn_program(args, &fa, false);
  posix_spawn_file_actions_destroy(&fa);
  in_r.reset();
  out_w.reset();
  err_w.reset();
  if (!spawned) return send_error(resp, 500, spawned.error().message());
  pid_t pid = *spawned;
  m.exec_update(exec_id, [&](ExecRecord& r) {
    r.running = true;
    r.pid = pid;
  });
  auto finish = [&](int code) {
    m.exec_update(exec_id, [&](ExecRecord& r) {
      r.running = false;
      r.exit_code = code;
      r.pty_master = -1;
    });
  };
  auto reap = [&]() {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  };

  if (detach) {
    int code = reap();
    if (code != 0) {
      std::string msg = cat("exec failed: status ", code);
      for (const auto& l : split(read_file(log_path).value_or(""), '\n')) {
        json j = json::parse(l, nullptr, false);
        if (j.is_object() && j.value("level", "") == "error") msg = j.value("msg", msg);
      }
      finish(start_failed() ? 126 : code);
      return send_error(resp, 500, msg);
    }
    // The process runs on its own; its end is not watched.
    resp.send(200, "", "");
    return;
  }

  UniqueFd master;
  if (console) {
    // The runtime hands the pty master over before the process runs.
    pollfd p[2] = {{console.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
    if (::poll(p, 2, 30000) > 0 && (p[0].revents & POLLIN)) {
      UniqueFd conn(::accept4(console.get(), nullptr, nullptr, SOCK_CLOEXEC));
      std::string ignored;
      if (conn)
        if (auto fd = recv_fd(conn.get(), &ignored)) master = std::move(*fd);
    }
    if (!master) {
      std::string err = read_fd(err_r.get()).value_or("");
      int code = reap();
      finish(code);
      return send_error(resp, 500, trim(err).empty() ? "exec: no pty from the runtime" : std::string(trim(err)));
    }
    m.exec_update(exec_id, [&](ExecRecord& r) { r.pty_master = master.get(); });
  }
  auto h = resp.hijack(e->tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
  int fd = h.fd;
  int to_proc = e->tty ? master.get() : in_w.get();
  if (fd >= 0 && !h.pending.empty() && e->attach_stdin) write_fd(to_proc, h.pending);
  bool out_open = true, err_open = true, client_open = fd >= 0;
  int out_fd = e->tty ? master.get() : out_r.get();
  while (out_open || err_open) {
    pollfd p[3] = {{out_open ? out_fd : -1, POLLIN, 0},
                   {err_open ? err_r.get() : -1, POLLIN, 0},
                   {client_open ? fd : -1, POLLIN | POLLRDHUP, 0}};
    int n = ::poll(p, 3, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    char buf[32 * 1024];
    for (int i = 0; i < 2; ++i) {
      if (!p[i].revents) continue;
      ssize_t r = ::read(p[i].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      std::string_view data(buf, static_cast<size_t>(r));
      if (fd < 0) continue;
      bool want = i == 0 ? e->attach_stdout : e->attach_stderr;
      if (!want && !(i == 1 && e->tty)) continue;
      write_fd(fd, e->tty ? std::string(data) : frame(i + 1, data));
    }
    if (client_open && p[2].revents) {
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r > 0) {
        if (e->attach_stdin) write_fd(to_proc, std::string_view(buf, static_cast<size_t>(r)));
      } else if (r == 0 || errno != EINTR) {
        client_open = false;
        if (!e->tty) in_w.reset();  // EOF on the process's stdin
      }
    }
  }
  m.exec_update(exec_id, [&](ExecRecord& r) { r.pty_master = -1; });
  int code = reap();
  if (code != 0 && start_failed()) code = 126;
  finish(code);
  if (fd >= 0) ::shutdown(fd, SHUT_WR);
}

}  // namespace berth::daemon
