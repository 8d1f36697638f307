// HTTP/1.1 over a unix socket, as the Docker Engine API speaks it: one
// request per connection, bodies sized by Content-Length, chunked, or the end
// of the connection, and the hijacked (Upgrade: tcp) streams of attach and
// exec start, after which the socket carries raw bytes both ways.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::client {

/// Incremental decoder for Transfer-Encoding: chunked. Fed raw bytes in any
/// split, it appends the payload to `out` and reports when the last chunk
/// (and its trailers) has been seen.
class ChunkedDecoder {
 public:
  /// Consumes `in`; payload bytes are appended to `out`. Returns an error on
  /// a malformed size line. Bytes after the terminating chunk are ignored.
  Status feed(std::string_view in, std::string* out);
  bool done() const { return state_ == State::done; }

 private:
  enum class State { size, data, data_crlf, trailer, done };
  State state_ = State::size;
  std::string line_;
  size_t remaining_ = 0;
};

/// Status line and headers of a response; header names are lower-cased.
struct ResponseHead {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string header(const std::string& lower_name) const;
};

/// Parses the head of a response (everything before the blank line, without
/// it). Header names are lower-cased; values are trimmed.
Result<ResponseHead> parse_response_head(std::string_view text);

/// One connection to the daemon carrying one request.
class Connection {
 public:
  /// Connects to the unix socket at `path`; the error keeps connect's errno
  /// (ENOENT, ECONNREFUSED mean the daemon is not running).
  static Result<Connection> open(const std::string& path);

  /// Writes a request. `headers` are extra lines ("Name: value"); a body
  /// gets a Content-Length.
  Status send(std::string_view method, std::string_view target, std::string_view body = {},
              const std::map<std::string, std::string>& headers = {});
  /// Sends a request whose body is streamed from `fd` (chunked encoding).
  Status send_from_fd(std::string_view method, std::string_view target, int fd,
                      const std::map<std::string, std::string>& headers = {});
  /// Reads the status line and headers.
  Result<ResponseHead> read_head();
  /// The head read by read_head().
  const ResponseHead& head() const { return head_; }
  /// Reads some of the body (decoding chunked); returns 0 bytes at its end.
  Result<std::string> read_body_some();
  /// Reads the rest of the body.
  Result<std::string> read_body();

  /// After a hijack: bytes already read past the head, then the raw socket.
  std::string take_buffered();
  int fd() const { return fd_.get(); }

 private:
  Status write_all(std::string_view data);
  Result<size_t> fill();

  UniqueFd fd_;
  std::string buf_;
  ResponseHead head_;
  enum class Framing { length, chunked, eof } framing_ = Framing::eof;
  size_t remaining_ = 0;
  ChunkedDecoder chunked_;
  bool body_done_ = false;
};

/// A finished request: status and the whole body.
struct Response {
  int status = 0;
  std::string body;
  ResponseHead head;
  bool ok() const { return status >= 200 && status < 300; }
  /// The daemon's "message" from a JSON error body (the body itself if it
  /// is not JSON).
  std::string message() const;
};

/// The API client: every path is sent under /v<api_version>.
class Client {
 public:
  explicit Client(std::string socket_path) : socket_(std::move(socket_path)) {}
  const std::string& socket_path() const { return socket_; }

  /// One request, the whole response read.
  Result<Response> call(std::string_view method, std::string_view path, std::string_view body = {},
                        const std::map<std::string, std::string>& headers = {});
  /// Sends a request and reads the head; the caller reads the body.
  Result<Connection> stream(std::string_view method, std::string_view path, std::string_view body = {},
                            const std::map<std::string, std::string>& headers = {});
  /// Sends `method path` with Connection: Upgrade / Upgrade: tcp; on 101 (or
  /// 200 from older daemons) returns the connection for raw use. Other
  /// statuses become a Response in `*failed`.
  Result<Connection> hijack(std::string_view path, std::string_view body, Response* failed);

  static constexpr const char* kApiVersion = "1.43";

 private:
  std::string socket_;
};

/// Percent-encodes a query value.
std::string url_escape(std::string_view s);

}  // namespace berth::client
