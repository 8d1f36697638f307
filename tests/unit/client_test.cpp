// The berth command's client library without a daemon: the multiplexed
// stream decoder, chunked bodies, docker's human durations and sizes, the
// table layout, run's flags and create body, and the exit-code mapping.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "client/args.hpp"
#include "client/format.hpp"
#include "client/http_client.hpp"
#include "client/run_options.hpp"
#include "client/stdcopy.hpp"
#include "common/unix_socket.hpp"

namespace {

using namespace berth::client;

struct Collected {
  std::string out, err;
};

StdDemuxer collector(Collected* c) {
  return StdDemuxer([c](int stream, std::string_view b) { (stream == 2 ? c->err : c->out).append(b); });
}

TEST_CASE("demultiplexer: whole frames, then every possible split point") {
  std::string stream = std_frame(1, "hello\n") + std_frame(2, "oops\n") + std_frame(1, "") + std_frame(1, "bye\n");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Collected c;
    auto d = collector(&c);
    REQUIRE(d.feed(std::string_view(stream).substr(0, cut)).ok());
    REQUIRE(d.feed(std::string_view(stream).substr(cut)).ok());
    CHECK(c.out == "hello\nbye\n");
    CHECK(c.err == "oops\n");
    CHECK(d.at_boundary());
  }
}

TEST_CASE("demultiplexer: byte by byte, a partial frame, a large length, bad ids") {
  std::string stream = std_frame(2, std::string(70000, 'x')) + std_frame(1, "ok");
  Collected c;
  auto d = collector(&c);
  for (char ch : stream) REQUIRE(d.feed(std::string_view(&ch, 1)).ok());
  CHECK(c.err.size() == 70000);
  CHECK(c.out == "ok");

  Collected p;
  auto partial = collector(&p);
  std::string f = std_frame(1, "abcdef");
  REQUIRE(partial.feed(f.substr(0, 11)).ok());
  CHECK(p.out == "abc");  // payload is handed on as it arrives
  CHECK_FALSE(partial.at_boundary());

  Collected b;
  auto bad = collector(&b);
  std::string junk = "\x07\0\0\0\0\0\0\x01z";
  junk[1] = junk[2] = junk[3] = 0;
  CHECK_FALSE(bad.feed(std::string(junk.data(), 9)).ok());

  // Stream 3 carries the daemon's own error.
  Collected s;
  auto sys = collector(&s);
  auto st = sys.feed(std_frame(3, "broken"));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().find("broken") != std::string::npos);
}

TEST_CASE("chunked decoding in pieces, with extensions and trailers") {
  std::string body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: a\r\n\r\nGARBAGE";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    ChunkedDecoder d;
    std::string out;
    REQUIRE(d.feed(body.substr(0, cut), &out).ok());
    REQUIRE(d.feed(body.substr(cut), &out).ok());
    CHECK(out == "hello, world");
    CHECK(d.done());
  }
  ChunkedDecoder bad;
  std::string out;
  CHECK_FALSE(bad.feed("zz\r\n", &out).ok());
  ChunkedDecoder nocrlf;
  CHECK_FALSE(nocrlf.feed("1\r\naX", &out).ok());
}

TEST_CASE("response heads") {
  auto h = parse_response_head(
      "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
      "Connection: Upgrade\r\nUpgrade: tcp");
  REQUIRE(h.ok());
  CHECK(h->status == 101);
  CHECK(h->header("content-type") == "application/vnd.docker.raw-stream");
  CHECK(h->header("upgrade") == "tcp");
  CHECK_FALSE(parse_response_head("SSH-2.0-x").ok());
}

