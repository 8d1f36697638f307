// The Engine API transport; see http_client.hpp.
#include "client/http_client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "common/strings.hpp"
#include "common/unix_socket.hpp"

namespace berth::client {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Status ChunkedDecoder::feed(std::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size() && state_ != State::done) {
    switch (state_) {
      case State::size:
      case State::trailer: {
        size_t nl = in.find('\n', i);
        if (nl == std::string_view::npos) {
          line_.append(in.substr(i));
          if (line_.size() > 4096) return make_error("chunked body: size line too long");
          return {};
        }
        line_.append(in.substr(i, nl - i));
        i = nl + 1;
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        std::string line = std::move(line_);
        line_.clear();
        if (state_ == State::trailer) {
          if (line.empty()) state_ = State::done;
          break;
        }
        // Chunk extensions (";name=value") are allowed and ignored.
        std::string_view digits = trim(std::string_view(line).substr(0, line.find(';')));
        auto n = parse_int<unsigned long long>(digits, 16);
        if (digits.empty() || !n) return make_error("chunked body: bad chunk size \"", line, "\"");
        remaining_ = static_cast<size_t>(*n);
        state_ = remaining_ == 0 ? State::trailer : State::data;
        break;
      }
      case State::data: {
        size_t take = std::min(remaining_, in.size() - i);
        out->append(in.substr(i, take));
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::data_crlf;
        break;
      }
      case State::data_crlf: {
        // The CRLF after a chunk's data; tolerate a bare LF.
        char c = in[i++];
        if (c == '\n')
          state_ = State::size;
        else if (c != '\r')
          return make_error("chunked body: missing CRLF after chunk");
        break;
      }
      case State::done:
        break;
    }
  }
  return {};
}

std::string ResponseHead::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

Result<ResponseHead> parse_response_head(std::string_view text) {
  ResponseHead head;
  auto lines = split(text, '\n');
  if (lines.empty()) return make_error("empty HTTP response");
  std::string_view status_line = trim(lines[0]);
  // "HTTP/1.1 200 OK"
  if (!starts_with(status_line, "HTTP/1.")) return make_error("malformed HTTP status line \"", status_line, "\"");
  size_t sp = status_line.find(' ');
  auto code = parse_int<int>(status_line.substr(sp + 1, 3));
  if (sp == std::string_view::npos || !code) return make_error("malformed HTTP status line \"", status_line, "\"");
  head.status = *code;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = trim(lines[i]);
    if (l.empty()) continue;
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) return make_error("malformed HTTP header \"", l, "\"");
    head.headers[lower(trim(l.substr(0, colon)))] = std::string(trim(l.substr(colon + 1)));
  }
  return head;
}

Result<Connection> Connection::open(const std::string& path) {
  auto fd = connect_unix(path);
  if (!fd) return std::move(fd).error();
  Connection c;
  c.fd_ = std::move(*fd);
  return c;
}

Status Connection::write_all(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write to the daemon");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status Connection::send(std::string_view method, std::string_view target, std::string_view body,
                        const std::map<std::string, std::string>& headers) {
  std::string req = cat(method, " ", target, " HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli\r\n");
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += cat(k, ": ", v, "\r\n");
    if (lower(k) == "content-type") has_type = true;
  }
  if (!body.empty() && !has_type) req += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") req += cat("Content-Length: ", body.size(), "\r\n");
  req += "\r\n";
  req.append(body);
  return write_all(req);
}

Status Connection::send_from_fd(std::string_view method, std::string_view target, int fd,
                                const std::map<std::string, std::string>& headers) {
  std::string req = cat(method, " ", target, " HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli\r\n");
  for (const auto& [k, v] : headers) req += cat(k, ": ", v, "\r\n");
  req += "Transfer-Encoding: chunked\r\n\r\n";
  BERTH_TRY(write_all(req));
  std::string chunk(64 * 1024, '\0');
  for (;;) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read the request body");
    }
    if (n == 0) break;
    char size_line[32];
    int len = snprintf(size_line, sizeof size_line, "%zx\r\n", static_cast<size_t>(n));
    BERTH_TRY(write_all(std::string_view(size_line, static_cast<size_t>(len))));
    BERTH_TRY(write_all(std::string_view(chunk.data(), static_cast<size_t>(n))));
    BERTH_TRY(write_all("\r\n"));
  }
  return write_all("0\r\n\r\n");
}

Result<size_t> Connection::fill() {
  char tmp[65536];
  for (;;) {
    ssize_t n = ::read(fd_.get(), tmp, sizeof tmp);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read from the daemon");
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return static_cast<size_t>(n);
  }
}

