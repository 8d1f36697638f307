// The cgroup v2 freezer, stats and controller checks on this host's real
// hierarchy. Every cgroup here is created by the test, directly below the
// hierarchy root as berth-test-<pid>-<name>, and removed with its processes;
// nothing else in the hierarchy is written to. Limits themselves need
// controllers a hybrid host lacks; tests/vm proves those.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <string>

#include "cgroups/cgroup.hpp"
#include "cgroups/freezer.hpp"
#include "cgroups/resources.hpp"
#include "cgroups/stats.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "test_support.hpp"

namespace {

namespace cg = berth::cgroups;
using berth::test::cgroup_mount;
using berth::test::slurp;

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// A cgroup this test owns; killed and removed when the test ends.
struct OwnCgroup {
  std::string name;
  std::string dir;
  berth::UniqueFd fd;

  explicit OwnCgroup(const std::string& suffix)
      : name(berth::cat("berth-test-", ::getpid(), "-", suffix)), dir(cgroup_mount() + "/" + name) {
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    fd.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(fd.valid());
  }
  ~OwnCgroup() {
    // A frozen cgroup still dies on SIGKILL, but thaw first all the same.
    (void)berth::write_file(dir + "/cgroup.freeze", "0");
    auto cgroup = cg::Cgroup::at(cgroup_mount(), "/" + name);
    (void)cgroup.destroy();
  }
  std::string events() const { return slurp(dir + "/cgroup.events"); }
};

// Forks a busybox shell running `script` that moves itself into the cgroup
// before exec, so it never runs outside it.
berth::ChildProcess spawn_in(const OwnCgroup& cgroup, const char* script) {
  std::string procs = cgroup.dir + "/cgroup.procs";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(120);
    ::execl("/bin/busybox", "sh", "-c", script, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  berth::ChildProcess child(pid);
  for (int i = 0; i < 200 && !berth::test::contains(cgroup.events(), "populated 1"); ++i) sleep_ms(5);
  REQUIRE(berth::test::contains(cgroup.events(), "populated 1"));
  return child;
}

// utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14, 15).
uint64_t cpu_ticks(pid_t pid) {
  std::string stat = slurp(berth::cat("/proc/", pid, "/stat"));
  auto fields = berth::split(stat.substr(stat.rfind(')') + 2), ' ');
  REQUIRE(fields.size() > 13);
  // fields[0] is field 3 (state): utime is field 14.
  return *berth::parse_int<uint64_t>(fields[11]) + *berth::parse_int<uint64_t>(fields[12]);
}

// Waits up to `ms` for the process to use more CPU than `since`.
bool runs(pid_t pid, uint64_t since, int ms) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (cpu_ticks(pid) > since) return true;
    sleep_ms(20);
  }
  return cpu_ticks(pid) > since;
}

}  // namespace

TEST_CASE("set_frozen freezes and thaws a cgroup with a process in it") {
  OwnCgroup cgroup("freeze");
  auto child = spawn_in(cgroup, "exec sleep 1000");
  CHECK(berth::test::contains(cgroup.events(), "frozen 0"));

  auto st = cg::set_frozen(cgroup.fd.get(), true, 5000);
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message()));
  CHECK(slurp(cgroup.dir + "/cgroup.freeze") == "1\n");
  CHECK(berth::test::contains(cgroup.events(), "frozen 1"));
  CHECK(*cg::is_frozen(cgroup.fd.get()) == true);

  st = cg::set_frozen(cgroup.fd.get(), false, 5000);
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message()));
  CHECK(berth::test::contains(cgroup.events(), "frozen 0"));
  CHECK(*cg::is_frozen(cgroup.fd.get()) == false);
  // Thawed, the process is alive and not stopped.
  auto ps = berth::read_proc_stat(child.pid());
  REQUIRE(ps);
  CHECK(ps->state != 'Z');
}

TEST_CASE("a busy loop makes no progress while its cgroup is frozen") {
  OwnCgroup cgroup("busy");
  auto child = spawn_in(cgroup, "while :; do :; done");
  REQUIRE(runs(child.pid(), cpu_ticks(child.pid()), 3000));

  REQUIRE(cg::set_frozen(cgroup.fd.get(), true, 5000).ok());
  uint64_t frozen_at = cpu_ticks(child.pid());
  sleep_ms(400);
  CHECK(cpu_ticks(child.pid()) == frozen_at);

  REQUIRE(cg::set_frozen(cgroup.fd.get(), false, 5000).ok());
  CHECK(runs(child.pid(), frozen_at, 3000));
}

