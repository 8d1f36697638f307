// Streams of the berth command: the attach loop of run/start/exec and the
// JSON progress display of pull and load.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "cli/berth_cli.hpp"
#include "client/format.hpp"
#include "client/run_options.hpp"
#include "client/stdcopy.hpp"
#include "client/terminal.hpp"
#include "common/strings.hpp"

namespace berth::cli {

namespace {

int g_signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  (void)!write(g_signal_pipe[1], &b, 1);
  errno = saved;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void send_resize(Ctx& ctx, const std::string& resize_path) {
  auto size = client::window_size(STDOUT_FILENO);
  if (!size) size = client::window_size(STDIN_FILENO);
  if (!size) return;
  (void)ctx.client.call("POST", cat(resize_path, "?h=", size->first, "&w=", size->second));
}

Status pump_stream(Ctx& ctx, client::Connection& conn, const PumpOptions& opts) {
  if (g_signal_pipe[0] < 0 && pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return sys_error("pipe");
  std::vector<int> sigs;
  if (opts.tty) sigs.push_back(SIGWINCH);
  // Signal proxying, as docker run does without a tty (with one, ^C is a
  // byte on the terminal and reaches the container through its pty).
  if (!opts.tty && !opts.kill_path.empty())
    sigs.insert(sigs.end(), {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2});
  for (int s : sigs) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(s, &sa, nullptr);
  }

  client::StdDemuxer demux(
      [](int stream, std::string_view bytes) { write_all(stream == 2 ? STDERR_FILENO : STDOUT_FILENO, bytes); });
  auto output = [&](std::string_view bytes) -> Status {
    if (opts.tty) {
      write_all(STDOUT_FILENO, bytes);
      return {};
    }
    return demux.feed(bytes);
  };
  BERTH_TRY(output(conn.take_buffered()));

  bool stdin_open = opts.send_stdin;
  char buf[32768];
  Status result;
  for (;;) {
    pollfd fds[3] = {{conn.fd(), POLLIN, 0}, {g_signal_pipe[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    nfds_t n = stdin_open ? 3 : 2;
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      result = sys_error("poll");
      break;
    }
    if (fds[1].revents & POLLIN) {
      unsigned char sig;
      while (read(g_signal_pipe[0], &sig, 1) == 1) {
        if (sig == SIGWINCH)
          send_resize(ctx, opts.resize_path);
        else
          (void)ctx.client.call("POST", cat(opts.kill_path, "?signal=", static_cast<int>(sig)));
      }
    }
    if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        // EOF on stdin: half-close so the container sees EOF on its stdin
        // while its output still flows back.
        shutdown(conn.fd(), SHUT_WR);
        stdin_open = false;
      } else {
        std::string_view data(buf, static_cast<size_t>(r));
        while (!data.empty()) {
          ssize_t w = ::send(conn.fd(), data.data(), data.size(), MSG_NOSIGNAL);
          if (w < 0) {
            if (errno == EINTR) continue;
            stdin_open = false;
            break;
          }
          data.remove_prefix(static_cast<size_t>(w));
        }
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(conn.fd(), buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      result = output(std::string_view(buf, static_cast<size_t>(r)));
      if (!result) break;
    }
  }
  for (int s : sigs) signal(s, SIG_DFL);
  return result;
}

Status display_json_messages(client::Connection& conn, int out_fd) {
  bool term = isatty(out_fd);
  std::map<std::string, size_t> lines;  // layer id -> line index from the top of the block
  std::string pending;
  Status failure;
  auto show = [&](const nlohmann::json& m) {
    if (!m.is_object()) return;
    if (m.contains("errorDetail") || m.contains("error")) {
      std::string msg = m.value("error", "");
      if (m.contains("errorDetail") && m["errorDetail"].is_object()) msg = m["errorDetail"].value("message", msg);
      failure = make_error(msg);
      return;
    }
    if (m.contains("stream") && m["stream"].is_string()) {
      write_all(out_fd, m["stream"].get<std::string>());
      lines.clear();
      return;
    }
    std::string id = m.value("id", "");
    std::string status = m.value("status", "");
    std::string bar;
    if (m.contains("progressDetail") && m["progressDetail"].is_object()) {
      const auto& p = m["progressDetail"];
      bar = client::progress_bar(p.value("current", int64_t{0}), p.value("total", int64_t{0}));
    }
    if (!term && !bar.empty()) return;  // bars only on a terminal
    if (!term) {
      write_all(out_fd, id.empty() ? status + "\n" : cat(id, ": ", status, "\n"));
      return;
    }
    if (id.empty()) {
      lines.clear();
      write_all(out_fd, status + "\n");
      return;
    }
    // One line per layer, rewritten in place: go up to its line, clear
    // it, print, come back down.
    auto it = lines.find(id);
    if (it == lines.end()) {
      it = lines.emplace(id, lines.size()).first;
      write_all(out_fd, "\n");
    }
    size_t up = lines.size() - it->second;
    std::string text = cat(id, ": ", status, bar.empty() ? "" : " ", bar);
    write_all(out_fd, cat("\x1b[", up, "A\r\x1b[2K", text, "\r\x1b[", up, "B"));
  };
  for (;;) {
    auto part = conn.read_body_some();
    if (!part) return std::move(part).error();
    if (part->empty()) break;
    pending += *part;
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!trim(line).empty()) show(parse_json(line));
    }
  }
  if (!trim(pending).empty()) show(parse_json(pending));
  return failure;
}

int pull_image(Ctx& ctx, const std::string& ref, int out_fd, bool print_ref) {
  auto [name, tag] = client::split_reference(ref);
  std::string path = cat("/images/create?fromImage=", client::url_escape(name));
  if (!tag.empty()) path += cat("&tag=", client::url_escape(tag));
  auto conn = ctx.client.stream("POST", path, "", {{"X-Registry-Auth", "e30="}});
  if (!conn) return transport_failure(ctx, conn.error());
  if (conn->head().status / 100 != 2) {
    client::Response r;
    r.status = conn->head().status;
    auto body = conn->read_body();
    if (body) r.body = *body;
    return daemon_failure(r);
  }
  auto st = display_json_messages(*conn, out_fd);
  if (!st) {
    fprintf(stderr, "%s\n", st.error().message().c_str());
    return 1;
  }
  if (print_ref) write_all(out_fd, cat(name, tag.empty() ? "" : ":", tag, "\n"));
  return 0;
}

}  // namespace berth::cli