Result<ResponseHead> Connection::read_head() {
  for (;;) {
    size_t end = buf_.find("\r\n\r\n");
    size_t skip = 4;
    if (end == std::string::npos) {
      end = buf_.find("\n\n");
      skip = 2;
    }
    if (end != std::string::npos) {
      auto head = parse_response_head(std::string_view(buf_).substr(0, end));
      if (!head) return std::move(head).error();
      buf_.erase(0, end + skip);
      head_ = *head;
      std::string te = lower(head_.header("transfer-encoding"));
      std::string cl = head_.header("content-length");
      if (te.find("chunked") != std::string::npos) {
        framing_ = Framing::chunked;
      } else if (!cl.empty()) {
        framing_ = Framing::length;
        remaining_ = parse_int<size_t>(cl).value_or(0);
      } else if (head_.status == 204 || head_.status == 304) {
        framing_ = Framing::length;
        remaining_ = 0;
      } else {
        framing_ = Framing::eof;
      }
      return head_;
    }
    if (buf_.size() > 1024 * 1024) return make_error("HTTP response head too large");
    auto n = fill();
    if (!n) return std::move(n).error();
    if (*n == 0) return make_error("the daemon closed the connection without a response");
  }
}

Result<std::string> Connection::read_body_some() {
  std::string out;
  while (out.empty() && !body_done_) {
    if (buf_.empty()) {
      if (framing_ == Framing::length && remaining_ == 0) {
        body_done_ = true;
        break;
      }
      auto n = fill();
      if (!n) return std::move(n).error();
      if (*n == 0) {
        body_done_ = true;
        if (framing_ == Framing::eof) break;
        return make_error("the daemon closed the connection in the middle of a response");
      }
    }
    switch (framing_) {
      case Framing::eof:
        out.swap(buf_);
        break;
      case Framing::length: {
        size_t take = std::min(remaining_, buf_.size());
        out.assign(buf_, 0, take);
        buf_.clear();
        remaining_ -= take;
        if (remaining_ == 0) body_done_ = true;
        break;
      }
      case Framing::chunked: {
        std::string in;
        in.swap(buf_);
        BERTH_TRY(chunked_.feed(in, &out));
        if (chunked_.done()) body_done_ = true;
        break;
      }
    }
  }
  return out;
}

Result<std::string> Connection::read_body() {
  std::string all;
  for (;;) {
    auto part = read_body_some();
    if (!part) return std::move(part).error();
    if (part->empty()) return all;
    all += *part;
  }
}

std::string Connection::take_buffered() {
  std::string out;
  out.swap(buf_);
  return out;
}

std::string Response::message() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  std::string_view t = trim(body);
  if (t.empty()) return cat("HTTP status ", status);
  return std::string(t);
}

static std::string versioned(std::string_view path) { return cat("/v", Client::kApiVersion, path); }

Result<Response> Client::call(std::string_view method, std::string_view path, std::string_view body,
                              const std::map<std::string, std::string>& headers) {
  auto conn = stream(method, path, body, headers);
  if (!conn) return std::move(conn).error();
  Response r;
  r.head = conn->head();
  r.status = r.head.status;
  auto b = conn->read_body();
  if (!b) return std::move(b).error();
  r.body = std::move(*b);
  return r;
}

Result<Connection> Client::stream(std::string_view method, std::string_view path, std::string_view body,
                                  const std::map<std::string, std::string>& headers) {
  auto conn = Connection::open(socket_);
  if (!conn) return std::move(conn).error();
  BERTH_TRY(conn->send(method, versioned(path), body, headers));
  auto head = conn->read_head();
  if (!head) return std::move(head).error();
  return conn;
}

Result<Connection> Client::hijack(std::string_view path, std::string_view body, Response* failed) {
  auto conn = Connection::open(socket_);
  if (!conn) return std::move(conn).error();
  BERTH_TRY(conn->send("POST", versioned(path), body, {{"Connection", "Upgrade"}, {"Upgrade", "tcp"}}));
  auto head = conn->read_head();
  if (!head) return std::move(head).error();
  if (head->status != 101 && head->status != 200) {
    failed->status = head->status;
    failed->head = *head;
    auto b = conn->read_body();
    if (b) failed->body = std::move(*b);
    return make_error("hijack refused");
  }
  return conn;
}

std::string url_escape(std::string_view s) {
  static const char* hexd = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hexd[c >> 4]);
      out.push_back(hexd[c & 15]);
    }
  }
  return out;
}

}  // namespace berth::client