TEST_CASE("freezing an empty cgroup completes at once, and twice is fine") {
  OwnCgroup cgroup("empty");
  REQUIRE(cg::set_frozen(cgroup.fd.get(), true, 1000).ok());
  REQUIRE(cg::set_frozen(cgroup.fd.get(), true, 1000).ok());
  CHECK(*cg::is_frozen(cgroup.fd.get()) == true);
  REQUIRE(cg::set_frozen(cgroup.fd.get(), false, 1000).ok());
  CHECK(*cg::is_frozen(cgroup.fd.get()) == false);
}

TEST_CASE("oom_kill_count is 0 where the memory controller is not enabled") {
  OwnCgroup cgroup("oom");
  if (berth::path_exists(cgroup.dir + "/memory.events")) {
    MESSAGE("memory.events exists here: the count is whatever the kernel says");
    CHECK(cg::oom_kill_count(cgroup.fd.get()).ok());
    return;
  }
  auto n = cg::oom_kill_count(cgroup.fd.get());
  REQUIRE(n.ok());
  CHECK(*n == 0);
}

TEST_CASE("read_stats on a real cgroup reads cpu.stat and counts processes") {
  OwnCgroup cgroup("stats");
  auto child = spawn_in(cgroup, "exec sleep 1000");
  auto s = cg::read_stats(cgroup.fd.get());
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message()));
  REQUIRE(s->cpu);  // cpu.stat exists in every v2 cgroup
  REQUIRE(s->pids);
  CHECK(s->pids->current == 1);
  auto json = cg::stats_json("c1", *s);
  CHECK(berth::test::contains(json, R"("pids":{"current":1})"));
  CHECK(berth::starts_with(json, R"({"type":"stats","id":"c1","data":{"cpu":{"usage":{)"));
}

TEST_CASE("a controller missing from the hierarchy is an error naming it") {
  std::string mount = cgroup_mount();
  auto available = slurp(mount + "/cgroup.controllers");
  std::string missing = berth::test::contains(available, "memory") ? "nosuch" : "memory";
  auto st = cg::check_available(mount, {missing});
  REQUIRE(!st.ok());
  CHECK(st.error().message() == berth::cat("cgroup v2 controller \"", missing, "\" is not available on this host"));

  // enable_controllers stops at the same check, before writing anything.
  std::string before = slurp(mount + "/cgroup.subtree_control");
  OwnCgroup cgroup("enable");
  auto en = cg::enable_controllers(mount, "/" + cgroup.name + "/c1", {missing});
  REQUIRE(!en.ok());
  CHECK(en.error().message() == st.error().message());
  CHECK(slurp(mount + "/cgroup.subtree_control") == before);
  CHECK(slurp(cgroup.dir + "/cgroup.subtree_control") == "");
}

TEST_CASE("apply with nothing requested writes nothing to a real cgroup") {
  OwnCgroup cgroup("noop");
  cg::Resources r;
  r.memory = cg::Memory{};
  CHECK(cg::controllers_needed(r).empty());
  CHECK(cg::apply(cgroup.fd.get(), r).ok());
}

// ---------------------------------------------------------------------------
// Limits through berth-runtime on this host: a controller the v2 hierarchy
// lacks is a clear error that leaves nothing behind; where it exists (the
// test guest), the limit lands in the container's cgroup.

using namespace berth::test;

namespace {

bool v2_has(const std::string& controller) {
  for (const auto& c : berth::split(std::string(berth::trim(slurp(cgroup_mount() + "/cgroup.controllers"))), ' '))
    if (c == controller) return true;
  return false;
}

}  // namespace

TEST_CASE("a pids limit needs the pids controller: an error naming it, or pids.max in the container's cgroup") {
  Bundle b;
  b.config["linux"]["resources"]["pids"] = {{"limit", 64}};
  b.sh("cat /sys/fs/cgroup/pids.max");
  auto r = b.run_container();
  if (!v2_has("pids")) {
    CHECK(r.status == 1);
    CHECK(contains(r.err, "linux.resources.pids: cgroup v2 controller \"pids\" is not available on this host"));
    CHECK(count_entries(b.root()) == 0);
  } else {
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "64\n");
  }
}

TEST_CASE("the values callers send for \"no limit\" need no controller") {
  Bundle b;
  // podman --pids-limit -1 sends limit 0; ctr --cpu-shares 0; a memory limit of 0.
  b.config["linux"]["resources"]["pids"] = {{"limit", 0}};
  b.config["linux"]["resources"]["cpu"] = {{"shares", 0}};
  b.config["linux"]["resources"]["memory"] = {{"limit", 0}};
  b.sh("echo ran");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "ran\n");
}
