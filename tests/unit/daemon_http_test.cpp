// berthd's HTTP parsing without sockets: request heads, chunked and
// Content-Length bodies fed in pieces, query strings, API version prefixes
// and the small helpers the image endpoints use.
#include <doctest/doctest.h>

#include <string>

#include "daemon/api.hpp"
#include "daemon/http.hpp"
#include "daemon/images.hpp"

namespace {

using namespace berth::daemon;
using State = HeadResult::State;

TEST_CASE("a request head with a query, headers and keep-alive") {
  std::string buf =
      "GET /v1.43/images/127.0.0.1%3A5000%2Fapp/json?all=1&filters=%7B%22a%22%3A1%7D&x=a+b HTTP/1.1\r\n"
      "Host: docker\r\nUser-Agent: Docker-Client/28.2.2\r\n\r\nNEXT";
  HeadResult r = parse_request_head(buf);
  REQUIRE(r.state == State::done);
  CHECK(r.consumed == buf.size() - 4);
  const Request& q = r.request;
  CHECK(q.method == "GET");
  CHECK(q.path == "/v1.43/images/127.0.0.1:5000/app/json");
  CHECK(q.param("all") == "1");
  CHECK(q.flag("all"));
  CHECK_FALSE(q.flag("none"));
  CHECK(q.param("filters") == "{\"a\":1}");
  CHECK(q.param("x") == "a b");
  CHECK(q.header("user-agent") == "Docker-Client/28.2.2");
  CHECK(q.keep_alive);
  CHECK(q.content_length == -1);
  CHECK_FALSE(q.chunked);
}

TEST_CASE("incomplete heads wait for more; oversized ones are 431") {
  CHECK(parse_request_head("GET / HTTP/1.1\r\nHost: x\r\n").state == State::incomplete);
  CHECK(parse_request_head("").state == State::incomplete);
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a');
  HeadResult r = parse_request_head(big, 100);
  CHECK(r.state == State::bad);
  CHECK(r.status == 431);
}

TEST_CASE("malformed request lines and headers are 400, 501 or 505") {
  struct Case {
    const char* text;
    int status;
  } cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"GET noslash HTTP/1.1\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400},
      {"GET /%zz HTTP/1.1\r\n\r\n", 400},
      {"GET /a%00b HTTP/1.1\r\n\r\n", 400},
      {"GET /?a=%4 HTTP/1.1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    HeadResult r = parse_request_head(c.text);
    CHECK(r.state == State::bad);
    CHECK(r.status == c.status);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("connection persistence follows the version and the Connection header") {
  CHECK_FALSE(parse_request_head("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").request.keep_alive);
  CHECK_FALSE(parse_request_head("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  CHECK(parse_request_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keep_alive);
  HeadResult r = parse_request_head("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  CHECK(r.request.expect_continue);
  CHECK(r.request.content_length == 5);
}

// Feeds `wire` to a decoder `step` bytes at a time; returns the body, or
// "ERROR" on a framing error. *rest gets what follows the body.
std::string decode(const Request& req, const std::string& wire, size_t step, std::string* rest = nullptr) {
  BodyDecoder d(req);
  std::string out, pending;
  size_t pos = 0;
  while (!d.done() && pos < wire.size()) {
    pending += wire.substr(pos, step);
    pos += step;
    size_t used = 0;
    if (!d.feed(pending, &used, &out)) return "ERROR";
    pending.erase(0, used);
  }
  if (!d.done()) return "INCOMPLETE";
  if (rest) *rest = pending + (pos < wire.size() ? wire.substr(pos) : "");
  return out;
}

TEST_CASE("chunked bodies decode the same whatever the read sizes") {
  Request req;
  req.chunked = true;
  std::string wire = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nGET";
  for (size_t step : {1, 2, 3, 7, 64}) {
    CAPTURE(step);
    std::string rest;
    CHECK(decode(req, wire, step, &rest) == "hello 0123456789");
    CHECK(rest == "GET");
  }
  CHECK(decode(req, "zz\r\n", 4) == "ERROR");
  CHECK(decode(req, "2\r\nabX\r\n0\r\n\r\n", 3) == "ERROR");
  CHECK(decode(req, "2\nab\r\n0\r\n\r\n", 3) == "ERROR");
  CHECK(decode(req, "FFFFFFFFFFFFFFFFFF\r\n", 5) == "ERROR");
  CHECK(decode(req, "5\r\nhel", 2) == "INCOMPLETE");
}

TEST_CASE("Content-Length bodies stop at the length; no body is done at once") {
  Request req;
  req.content_length = 4;
  std::string rest;
  CHECK(decode(req, "abcdefg", 3, &rest) == "abcd");
  CHECK(rest == "efg");
  Request none;
  CHECK(BodyDecoder(none).done());
}

TEST_CASE("API version prefixes") {
  std::string v;
  CHECK(strip_version("/v1.43/images/json", &v) == "/images/json");
  CHECK(v == "1.43");
  CHECK(strip_version("/v1.40/_ping", &v) == "/_ping");
  CHECK(strip_version("/v1.47/info", &v) == "/info");
  CHECK(strip_version("/_ping", &v) == "/_ping");
  CHECK(v.empty());
  CHECK_FALSE(strip_version("/v1.39/version", &v).has_value());
  CHECK(v == "1.39");
  CHECK_FALSE(strip_version("/v1.50/version", &v).has_value());
  CHECK_FALSE(strip_version("/v2.0/version", &v).has_value());
  // Not a version: routed as is (and answered 404).
  CHECK(strip_version("/vx/version", &v) == "/vx/version");
  CHECK(strip_version("/volumes", &v) == "/volumes");
}

TEST_CASE("image helpers: times, familiar names, reference filters") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2024-01-02T03:04:05.123456789Z") == 1704164645);
  CHECK(parse_rfc3339("2024-01-02T05:04:05+02:00") == 1704164645);
  CHECK(parse_rfc3339("yesterday") == 0);
  CHECK(familiar_name("docker.io/library/busybox:latest") == "busybox:latest");
  CHECK(familiar_name("127.0.0.1:5000/app:v1") == "127.0.0.1:5000/app:v1");
  CHECK(reference_matches("docker.io/library/busybox:latest", "busybox"));
  CHECK(reference_matches("docker.io/library/busybox:latest", "busy*:latest"));
  CHECK(reference_matches("127.0.0.1:5000/app:v1", "127.0.0.1:5000/app"));
  CHECK_FALSE(reference_matches("docker.io/library/busybox:latest", "alpine"));
  CHECK_FALSE(reference_matches("docker.io/library/busybox:latest", "busybox:1"));
}

TEST_CASE("reason phrases") {
  CHECK(reason_phrase(413) == "Request Entity Too Large");
  CHECK(reason_phrase(404) == "Not Found");
  CHECK(reason_phrase(299) == "Unknown");
}

}  // namespace
