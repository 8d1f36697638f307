// berthd's container pieces that need no container: names, docker's human
// durations and statuses, the json-file log reader (rotation included) and
// the stream framing.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "common/fs.hpp"
#include "daemon/container_io.hpp"
#include "daemon/containers.hpp"
#include "daemon/images.hpp"
#include "helpers/test_support.hpp"

namespace {

using namespace berth::daemon;
using berth::test::TempDir;

std::string line(const std::string& stream, const std::string& log, const std::string& time) {
  return "{\"log\":\"" + log + "\",\"stream\":\"" + stream + "\",\"time\":\"" + time + "\"}\n";
}

void append(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  REQUIRE(f);
  std::fputs(text.c_str(), f);
  std::fclose(f);
}

TEST_CASE("container names follow docker's rule") {
  CHECK(valid_container_name("web"));
  CHECK(valid_container_name("/web"));
  CHECK(valid_container_name("a.b-c_d9"));
  CHECK_FALSE(valid_container_name("a"));
  CHECK_FALSE(valid_container_name("-web"));
  CHECK_FALSE(valid_container_name("_web"));
  CHECK_FALSE(valid_container_name("we b"));
  CHECK_FALSE(valid_container_name("bad/name"));
  CHECK_FALSE(valid_container_name(""));
}

TEST_CASE("docker's human durations") {
  CHECK(human_duration(0) == "Less than a second");
  CHECK(human_duration(1) == "1 second");
  CHECK(human_duration(59) == "59 seconds");
  CHECK(human_duration(60) == "About a minute");
  CHECK(human_duration(150) == "2 minutes");
  CHECK(human_duration(3600) == "About an hour");
  CHECK(human_duration(5 * 3600) == "5 hours");
  CHECK(human_duration(3 * 86400) == "3 days");
}

TEST_CASE("docker's human container statuses") {
  std::time_t now = parse_rfc3339("2026-11-26T12:00:10Z");
  ContainerState s;
  CHECK(human_status(s, now) == "Created");
  s.status = "running";
  s.started_at = "2026-11-26T12:00:07.5Z";
  CHECK(human_status(s, now) == "Up 3 seconds");
  s.status = "paused";
  CHECK(human_status(s, now) == "Up 3 seconds (Paused)");
  s.status = "exited";
  s.exit_code = 137;
  s.finished_at = "2026-11-26T11:58:10Z";
  CHECK(human_status(s, now) == "Exited (137) 2 minutes ago");
  s.status = "restarting";
  s.exit_code = 1;
  CHECK(human_status(s, now) == "Restarting (1) 2 minutes ago");
}

TEST_CASE("a json-file line; anything else is not one") {
  LogEntry e;
  REQUIRE(parse_log_line(R"({"log":"hi\n","stream":"stderr","time":"2026-11-26T12:00:00.1Z"})", &e));
  CHECK(e.log == "hi\n");
  CHECK(e.stream == "stderr");
  CHECK(e.time == "2026-11-26T12:00:00.1Z");
  CHECK_FALSE(parse_log_line("hi", &e));
  CHECK_FALSE(parse_log_line(R"({"stream":"stdout"})", &e));
  CHECK_FALSE(parse_log_line(R"({"log":1})", &e));
}

TEST_CASE("a stream frame: stream byte, three zeros, big-endian size, payload") {
  std::string f = frame(2, std::string(300, 'x'));
  REQUIRE(f.size() == 308);
  CHECK(f[0] == 2);
  CHECK(f[1] == 0);
  CHECK(f[2] == 0);
  CHECK(f[3] == 0);
  CHECK(static_cast<unsigned char>(f[6]) == 1);
  CHECK(static_cast<unsigned char>(f[7]) == 44);
  CHECK(frame(1, "").size() == 8);
}

TEST_CASE("the log reader: rotated files first, then what is appended, across a rotation") {
  TempDir dir;
  std::string log = dir / "container.log";
  append(log + ".1", line("stdout", "a\\n", "2026-11-26T12:00:00Z"));
  append(log, line("stderr", "b\\n", "2026-11-26T12:00:01Z"));
  // A line still being written is not read yet.
  append(log, "{\"log\":\"c");
  LogReader r(dir.path());
  auto all = r.read_all();
  REQUIRE(all.size() == 2);
  CHECK(all[0].log == "a\n");
  CHECK(all[1].log == "b\n");
  CHECK(all[1].stream == "stderr");
  CHECK(r.read_new().empty());
  append(log, "\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-26T12:00:02Z\"}\n");
  auto more = r.read_new();
  REQUIRE(more.size() == 1);
  CHECK(more[0].log == "c\n");
  // The monitor rotates: the reader finishes the old file, then reads the new.
  append(log, line("stdout", "d\\n", "2026-11-26T12:00:03Z"));
  REQUIRE(std::rename((log + ".1").c_str(), (log + ".2").c_str()) == 0);
  REQUIRE(std::rename(log.c_str(), (log + ".1").c_str()) == 0);
  append(log, line("stdout", "e\\n", "2026-11-26T12:00:04Z"));
  auto after = r.read_new();
  REQUIRE(after.size() == 2);
  CHECK(after[0].log == "d\n");
  CHECK(after[1].log == "e\n");
  // A reader placed at the end sees only new lines.
  LogReader tail(dir.path());
  tail.seek_end();
  CHECK(tail.read_new().empty());
  append(log, line("stdout", "f\\n", "2026-11-26T12:00:05Z"));
  auto fresh = tail.read_new();
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].log == "f\n");
}

}  // namespace

namespace {

using namespace berth::daemon;

TEST_CASE("detach keys: docker's spelling, and the sequence found across reads") {
  CHECK(parse_detach_keys("ctrl-p,ctrl-q").value() == "\x10\x11");
  CHECK(parse_detach_keys("ctrl-a,x").value() == std::string("\x01x"));
  CHECK(parse_detach_keys("ctrl-[").value() == "\x1b");
  CHECK_FALSE(parse_detach_keys("ctrl-1").ok());
  CHECK_FALSE(parse_detach_keys("alt-x").ok());

  DetachKeys keys("\x10\x11");
  std::string out;
  CHECK_FALSE(keys.feed("ab\x10", &out));
  CHECK(out == "ab");
  // A partial match that does not go on is input after all.
  CHECK_FALSE(keys.feed("c", &out));
  CHECK(out == "ab\x10" "c");
  CHECK_FALSE(keys.feed("\x10\x10", &out));
  CHECK(out == "ab\x10" "c\x10");
  CHECK(keys.feed("\x11zz", &out));
  CHECK(out == "ab\x10" "c\x10");
  DetachKeys none("");
  std::string all;
  CHECK_FALSE(none.feed("\x10\x11", &all));
  CHECK(all == "\x10\x11");
}

}  // namespace
