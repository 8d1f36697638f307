#include "daemon/http.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/log.hpp"
#include "common/strings.hpp"

namespace berth::daemon {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_token_char(char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool contains_token(std::string_view list, std::string_view token) {
  for (const std::string& part : split(list, ','))
    if (lower(trim(part)) == token) return true;
  return false;
}

HeadResult bad(int status, std::string why) {
  HeadResult r;
  r.state = HeadResult::State::bad;
  r.status = status;
  r.error = std::move(why);
  return r;
}

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

std::string Request::param(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

bool Request::flag(const std::string& name) const {
  std::string v = lower(param(name));
  return v == "1" || v == "true";
}

bool percent_decode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool parse_query(std::string_view q, std::map<std::string, std::string>* out) {
  for (const std::string& pair : split(q, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!percent_decode(std::string_view(pair).substr(0, eq), &name, true)) return false;
    if (eq != std::string::npos && !percent_decode(std::string_view(pair).substr(eq + 1), &value, true)) return false;
    out->emplace(std::move(name), std::move(value));
  }
  return true;
}

HeadResult parse_request_head(std::string_view buf, size_t max_head) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > max_head) return bad(431, "request header fields too large");
    return {};
  }
  if (end + 4 > max_head) return bad(431, "request header fields too large");
  HeadResult r;
  r.consumed = end + 4;
  Request& req = r.request;
  std::string_view head = buf.substr(0, end);

  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return bad(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty()) return bad(400, "malformed request line");
  for (char c : method)
    if (!is_token_char(c)) return bad(400, "malformed request method");
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' || version[7] > '9')
    return bad(505, "HTTP version not supported");
  if (target.empty() || target[0] != '/') return bad(400, "malformed request target");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad(400, "malformed request target");
  req.method = std::string(method);
  req.target = std::string(target);
  req.minor_version = version[7] - '0';
  size_t qpos = target.find('?');
  if (!percent_decode(target.substr(0, qpos), &req.path)) return bad(400, "malformed request target");
  if (req.path.find('\0') != std::string::npos) return bad(400, "malformed request target");
  if (qpos != std::string_view::npos && !parse_query(target.substr(qpos + 1), &req.query))
    return bad(400, "malformed query string");

  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad(400, "malformed header line");
    for (size_t i = 0; i < colon; ++i)
      if (!is_token_char(h[i])) return bad(400, "malformed header name");
    std::string_view value = trim(h.substr(colon + 1));
    for (char c : value)
      if (c == '\r' || c == '\n' || c == '\0') return bad(400, "malformed header value");
    req.headers.emplace_back(lower(h.substr(0, colon)), std::string(value));
  }

  std::string conn = req.header("connection");
  req.keep_alive = req.minor_version >= 1 ? !contains_token(conn, "close") : contains_token(conn, "keep-alive");
  req.expect_continue = lower(req.header("expect")) == "100-continue";

  bool have_te = false;
  for (const auto& [k, v] : req.headers) {
    if (k == "transfer-encoding") {
      if (have_te || lower(trim(v)) != "chunked") return bad(501, "unsupported transfer-encoding");
      have_te = true;
    } else if (k == "content-length") {
      auto n = parse_int<int64_t>(trim(v));
      if (!n || *n < 0) return bad(400, "malformed content-length");
      if (req.content_length >= 0 && req.content_length != *n) return bad(400, "conflicting content-length headers");
      req.content_length = *n;
    }
  }
  // A body framed both ways is a request-smuggling vector: refuse it.
  if (have_te && req.content_length >= 0) return bad(400, "both content-length and transfer-encoding");
  req.chunked = have_te;
  r.state = HeadResult::State::done;
  return r;
}

BodyDecoder::BodyDecoder(const Request& req) {
  if (req.chunked) {
    state_ = State::chunk_size;
  } else if (req.content_length > 0) {
    state_ = State::length;
    remaining_ = static_cast<uint64_t>(req.content_length);
  } else {
    state_ = State::done;
  }
}

