// create / start / state / kill / delete against real containers.
#include <doctest/doctest.h>

#include <unistd.h>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth::test;

TEST_CASE("run prints the process output and exits with its status") {
  Bundle b;
  b.sh("echo hello from berth; exit 42");
  auto r = b.run_container();
  CHECK(r.out == "hello from berth\n");
  CHECK(r.status == 42);
  CHECK(r.err == "");
  // The foreground run deletes the container when it exits.
  CHECK(count_entries(b.root()) == 0);
}

TEST_CASE("run reports death by signal as 128+signal") {
  Bundle b;
  // Without a pid namespace the shell is not an init, so SIGKILL from itself works.
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "pid") ns.erase(i);
  b.sh("kill -KILL $$");
  auto r = b.run_container();
  CHECK(r.status == 137);
}

TEST_CASE("create waits for start; state follows created, running, stopped") {
  Bundle b;
  b.args({"sleep", "30"});
  b.write();
  auto pid_file = b.path() + "/init.pid";
  auto r = b.runtime({"create", "--bundle", b.path(), "--pid-file", pid_file, b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto st = json::parse(b.runtime({"state", b.id()}).out);
  CHECK(st["status"] == "created");
  CHECK(st["id"] == b.id());
  CHECK(st["bundle"] == b.path());
  CHECK(st["rootfs"] == b.rootfs());
  CHECK(st["ociVersion"] == "1.2.0");
  CHECK(st["owner"] == "");
  CHECK(std::to_string(st["pid"].get<int>()) == berth::read_file(pid_file).value());

  REQUIRE(b.runtime({"start", b.id()}).status == 0);
  CHECK(json::parse(b.runtime({"state", b.id()}).out)["status"] == "running");
  auto again = b.runtime({"start", b.id()});
  CHECK(again.status == 1);
  CHECK(again.err.find("cannot start an already running container") != std::string::npos);

  REQUIRE(b.runtime({"kill", b.id(), "KILL"}).status == 0);
  for (int i = 0; i < 100 && json::parse(b.runtime({"state", b.id()}).out)["status"] != "stopped"; ++i) ::usleep(20000);
  st = json::parse(b.runtime({"state", b.id()}).out);
  CHECK(st["status"] == "stopped");
  CHECK(st["pid"] == 0);
  auto kill = b.runtime({"kill", b.id()});
  CHECK(kill.status == 1);
  CHECK(kill.err.find("container not running") != std::string::npos);
  CHECK(b.runtime({"delete", b.id()}).status == 0);
  CHECK(count_entries(b.root()) == 0);
}