TEST_CASE("a request and a chunked response over a unix socket") {
  char dir[] = "/tmp/berth-client-test.XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/s.sock";
  auto listener = berth::listen_unix(path);
  REQUIRE(listener.ok());
  std::string request;
  std::thread server([&] {
    int fd = accept(listener->get(), nullptr, nullptr);
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    std::string resp = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    const char* parts[] = {"d\r\n{\"message\":\"n", "\r\ne\r\no such image\"}", "\r\n0\r\n\r\n"};
    (void)!send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
    for (const char* p : parts) {
      (void)!send(fd, p, strlen(p), MSG_NOSIGNAL);
      usleep(1000);
    }
    close(fd);
  });
  Client client(path);
  auto r = client.call("POST", "/containers/create?name=x", "{}");
  server.join();
  unlink(path.c_str());
  rmdir(dir);
  INFO((r.ok() ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  CHECK(r->status == 404);
  CHECK(r->message() == "no such image");
  CHECK(request.rfind("POST /v1.43/containers/create?name=x HTTP/1.1\r\n", 0) == 0);
  CHECK(request.find("Content-Length: 2\r\n") != std::string::npos);

  auto refused = Client("/nonexistent/berth.sock").call("GET", "/_ping");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == ENOENT);
}

TEST_CASE("human durations as go-units writes them") {
  CHECK(human_duration(0) == "Less than a second");
  CHECK(human_duration(1) == "1 second");
  CHECK(human_duration(3) == "3 seconds");
  CHECK(human_duration(59) == "59 seconds");
  CHECK(human_duration(60) == "About a minute");
  CHECK(human_duration(119) == "About a minute");
  CHECK(human_duration(120) == "2 minutes");
  CHECK(human_duration(59 * 60 + 59) == "59 minutes");
  CHECK(human_duration(3600) == "About an hour");
  CHECK(human_duration(5400) == "2 hours");  // hours are rounded
  CHECK(human_duration(47 * 3600) == "47 hours");
  CHECK(human_duration(48 * 3600) == "2 days");
  CHECK(human_duration(14 * 24 * 3600) == "2 weeks");
  CHECK(human_duration(60 * 24 * 3600) == "2 months");
  CHECK(human_duration(3 * 365 * 24 * 3600) == "3 years");
}

TEST_CASE("human sizes, binary sizes and --memory values") {
  CHECK(human_size(0, 3) == "0B");
  CHECK(human_size(999, 3) == "999B");
  CHECK(human_size(1000, 3) == "1kB");
  CHECK(human_size(4261301, 3) == "4.26MB");
  CHECK(human_size(1234567890) == "1.235GB");
  CHECK(bytes_size(1536 * 1024) == "1.5MiB");
  CHECK(bytes_size(512) == "512B");
  CHECK(ram_in_bytes("512m") == 512LL * 1024 * 1024);
  CHECK(ram_in_bytes("1g") == 1024LL * 1024 * 1024);
  CHECK(ram_in_bytes("1GB") == 1024LL * 1024 * 1024);
  CHECK(ram_in_bytes("100k") == 102400);
  CHECK(ram_in_bytes("4096") == 4096);
  CHECK_FALSE(ram_in_bytes("lots").has_value());
  CHECK_FALSE(ram_in_bytes("5q").has_value());
}

TEST_CASE("ids, commands, ports and the table layout") {
  CHECK(short_id("sha256:0123456789abcdef0123") == "0123456789ab");
  CHECK(short_id("fedcba9876543210") == "fedcba987654");
  CHECK(ps_command("sleep 1000") == "\"sleep 1000\"");
  CHECK(ps_command("sh -c 'while true; do date; done'") == "\"sh -c 'while true; …\"");
  CHECK(ps_command("echo \"hi\"") == "\"echo \\\"hi\\\"\"");
  CHECK(ellipsis("abcdef", 6) == "abcdef");
  CHECK(ellipsis("abcdefg", 6) == "abcde…");
  CHECK(format_port("0.0.0.0", 80, 8080, "tcp") == "0.0.0.0:8080->80/tcp");
  CHECK(format_port("::", 80, 8080, "tcp") == "[::]:8080->80/tcp");
  CHECK(format_port("", 53, 0, "udp") == "53/udp");

  std::string t = format_table({{"CONTAINER ID", "IMAGE", "NAMES"}, {"0123456789ab", "busybox", "x"}});
  CHECK(t ==
        "CONTAINER ID   IMAGE     NAMES\n"
        "0123456789ab   busybox   x\n");
  // Columns are at least 10 wide and padded by 3 beyond the widest cell.
  CHECK(format_table({{"A", "B"}, {"a-long-cell-x", "c"}}) == "A               B\na-long-cell-x   c\n");
}

TEST_CASE("progress bars") {
  CHECK(progress_bar(0, 0).empty());
  std::string half = progress_bar(500, 1000);
  CHECK(half.rfind("[=========================>", 0) == 0);
  CHECK(half.find("500B/1kB") != std::string::npos);
  CHECK(progress_bar(2000, 0).find("2kB") != std::string::npos);
}

std::vector<std::string> parse_run(RunOptions* o, std::vector<std::string> argv, bool* ok = nullptr) {
  Args a;
  o->add_flags(&a, true);
  bool help = false;
  auto r = a.parse(argv, false, &help);
  if (ok) *ok = r.ok();
  return r.ok() ? *r : std::vector<std::string>{};
}

TEST_CASE("run flags: grouped shorts, values in every spelling, stop at the image") {
  RunOptions o;
  auto pos = parse_run(
      &o, {"-dit", "--rm",      "--name=web", "-e",  "A=1",        "-eB=2",        "--env", "C=3", "-v/h:/c:ro",
           "-p",   "8080:80",   "--memory",   "64m", "--cpus=1.5", "--pids-limit", "10",    "-w",  "/tmp",
           "-u",   "1000:1000", "busybox",    "sh",  "-c",         "echo -n hi",   "--rm"});
  CHECK(o.detach);
  CHECK(o.interactive);
  CHECK(o.tty);
  CHECK(o.rm);
  CHECK(o.name == "web");
  CHECK(o.env == std::vector<std::string>{"A=1", "B=2", "C=3"});
  CHECK(o.volumes == std::vector<std::string>{"/h:/c:ro"});
  CHECK(pos == std::vector<std::string>{"busybox", "sh", "-c", "echo -n hi", "--rm"});

  bool ok = true;
  RunOptions bad;
  parse_run(&bad, {"--bogus", "busybox"}, &ok);
  CHECK_FALSE(ok);
  parse_run(&bad, {"-x", "busybox"}, &ok);
  CHECK_FALSE(ok);
  parse_run(&bad, {"busybox", "-e"}, &ok);
  CHECK(ok);  // after the image, flags belong to the command
  parse_run(&bad, {"-e"}, &ok);
  CHECK_FALSE(ok);
}

TEST_CASE("the create body") {
  RunOptions o;
  parse_run(&o, {"-it",      "--rm",         "-e",        "A=1",  "-e",
                 "FROM_ENV", "-e",           "UNSET_X",   "-p",   "127.0.0.1:8080:80/udp",
                 "-p",       "9000",         "--memory",  "1g",   "--cpus",
                 "0.5",      "--pids-limit", "64",        "-v",   "/data",
                 "-v",       "/src:/dst",    "--network", "none", "busybox"});
  setenv("FROM_ENV", "v", 1);
  unsetenv("UNSET_X");
  auto b = create_body(o, "busybox", {"sh"}, [](const char* n) -> const char* { return getenv(n); });
  REQUIRE(b.ok());
  const auto& j = *b;
  CHECK(j["Image"] == "busybox");
  CHECK(j["Cmd"] == nlohmann::json::array({"sh"}));
  CHECK(j["Tty"] == true);
  CHECK(j["OpenStdin"] == true);
  CHECK(j["AttachStdin"] == true);
  CHECK(j["StdinOnce"] == true);
  CHECK(j["Env"] == nlohmann::json::array({"A=1", "FROM_ENV=v"}));
  CHECK(j["ExposedPorts"].contains("80/udp"));
  CHECK(j["ExposedPorts"].contains("9000/tcp"));
  CHECK(j["HostConfig"]["PortBindings"]["80/udp"][0]["HostIp"] == "127.0.0.1");
  CHECK(j["HostConfig"]["PortBindings"]["80/udp"][0]["HostPort"] == "8080");
  CHECK(j["HostConfig"]["Memory"] == 1073741824);
  CHECK(j["HostConfig"]["NanoCpus"] == 500000000);
  CHECK(j["HostConfig"]["PidsLimit"] == 64);
  CHECK(j["HostConfig"]["AutoRemove"] == true);
  CHECK(j["HostConfig"]["NetworkMode"] == "none");
  CHECK(j["HostConfig"]["Binds"] == nlohmann::json::array({"/src:/dst"}));
  CHECK(j["Volumes"].contains("/data"));
  CHECK_FALSE(j.contains("Entrypoint"));

  RunOptions d;
  parse_run(&d, {"-d", "--restart", "on-failure:3", "--entrypoint", "", "busybox"});
  d.entrypoint_set = true;
  auto bd = create_body(d, "busybox", {});
  REQUIRE(bd.ok());
  CHECK((*bd)["AttachStdout"] == false);
  CHECK((*bd)["HostConfig"]["RestartPolicy"]["Name"] == "on-failure");
  CHECK((*bd)["HostConfig"]["RestartPolicy"]["MaximumRetryCount"] == 3);
  CHECK((*bd)["Entrypoint"] == nlohmann::json::array({""}));
  CHECK_FALSE(bd->contains("Cmd"));

  auto fails = [](std::vector<std::string> argv) {
    RunOptions x;
    parse_run(&x, std::move(argv));
    return !create_body(x, "busybox", {}).ok();
  };
  CHECK(fails({"--rm", "--restart", "always", "busybox"}));
  CHECK(fails({"--restart", "sometimes", "busybox"}));
  CHECK(fails({"--restart", "always:3", "busybox"}));
  CHECK(fails({"--memory", "much", "busybox"}));
  CHECK(fails({"--cpus", "two", "busybox"}));
  CHECK(fails({"-p", "80:http", "busybox"}));
  CHECK(fails({"-w", "relative", "busybox"}));
  CHECK_FALSE(fails({"--restart", "unless-stopped", "busybox"}));
}

TEST_CASE("exit codes for a container that failed to start") {
  CHECK(start_failure_exit_code(
            "failed to create task: exec: \"nosuchcmd\": executable file not found in $PATH: unknown") == 127);
  CHECK(start_failure_exit_code("exec /bin/x: no such file or directory") == 127);
  CHECK(start_failure_exit_code("exec /etc: permission denied") == 126);
  CHECK(start_failure_exit_code("exec /etc: is a directory") == 126);
  CHECK(start_failure_exit_code("cgroup: out of memory") == 125);
}

TEST_CASE("image references split into fromImage and tag") {
  CHECK(split_reference("busybox") == std::make_pair(std::string("busybox"), std::string("latest")));
  CHECK(split_reference("busybox:1.36") == std::make_pair(std::string("busybox"), std::string("1.36")));
  CHECK(split_reference("127.0.0.1:5000/app") ==
        std::make_pair(std::string("127.0.0.1:5000/app"), std::string("latest")));
  CHECK(split_reference("127.0.0.1:5000/app:v1") ==
        std::make_pair(std::string("127.0.0.1:5000/app"), std::string("v1")));
  CHECK(split_reference("app@sha256:abc").second.empty());
}

TEST_CASE("url escaping of query values") {
  CHECK(url_escape("127.0.0.1:5000/app") == "127.0.0.1%3A5000%2Fapp");
  CHECK(url_escape("a b") == "a%20b");
}

}  // namespace
