// OCI hooks on real containers: each kind at its point, in its namespaces,
// with the state on stdin; failures as the runtime-spec says.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {

// A host-side hook: appends "<phase> <status> <net namespace>" to `log`.
json host_hook(const std::string& log, const std::string& phase) {
  std::string script = "status=$(sed -n 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/p'); echo \"" + phase +
                       " $status $(readlink /proc/self/ns/net)\" >> " + log;
  return {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
}

std::vector<std::string> lines(const std::string& path) {
  std::vector<std::string> out;
  for (auto& l : berth::split(slurp(path), '\n'))
    if (!l.empty()) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("hooks run in order, each where the runtime-spec puts it, with the state on stdin") {
  Bundle b;
  TempDir logs;
  std::string log = logs / "hooks.log";
  std::string host_net = host_namespace("net");
  auto& hooks = b.config["hooks"];
  hooks["prestart"] = {host_hook(log, "prestart")};
  hooks["createRuntime"] = {host_hook(log, "createRuntime")};
  hooks["createContainer"] = {host_hook(log, "createContainer")};
  // startContainer runs after pivot_root: its path and its output are the container's.
  hooks["startContainer"] = {{{"path", "/bin/sh"},
                              {"args", {"sh", "-c", "cat > /tmp/start-state; readlink /proc/self/ns/net > /tmp/start-ns"}}}};
  hooks["poststart"] = {host_hook(log, "poststart")};
  hooks["poststop"] = {host_hook(log, "poststop")};
  b.config["mounts"].push_back({{"destination", "/tmp"}, {"type", "bind"}, {"source", logs.path()},
                                {"options", {"rbind"}}});
  b.sh("cat /tmp/start-state > /tmp/seen-by-process; echo ran");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "ran\n");
  auto got = lines(log);
  REQUIRE(got.size() == 5);
  CHECK(berth::starts_with(got[0], "prestart creating " + host_net));
  CHECK(berth::starts_with(got[1], "createRuntime creating " + host_net));
  // createContainer: in the container's namespaces, not the host's.
  CHECK(berth::starts_with(got[2], "createContainer creating net:"));
  CHECK_FALSE(contains(got[2], host_net));
  CHECK(berth::starts_with(got[3], "poststart running " + host_net));
  CHECK(berth::starts_with(got[4], "poststop stopped " + host_net));
  auto start_state = json::parse(slurp(logs / "start-state"));
  CHECK(start_state["status"] == "created");
  CHECK(start_state["id"] == b.id());
  CHECK(start_state["pid"].get<int>() > 0);
  CHECK(start_state["bundle"] == b.path());
  CHECK(slurp(logs / "start-ns") != host_net + "\n");
}

TEST_CASE("hook args and env are passed as given") {
  Bundle b;
  TempDir logs;
  b.config["hooks"]["createRuntime"] = {
      {{"path", "/bin/sh"},
       {"args", {"custom-argv0", "-c",
                 "{ tr '\\0' ' ' < /proc/$$/cmdline; echo \"| $HOOK_VAR $1\"; } > " + logs.path() + "/out", "zero",
                 "first-arg"}},
       {"env", {"HOOK_VAR=from-config"}}}};
  b.args({"true"});
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(berth::starts_with(slurp(logs / "out"), "custom-argv0 -c "));
  CHECK(berth::ends_with(slurp(logs / "out"), "zero first-arg | from-config first-arg\n"));
}

TEST_CASE("a failing createRuntime hook fails create, names the hook and leaves nothing behind") {
  Bundle b;
  b.config["hooks"]["createRuntime"] = {
      {{"path", "/bin/true"}}, {{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo refusing; exit 3"}}}};
  b.args({"true"});
  b.write();
  auto r = b.runtime({"create", "--bundle", b.path(), b.id()});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "createRuntime hook #1 (/bin/sh): exit status 3: refusing"));
  CHECK(count_entries(b.root()) == 0);
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("a startContainer hook that fails keeps the process from running") {
  Bundle b;
  b.config["hooks"]["startContainer"] = {{{"path", "/bin/false"}}};
  b.sh("echo the process ran");
  auto r = b.run_container();
  CHECK(r.status != 0);
  CHECK_FALSE(contains(r.out, "the process ran"));
  CHECK(contains(r.err, "startContainer hook #0 (/bin/false): exit status 1"));
}

TEST_CASE("poststart and poststop failures only warn") {
  Bundle b;
  b.config["hooks"]["poststart"] = {{{"path", "/bin/false"}}};
  b.config["hooks"]["poststop"] = {{{"path", "/bin/false"}}};
  b.sh("echo still ran");
  auto r = b.run_container();
  CHECK(r.status == 0);
  CHECK(r.out == "still ran\n");
  CHECK(contains(r.err, "warning: poststart hook #0 (/bin/false): exit status 1"));
  CHECK(contains(r.err, "warning: poststop hook #0 (/bin/false): exit status 1"));
  CHECK(count_entries(b.root()) == 0);
}

TEST_CASE("a hook that outlives its timeout is killed and fails the container") {
  Bundle b;
  b.config["hooks"]["prestart"] = {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}};
  b.args({"true"});
  auto r = b.run_container();
  CHECK(r.status == 1);
  CHECK(contains(r.err, "prestart hook #0 (/bin/sleep): timeout of 1 seconds reached"));
  CHECK(count_entries(b.root()) == 0);
}
