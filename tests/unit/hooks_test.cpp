// The hook runner: stdin, args, env, exit status, timeouts, ordering.
#include <doctest/doctest.h>
#include <stdlib.h>

#include "common/fs.hpp"
#include "runtime/hooks.hpp"
#include "test_support.hpp"

using berth::runtime::Hook;
using berth::test::TempDir;

namespace {
Hook sh(const std::string& script) { return Hook{"/bin/sh", {"sh", "-c", script}, {}, {}}; }
}  // namespace

TEST_CASE("a hook reads the state on stdin") {
  TempDir d;
  auto st = berth::runtime::run_hook(sh("cat > " + d.path() + "/state"), "{\"id\":\"c1\"}");
  REQUIRE_MESSAGE(st.ok(), st.error().message());
  CHECK(berth::test::slurp(d / "state") == "{\"id\":\"c1\"}");
}

TEST_CASE("a hook without args gets its path as argv[0], and without env the caller's environment") {
  TempDir d;
  std::string script = d / "hook";
  REQUIRE(berth::write_file(script, "#!/bin/sh\necho \"$0 $BERTH_HOOK_TEST\" > " + d.path() + "/out\n", true, 0755));
  ::setenv("BERTH_HOOK_TEST", "inherited", 1);
  auto st = berth::runtime::run_hook(Hook{script, {}, {}, {}}, "{}");
  ::unsetenv("BERTH_HOOK_TEST");
  REQUIRE_MESSAGE(st.ok(), st.error().message());
  CHECK(berth::test::slurp(d / "out") == script + " inherited\n");
}

TEST_CASE("a configured env replaces the caller's environment") {
  TempDir d;
  ::setenv("BERTH_HOOK_TEST", "inherited", 1);
  Hook h = sh("echo \"[$BERTH_HOOK_TEST][$ONLY]\" > " + d.path() + "/out");
  h.env = {"ONLY=this"};
  auto st = berth::runtime::run_hook(h, "{}");
  ::unsetenv("BERTH_HOOK_TEST");
  REQUIRE(st.ok());
  CHECK(berth::test::slurp(d / "out") == "[][this]\n");
}

TEST_CASE("a failing hook reports its exit status and what it printed") {
  auto st = berth::runtime::run_hook(sh("echo something went wrong >&2; exit 4"), "{}");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "exit status 4: something went wrong");
}

TEST_CASE("a hook that cannot be executed says so") {
  auto st = berth::runtime::run_hook(Hook{"/nonexistent/hook", {}, {}, {}}, "{}");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "cannot execute /nonexistent/hook");
}

TEST_CASE("the timeout counts even after the hook closed its output") {
  Hook h = sh("exec >/dev/null 2>&1; sleep 5");
  h.timeout = 1;
  auto st = berth::runtime::run_hook(h, "{}");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "timeout of 1 seconds reached");
}

TEST_CASE("run_hooks stops at the first failure and names it") {
  TempDir d;
  std::vector<Hook> hooks = {sh("echo one >> " + d.path() + "/log"), sh("exit 2"),
                             sh("echo three >> " + d.path() + "/log")};
  auto st = berth::runtime::run_hooks(hooks, "prestart", "{}");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "prestart hook #1 (/bin/sh): exit status 2");
  CHECK(berth::test::slurp(d / "log") == "one\n");
}

TEST_CASE("run_hooks_warn runs every hook despite failures") {
  TempDir d;
  std::vector<Hook> hooks = {sh("exit 1"), sh("echo ran >> " + d.path() + "/log")};
  berth::runtime::run_hooks_warn(hooks, "poststop", "{}");
  CHECK(berth::test::slurp(d / "log") == "ran\n");
}