Status BodyDecoder::feed(std::string_view in, size_t* used, std::string* out) {
  size_t pos = 0;
  // Chunk-size and trailer lines are short; a longer one is an attack.
  constexpr size_t kMaxLine = 4096;
  auto take_line = [&](std::string* line) -> Result<bool> {
    while (pos < in.size()) {
      char c = in[pos++];
      if (c == '\n') {
        if (line->empty() || line->back() != '\r') return make_error("malformed chunked body: bare LF");
        line->pop_back();
        return true;
      }
      line->push_back(c);
      if (line->size() > kMaxLine) return make_error("malformed chunked body: line too long");
    }
    return false;
  };
  while (pos < in.size() && state_ != State::done) {
    switch (state_) {
      case State::length:
      case State::chunk_data: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - pos));
        out->append(in.substr(pos, n));
        pos += n;
        remaining_ -= n;
        total_ += n;
        if (remaining_ == 0) state_ = state_ == State::length ? State::done : State::chunk_crlf;
        break;
      }
      case State::chunk_size: {
        auto got = take_line(&line_);
        if (!got) return std::move(got).error();
        if (!*got) break;
        std::string_view sz = line_;
        sz = trim(sz.substr(0, sz.find(';')));  // chunk extensions are ignored
        if (sz.empty() || sz.size() > 15) return make_error("malformed chunked body: bad chunk size");
        uint64_t v = 0;
        for (char c : sz) {
          int h = hex_value(c);
          if (h < 0) return make_error("malformed chunked body: bad chunk size");
          v = v * 16 + static_cast<uint64_t>(h);
        }
        line_.clear();
        remaining_ = v;
        state_ = v == 0 ? State::trailer : State::chunk_data;
        break;
      }
      case State::chunk_crlf: {
        auto got = take_line(&line_);
        if (!got) return std::move(got).error();
        if (!*got) break;
        if (!line_.empty()) return make_error("malformed chunked body: missing CRLF after chunk");
        state_ = State::chunk_size;
        break;
      }
      case State::trailer: {
        auto got = take_line(&line_);
        if (!got) return std::move(got).error();
        if (!*got) break;
        bool last = line_.empty();
        line_.clear();
        if (last) state_ = State::done;
        break;
      }
      case State::done:
        break;
    }
  }
  *used = pos;
  return {};
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 101:
      return "UPGRADED";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

// ---- BodyReader -------------------------------------------------------------

bool BodyReader::done() const { return conn_.body_.done(); }

Result<size_t> BodyReader::read(std::string* out, size_t max) {
  Connection& c = conn_;
  if (c.body_.done()) return size_t{0};
  if (c.req_ && c.req_->expect_continue && !c.continue_sent_) {
    c.continue_sent_ = true;
    if (!c.write_all("HTTP/1.1 100 Continue\r\n\r\n")) return Error(EPIPE, "client went away");
  }
  size_t before = out->size();
  while (out->size() == before && !c.body_.done()) {
    if (c.in_.empty() && !c.fill()) return Error(ECONNRESET, "request body cut short");
    size_t used = 0;
    std::string_view avail(c.in_);
    // Decode at most `max` bytes' worth of input in one go.
    if (avail.size() > max) avail = avail.substr(0, max);
    if (auto st = c.body_.feed(avail, &used, out); !st) {
      c.body_error_ = true;
      return std::move(st).error();
    }
    c.in_.erase(0, used);
  }
  return out->size() - before;
}

Result<std::string> BodyReader::read_all(size_t limit) {
  std::string out;
  if (conn_.req_ && conn_.req_->content_length > 0 && static_cast<uint64_t>(conn_.req_->content_length) > limit)
    return Error(EFBIG, cat("request body is larger than ", limit, " bytes"));
  while (!done()) {
    auto n = read(&out, 64 * 1024);
    if (!n) return std::move(n).error();
    if (out.size() > limit) return Error(EFBIG, cat("request body is larger than ", limit, " bytes"));
  }
  return out;
}

// ---- ResponseWriter ---------------------------------------------------------

namespace {

std::string status_head(int status, std::string_view content_type, const CommonHeaders& common,
                        const CommonHeaders& extra, bool close) {
  std::string h = cat("HTTP/1.1 ", status, " ", reason_phrase(status), "\r\n");
  for (const auto& [k, v] : common) h += cat(k, ": ", v, "\r\n");
  for (const auto& [k, v] : extra) h += cat(k, ": ", v, "\r\n");
  if (!content_type.empty()) h += cat("Content-Type: ", content_type, "\r\n");
  if (close) h += "Connection: close\r\n";
  return h;
}

}  // namespace

void ResponseWriter::send(int status, std::string_view content_type, std::string_view body,
                          const CommonHeaders& extra) {
  if (started_) return;
  started_ = true;
  bool head_only = conn_.req_ && conn_.req_->method == "HEAD";
  if (conn_.req_ && !conn_.req_->keep_alive) close_ = true;
  std::string h = status_head(status, content_type, conn_.options_.common_headers, extra, close_);
  if (status != 204 && status != 304) h += cat("Content-Length: ", body.size(), "\r\n");
  h += "\r\n";
  if (!head_only && status != 204 && status != 304) h.append(body);
  conn_.write_all(h);
}

void ResponseWriter::begin_stream(int status, std::string_view content_type) {
  if (started_) return;
  started_ = true;
  streaming_ = true;
  if (conn_.req_ && !conn_.req_->keep_alive) close_ = true;
  std::string h = status_head(status, content_type, conn_.options_.common_headers, {}, close_);
  h += "Transfer-Encoding: chunked\r\n\r\n";
  conn_.write_all(h);
}

bool ResponseWriter::chunk(std::string_view data) {
  if (!streaming_ || conn_.broken_) return false;
  if (data.empty()) return true;  // an empty chunk would end the stream
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string frame = size;
  frame.append(data);
  frame += "\r\n";
  return conn_.write_all(frame);
}

