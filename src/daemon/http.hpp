// A small HTTP/1.1 server over a unix socket, for berthd's Engine API.
//
// One thread per connection: requests on a connection are served in order
// (keep-alive), and a long request (a pull) blocks only its own connection.
// The request head is parsed by plain functions (parse_request_head,
// BodyDecoder) so the parser can be tested and fuzzed without sockets.
// Malformed requests get a 400 and the connection is closed; the server goes
// on serving the others.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::daemon {

struct Request {
  std::string method;
  std::string target;  // as sent: "/v1.43/images/json?all=1"
  std::string path;    // percent-decoded, without the query
  std::map<std::string, std::string> query;
  int minor_version = 1;                                     // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  bool keep_alive = true;
  bool chunked = false;
  int64_t content_length = -1;  // -1: none given
  bool expect_continue = false;
  /// The body, for requests whose handler has it read whole before routing.
  std::string body;

  /// The first value of header `name` (lower case), or "".
  std::string header(std::string_view name) const;
  /// The query parameter, or `fallback`.
  std::string param(const std::string& name, const std::string& fallback = "") const;
  /// Docker's boolean parameters: "1", "true", "True" are true.
  bool flag(const std::string& name) const;
};

/// The outcome of parsing a request head from the start of a buffer.
struct HeadResult {
  enum class State { incomplete, done, bad } state = State::incomplete;
  size_t consumed = 0;  // bytes of the head, including the blank line
  int status = 0;       // for bad: 400, 414, 431, 501, 505
  std::string error;    // for bad: why
  Request request;
};

/// Parses a request line and headers. Heads longer than `max_head` bytes are
/// rejected (431), as are bad request lines, conflicting Content-Length
/// headers, Transfer-Encoding other than chunked and non-1.x versions.
HeadResult parse_request_head(std::string_view buf, size_t max_head = 64 * 1024);

/// "%2F" -> "/", "+" kept as is (paths); query values also map '+' to ' '.
/// Returns false on a bad escape.
bool percent_decode(std::string_view in, std::string* out, bool plus_is_space = false);

/// Splits "a=1&b=x%20y" into a map (the first value of a repeated name wins).
bool parse_query(std::string_view q, std::map<std::string, std::string>* out);

/// Decodes a request body framed by Content-Length or chunked encoding,
/// incrementally: feed() takes what arrived and appends decoded bytes.
class BodyDecoder {
 public:
  BodyDecoder() = default;
  /// For a request whose head says how its body is framed (no body: done).
  explicit BodyDecoder(const Request& req);

  /// Consumes a prefix of `in` (sets *used) and appends body bytes to *out.
  /// Errors are framing errors (bad chunk size line, missing CRLF).
  Status feed(std::string_view in, size_t* used, std::string* out);
  bool done() const { return state_ == State::done; }
  /// Body bytes decoded so far.
  uint64_t total() const { return total_; }

 private:
  enum class State { length, chunk_size, chunk_data, chunk_crlf, trailer, done };
  State state_ = State::done;
  uint64_t remaining_ = 0;
  uint64_t total_ = 0;
  std::string line_;  // a partial chunk-size or trailer line
};

/// The status line's reason phrase for `status`.
std::string_view reason_phrase(int status);

class Connection;

/// Reads the current request's body from the connection.
class BodyReader {
 public:
  explicit BodyReader(Connection& c) : conn_(c) {}
  /// Up to `max` body bytes appended to *out; 0 appended means the end.
  /// Sends "100 Continue" first when the client waits for it.
  Result<size_t> read(std::string* out, size_t max);
  /// The whole body; an error with code EFBIG past `limit` bytes.
  Result<std::string> read_all(size_t limit);
  bool done() const;

 private:
  Connection& conn_;
};

/// Writes one response: either whole (send) or as a chunked stream.
class ResponseWriter {
 public:
  explicit ResponseWriter(Connection& c) : conn_(c) {}
  /// A complete response. HEAD requests get the headers only.
  void send(int status, std::string_view content_type, std::string_view body,
            const std::vector<std::pair<std::string, std::string>>& extra = {});
  void send_json(int status, std::string_view body) { send(status, "application/json", body); }
  /// Starts a chunked response; then chunk() any number of times, then end().
  void begin_stream(int status, std::string_view content_type);
  /// Returns false once the client is gone (the caller may stop early).
  bool chunk(std::string_view data);
  void end();
  bool started() const { return started_; }
  /// Takes the connection over for a raw two-way stream (attach, exec
  /// start): sends `status` (101 with "Upgrade: tcp" when the client asked
  /// for an upgrade, else 200) and the headers, with no framing after them.
  /// Returns the socket and the input already read past the request. The
  /// connection closes when the handler returns.
  struct Hijacked {
    int fd = -1;
    std::string pending;
  };
  Hijacked hijack(std::string_view content_type);
  /// True once the client has closed its end (or the connection broke):
  /// a long wait or follow can stop early.
  bool client_gone() const;
  /// Closes the connection after this response.
  void close_after() { close_ = true; }
  bool closing() const { return close_; }

 private:
  Connection& conn_;
  bool started_ = false;
  bool streaming_ = false;
  bool close_ = false;
};

/// Headers added to every response (berthd: "Api-Version", "Server").
using CommonHeaders = std::vector<std::pair<std::string, std::string>>;
using Handler = std::function<void(Request&, BodyReader&, ResponseWriter&)>;

struct ServerOptions {
  size_t max_head = 64 * 1024;
  /// Connections served at once; more are answered 503 and closed.
  size_t max_connections = 256;
  /// An idle keep-alive connection is closed after this many seconds.
  int idle_timeout_s = 300;
  CommonHeaders common_headers;
  /// Called once the server is stopping, before it shuts the open
  /// connections down for reading.
  std::function<void()> on_stop;
};

/// Accepts on a listening socket and serves each connection on its own thread.
class Server {
 public:
  Server(UniqueFd listener, Handler handler, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Serves until `stop_fd` becomes readable (a signalfd or a pipe), then
  /// stops accepting, shuts the open connections down for reading and
  /// waits up to `grace_s` seconds for their requests to finish. Returns
  /// the number of connection threads still running (0 when all ended).
  Result<size_t> run(int stop_fd, int grace_s = 10);

 private:
  friend class Connection;
  void serve(int fd);

  UniqueFd listener_;
  Handler handler_;
  ServerOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> open_;  // fds of live connections
  std::atomic<bool> stopping_{false};
};

/// One client connection: its buffered input and the current request.
class Connection {
 public:
  Connection(int fd, const ServerOptions& o) : fd_(fd), options_(o) {}
  /// Serves requests until the client closes, an error, or `stopping`.
  void serve(const Handler& handler, const std::atomic<bool>& stopping);
  /// A complete {"message": ...} response that closes the connection.
  void write_error(int status, std::string_view message);

 private:
  friend class BodyReader;
  friend class ResponseWriter;
  /// Reads more input into in_; false at EOF or error.
  bool fill();
  bool write_all(std::string_view data);
  /// Closes after an error response while the client may still be sending:
  /// reading (and dropping) what is in flight for a moment lets the client
  /// see the response instead of a connection reset.
  void linger();

  int fd_;
  const ServerOptions& options_;
  std::string in_;
  Request* req_ = nullptr;
  BodyDecoder body_;
  bool continue_sent_ = false;
  bool broken_ = false;      // writing failed: the client is gone
  bool body_error_ = false;  // the body's framing is broken: no next request
  bool hijacked_ = false;    // a handler took the socket over (attach)
};

}  // namespace berth::daemon
