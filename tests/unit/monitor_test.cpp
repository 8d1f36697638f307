// berth-monitor's pure pieces: options, json-file entries, line splitting,
// rotation and exit.json.
#include <doctest/doctest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/fs.hpp"
#include "common/time.hpp"
#include "monitor/monitor.hpp"
#include "monitor/protocol.hpp"
#include "test_support.hpp"

using namespace berth::monitor;
using berth::test::TempDir;
using nlohmann::json;

namespace {

std::vector<json> entries(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(berth::test::slurp(path));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

const char* kTime = "2026-11-26T12:43:55.123456789Z";

}  // namespace

TEST_CASE("monitor options: the full command line") {
  auto o = parse_options({"--root", "/run/r", "--id", "c1", "--bundle", "/b", "--dir=/d", "--tty", "--stdin",
                          "--stdin-once", "--log-max-size", "1000", "--log-max-files=3", "--sync-fd", "5"});
  REQUIRE_MESSAGE(o.ok(), (o.ok() ? "" : o.error().message()));
  CHECK(o->root == "/run/r");
  CHECK(o->id == "c1");
  CHECK(o->bundle == "/b");
  CHECK(o->dir == "/d");
  CHECK(o->tty);
  CHECK(o->stdin_open);
  CHECK(o->stdin_once);
  CHECK(o->log_max_size == 1000);
  CHECK(o->log_max_files == 3);
  CHECK(o->sync_fd == 5);
}

TEST_CASE("monitor options: defaults and refusals") {
  auto o = parse_options({"--root", "/r", "--id", "c", "--bundle", "/b", "--dir", "/d"});
  REQUIRE(o.ok());
  CHECK_FALSE(o->tty);
  CHECK(o->log_max_size == 0);
  CHECK(o->log_max_files == 1);
  CHECK(o->sync_fd == -1);
  CHECK(parse_options({"--help"})->help);
  CHECK(berth::test::contains(parse_options({"--id", "c", "--bundle", "/b", "--dir", "/d"}).error().message(),
                              "missing --root"));
  CHECK(berth::test::contains(
      parse_options({"--root", "rel", "--id", "c", "--bundle", "/b", "--dir", "/d"}).error().message(),
      "not an absolute path"));
  CHECK_FALSE(parse_options({"--root", "/r", "--id", "c", "--bundle", "/b", "--dir", "/d", "--log-max-files", "0"}).ok());
  CHECK_FALSE(parse_options({"--root", "/r", "--id", "c", "--bundle", "/b", "--dir", "/d", "--bogus"}).ok());
  CHECK_FALSE(parse_options({"--root", "/r", "--id", "c", "--bundle", "/b", "--dir", "/d", "--sync-fd"}).ok());
  CHECK_FALSE(parse_options({"--root", "/r", "--id", "c", "--bundle", "/b", "--dir", "/d", "--tty=1"}).ok());
}

TEST_CASE("monitor log: an entry is docker's json-file line") {
  CHECK(log_entry("hi \"x\"\n", Stream::stderr_, kTime) ==
        "{\"log\":\"hi \\\"x\\\"\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-26T12:43:55.123456789Z\"}\n");
}

TEST_CASE("monitor log: output is split at newlines, partial lines wait for the rest or the end") {
  TempDir dir;
  LogWriter w(dir.path(), 0, 1);
  REQUIRE(w.open().ok());
  REQUIRE(w.feed(Stream::stdout_, "a\nb", kTime).ok());
  REQUIRE(w.feed(Stream::stderr_, "e1\ne2\n", kTime).ok());
  REQUIRE(w.feed(Stream::stdout_, "c\nd", kTime).ok());
  REQUIRE(w.finish(Stream::stdout_, kTime).ok());
  REQUIRE(w.finish(Stream::stderr_, kTime).ok());
  auto e = entries(dir / "container.log");
  REQUIRE(e.size() == 5);
  CHECK(e[0]["log"] == "a\n");
  CHECK(e[0]["stream"] == "stdout");
  CHECK(e[1]["log"] == "e1\n");
  CHECK(e[2]["log"] == "e2\n");
  CHECK(e[2]["stream"] == "stderr");
  CHECK(e[3]["log"] == "bc\n");
  CHECK(e[4]["log"] == "d");
  CHECK(e[4]["time"] == kTime);
}

TEST_CASE("monitor log: a line longer than kMaxLogLine is cut into pieces of that size") {
  TempDir dir;
  LogWriter w(dir.path(), 0, 1);
  REQUIRE(w.open().ok());
  std::string big(kMaxLogLine * 2 + 10, 'x');
  REQUIRE(w.feed(Stream::stdout_, big + "\n", kTime).ok());
  auto e = entries(dir / "container.log");
  REQUIRE(e.size() == 3);
  CHECK(e[0]["log"].get<std::string>().size() == kMaxLogLine);
  CHECK(e[1]["log"].get<std::string>().size() == kMaxLogLine);
  CHECK(e[2]["log"] == std::string(10, 'x') + "\n");
}

TEST_CASE("monitor log: rotation keeps at most max_files files, each within max_size") {
  TempDir dir;
  LogWriter w(dir.path(), 300, 3);
  REQUIRE(w.open().ok());
  for (int i = 0; i < 40; ++i) REQUIRE(w.feed(Stream::stdout_, berth::cat("line ", i, "\n"), kTime).ok());
  for (const char* name : {"container.log", "container.log.1", "container.log.2"}) {
    std::string text = berth::test::slurp(dir / name);
    CHECK(!text.empty());
    CHECK(text.size() <= 300);
  }
  CHECK_FALSE(berth::path_exists(dir / "container.log.3"));
  auto last = entries(dir / "container.log");
  REQUIRE(!last.empty());
  CHECK(last.back()["log"] == "line 39\n");
  // The rotated files hold the lines just before, in order.
  auto prev = entries(dir / "container.log.1");
  REQUIRE(!prev.empty());
  CHECK(prev.back()["log"] == berth::cat("line ", 39 - static_cast<int>(last.size()), "\n"));
}

TEST_CASE("monitor log: with one file, rotation truncates") {
  TempDir dir;
  LogWriter w(dir.path(), 200, 1);
  REQUIRE(w.open().ok());
  for (int i = 0; i < 20; ++i) REQUIRE(w.feed(Stream::stdout_, berth::cat("line ", i, "\n"), kTime).ok());
  CHECK(berth::test::slurp(dir / "container.log").size() <= 200);
  CHECK_FALSE(berth::path_exists(dir / "container.log.1"));
  CHECK(entries(dir / "container.log").back()["log"] == "line 19\n");
}

TEST_CASE("monitor exit: exit codes and signals as docker reports them") {
  auto st = exit_status(7 << 8);
  CHECK(st.exit_code == 7);
  CHECK(st.signal == 0);
  st = exit_status(SIGKILL);
  CHECK(st.exit_code == 137);
  CHECK(st.signal == 9);
  auto j = json::parse(exit_json(st, true, kTime));
  CHECK(j["ExitCode"] == 137);
  CHECK(j["Signal"] == 9);
  CHECK(j["OOMKilled"] == true);
  CHECK(j["FinishedAt"] == kTime);
}

TEST_CASE("monitor exit: an OOM kill in the runtime's stats") {
  CHECK(stats_report_oom_kill(R"({"memory":{"events":{"oom":1,"oom_kill":2}}})"));
  CHECK_FALSE(stats_report_oom_kill(R"({"memory":{"events":{"oom":1,"oom_kill":0}}})"));
  CHECK_FALSE(stats_report_oom_kill(R"({"memory":{}})"));
}

TEST_CASE("monitor time: format_time_nano agrees with rfc3339_nano") {
  for (time_t secs : {time_t{0}, time_t{951782400}, time_t{1798289035}, time_t{4102444799}, time_t{1709251199}}) {
    for (long ns : {0L, 1L, 123456789L, 500000000L, 999999999L}) {
      timespec ts{secs, ns};
      CHECK(format_time_nano(ts) == berth::rfc3339_nano(ts));
    }
  }
  CHECK(format_time_nano(timespec{1798289035, 120000000}) == "2026-12-26T12:43:55.12Z");
}