bool ResponseWriter::client_gone() const {
  if (conn_.broken_) return true;
  pollfd p{conn_.fd_, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

ResponseWriter::Hijacked ResponseWriter::hijack(std::string_view content_type) {
  Hijacked h;
  if (started_) return h;
  started_ = true;
  close_ = true;
  bool upgrade = false;
  if (conn_.req_) {
    std::string conn_hdr = conn_.req_->header("connection"), up = conn_.req_->header("upgrade");
    for (auto& c : conn_hdr) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upgrade = conn_hdr.find("upgrade") != std::string::npos && !up.empty();
  }
  CommonHeaders extra;
  if (upgrade) extra = {{"Connection", "Upgrade"}, {"Upgrade", "tcp"}};
  std::string head = status_head(upgrade ? 101 : 200, content_type, conn_.options_.common_headers, extra, false);
  head += "\r\n";
  if (!conn_.write_all(head)) return h;
  h.fd = conn_.fd_;
  h.pending = std::move(conn_.in_);
  conn_.in_.clear();
  conn_.hijacked_ = true;
  return h;
}

void ResponseWriter::end() {
  if (!streaming_) return;
  streaming_ = false;
  conn_.write_all("0\r\n\r\n");
}

// ---- Connection -------------------------------------------------------------

bool Connection::fill() {
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

bool Connection::write_all(std::string_view data) {
  while (!data.empty() && !broken_) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      broken_ = true;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return !broken_;
}

void Connection::write_error(int status, std::string_view message) {
  std::string body = cat("{\"message\":\"", message, "\"}\n");
  std::string h = status_head(status, "application/json", options_.common_headers, {}, true);
  h += cat("Content-Length: ", body.size(), "\r\n\r\n", body);
  write_all(h);
}

void Connection::linger() {
  ::shutdown(fd_, SHUT_WR);
  timeval tv{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64 * 1024];
  size_t drained = 0;
  while (drained < 64u * 1024 * 1024) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

void Connection::serve(const Handler& handler, const std::atomic<bool>& stopping) {
  timeval tv{options_.idle_timeout_s, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (!stopping.load()) {
    HeadResult head = parse_request_head(in_, options_.max_head);
    while (head.state == HeadResult::State::incomplete) {
      if (!fill()) return;  // EOF, idle timeout or error between requests
      head = parse_request_head(in_, options_.max_head);
    }
    if (head.state == HeadResult::State::bad) {
      log::debug(cat("bad request: ", head.error));
      write_error(head.status, head.error);
      linger();
      return;
    }
    in_.erase(0, head.consumed);
    Request req = std::move(head.request);
    req_ = &req;
    body_ = BodyDecoder(req);
    continue_sent_ = false;
    log::debug(cat(req.method, " ", req.target));

    BodyReader body(*this);
    ResponseWriter resp(*this);
    handler(req, body, resp);
    if (!resp.started()) resp.send(500, "application/json", "{\"message\":\"no response\"}\n");
    resp.end();
    req_ = nullptr;
    if (broken_ || body_error_ || hijacked_) return;
    if (resp.closing()) {
      if (!body_.done()) linger();
      return;
    }
    // Keep-alive needs the unread rest of the body gone; a client that
    // waits for 100 Continue never sent one, so its connection just closes.
    if (!body_.done()) {
      if (req.expect_continue && !continue_sent_) return;
      std::string sink;
      uint64_t drained = 0;
      while (!body_.done()) {
        sink.clear();
        auto n = body.read(&sink, 64 * 1024);
        if (!n || (drained += *n) > 1024 * 1024) return;
      }
    }
  }
}

// ---- Server -----------------------------------------------------------------

Server::Server(UniqueFd listener, Handler handler, ServerOptions options)
    : listener_(std::move(listener)), handler_(std::move(handler)), options_(std::move(options)) {}

Server::~Server() = default;

void Server::serve(int fd) {
  {
    Connection conn(fd, options_);
    conn.serve(handler_, stopping_);
  }
  std::lock_guard lock(mu_);
  open_.erase(fd);
  ::close(fd);
  cv_.notify_all();
}

Result<size_t> Server::run(int stop_fd, int grace_s) {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    if (fds[1].revents) break;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // EMFILE and friends: back off briefly instead of spinning.
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        log::warn(sys_error("accept").message());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    std::unique_lock lock(mu_);
    if (open_.size() >= options_.max_connections) {
      lock.unlock();
      Connection c(fd, options_);
      c.write_error(503, "too many connections");
      ::close(fd);
      continue;
    }
    open_.insert(fd);
    lock.unlock();
    try {
      std::thread([this, fd] { serve(fd); }).detach();
    } catch (const std::system_error& e) {
      log::warn(cat("cannot start a connection thread: ", e.what()));
      std::lock_guard relock(mu_);
      open_.erase(fd);
      ::close(fd);
    }
  }
  stopping_ = true;
  listener_.reset();
  if (options_.on_stop) options_.on_stop();
  std::unique_lock lock(mu_);
  // Idle connections wake from recv(); a request in progress finishes.
  for (int fd : open_) ::shutdown(fd, SHUT_RD);
  cv_.wait_for(lock, std::chrono::seconds(grace_s), [this] { return open_.empty(); });
  return open_.size();
}

}  // namespace berth::daemon
