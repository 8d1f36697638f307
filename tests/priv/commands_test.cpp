// pause/resume, ps, events, update and features against real containers.
//
// This host's cgroup v2 hierarchy has only the hugetlb controller, so
// memory, cpu and pids limits cannot be set: update is checked for refusing
// them cleanly, and for what does work without a controller (the eBPF
// device filter).
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <sstream>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "container_helpers.hpp"
#include "test_support.hpp"

using namespace berth::test;
using berth::cat;

namespace {

// The counter the pause test's container writes, read through its init's root.
long counter(pid_t init) {
  auto v = berth::parse_int<long>(trim_nl(slurp(cat("/proc/", init, "/root/dev/shm/count"))));
  return v ? *v : -1;
}

std::set<pid_t> ps_json(const Bundle& b, const RunResult& r) {
  (void)b;
  std::set<pid_t> out;
  auto doc = json::parse(r.out);
  REQUIRE(doc.is_array());
  for (const auto& v : doc) {
    REQUIRE(v.is_number_integer());
    out.insert(v.get<pid_t>());
  }
  return out;
}

std::string saved_config(const Bundle& b) { return slurp(b.root() + "/" + b.id() + "/config.json"); }

bool host_controller(const std::string& name) {
  auto list = words(slurp(cgroup_mount() + "/cgroup.controllers"));
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool host_has_dma_latency() {
  struct stat st{};
  return ::stat("/dev/cpu_dma_latency", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10 &&
         minor(st.st_rdev) == 259;
}

json stats_of(const Bundle& b) {
  auto r = b.runtime({"events", "--stats", b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  // One JSON object on one line.
  REQUIRE(lines_of(r.out).size() == 1);
  return json::parse(r.out);
}

// A CPU burner, run in the container through exec (about a second of CPU).
const std::vector<std::string> kBurn = {"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"};

}  // namespace

TEST_CASE("pause freezes the container, resume thaws it") {
  Bundle b;
  b.sh("i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done");
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  REQUIRE(wait_for([&] { return counter(init) >= 3; }));

  auto p = b.runtime({"pause", b.id()});
  REQUIRE_MESSAGE(p.status == 0, p.err);
  CHECK(p.out == "");
  CHECK(status_of(b) == "paused");
  CHECK(trim_nl(slurp(cgroup_dir(b) + "/cgroup.freeze")) == "1");
  long frozen_at = counter(init);
  ::usleep(700000);
  CHECK(counter(init) == frozen_at);
  CHECK(status_of(b) == "paused");

  // Still listed, with its processes.
  auto ps = b.runtime({"ps", "--format", "json", b.id()});
  REQUIRE_MESSAGE(ps.status == 0, ps.err);
  auto pids = ps_json(b, ps);
  CHECK(pids.count(init) == 1);
  CHECK(pids == cgroup_procs(b));
  auto list = b.runtime({"list", "--format", "json"});
  REQUIRE(list.status == 0);
  CHECK(json::parse(list.out)[0]["status"] == "paused");

  auto again = b.runtime({"pause", b.id()});
  CHECK(again.status == 1);
  CHECK_MESSAGE(contains(again.err, "container not running"), again.err);

  auto r = b.runtime({"resume", b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(status_of(b) == "running");
  CHECK(trim_nl(slurp(cgroup_dir(b) + "/cgroup.freeze")) == "0");
  CHECK(wait_for([&] { return counter(init) > frozen_at + 2; }, 5000));

  auto not_paused = b.runtime({"resume", b.id()});
  CHECK(not_paused.status == 1);
  CHECK_MESSAGE(contains(not_paused.err, "container not paused"), not_paused.err);
}

TEST_CASE("kill --all KILL stops a paused container and delete --force removes it") {
  Bundle b;
  b.sh("sleep 1000 & sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done");
  pid_t init = start_detached(b);
  REQUIRE(wait_for([&] { return cgroup_procs(b).size() >= 4 && counter(init) >= 1; }));
  auto procs = cgroup_procs(b);
  REQUIRE(b.runtime({"pause", b.id()}).status == 0);
  REQUIRE(status_of(b) == "paused");

  auto k = b.runtime({"kill", "--all", b.id(), "SIGKILL"});
  CHECK_MESSAGE(k.status == 0, k.err);
  CHECK(wait_for([&] { return status_of(b) == "stopped"; }));
  CHECK(wait_for([&] { return cgroup_procs(b).empty(); }));

  auto d = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(d.status == 0, d.err);
  CHECK(count_entries(b.root()) == 0);
  CHECK_FALSE(berth::path_exists(cgroup_dir(b)));
  for (pid_t pid : procs) {
    CAPTURE(pid);
    CHECK((::kill(pid, 0) != 0 || contains(slurp(cat("/proc/", pid, "/stat")), ") Z ")));
  }
}

TEST_CASE("delete --force removes a paused container") {
  Bundle b;
  b.args({"sleep", "1000"});
  pid_t init = start_detached(b);
  REQUIRE(b.runtime({"pause", b.id()}).status == 0);
  auto d = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(d.status == 0, d.err);
  CHECK(count_entries(b.root()) == 0);
  CHECK_FALSE(berth::path_exists(cgroup_dir(b)));
  CHECK(wait_for([&] { return ::kill(init, 0) != 0 || contains(slurp(cat("/proc/", init, "/stat")), ") Z "); }));
}

TEST_CASE("pause and resume of missing or stopped containers fail") {
  Bundle b;
  b.args({"true"});
  ForceDelete cleanup{b};
  auto missing = b.runtime({"pause", "nope"});
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "does not exist"));
  missing = b.runtime({"resume", "nope"});
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "does not exist"));

  start_detached(b);
  REQUIRE(wait_for([&] { return status_of(b) == "stopped"; }));
  auto p = b.runtime({"pause", b.id()});
  CHECK(p.status == 1);
  CHECK_MESSAGE(contains(p.err, "container not running"), p.err);
  auto r = b.runtime({"resume", b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "container not paused"), r.err);
  CHECK(status_of(b) == "stopped");
}

TEST_CASE("ps --format json lists the pids of the container's cgroup, exec'd processes included") {
  Bundle b;
  b.sh("sleep 1000 & sleep 1000 & wait");
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  REQUIRE(wait_for([&] { return cgroup_procs(b).size() == 3; }));
  std::string pid_file = b.path() + "/exec.pid";
  auto e = b.runtime({"exec", "--detach", "--pid-file", pid_file, b.id(), "sleep", "1000"});
  REQUIRE_MESSAGE(e.status == 0, e.err);
  pid_t exec_pid = *berth::parse_int<pid_t>(trim_nl(slurp(pid_file)));
  REQUIRE(wait_for([&] { return cgroup_procs(b).size() == 4; }));

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"ps", "--format", "json", b.id()}, {"ps", "--format=json", b.id()}, {"ps", "-f", "json", b.id()}}) {
    CAPTURE(args[1]);
    auto r = b.runtime(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto pids = ps_json(b, r);
    CHECK(pids == cgroup_procs(b));
    CHECK(pids.size() == 4);
    CHECK(pids.count(init) == 1);
    CHECK(pids.count(exec_pid) == 1);
    CHECK(pids.count(::getpid()) == 0);
  }
}

TEST_CASE("ps prints ps(1)'s table with the header and only the container's processes") {
  Bundle b;
  b.sh("sleep 1000 & sleep 1000 & wait");
  ForceDelete cleanup{b};
  start_detached(b);
  REQUIRE(wait_for([&] { return cgroup_procs(b).size() == 3; }));
  auto pids = cgroup_procs(b);

  auto r = b.runtime({"ps", b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  INFO("table: ", r.out);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  auto header = words(lines[0]);
  auto col = std::find(header.begin(), header.end(), "PID");
  REQUIRE(col != header.end());
  size_t index = static_cast<size_t>(col - header.begin());
  std::set<pid_t> listed;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto w = words(lines[i]);
    REQUIRE(w.size() > index);
    auto pid = berth::parse_int<pid_t>(w[index]);
    REQUIRE(pid);
    listed.insert(*pid);
  }
  CHECK(listed == pids);

  // Arguments after the id are ps(1)'s.
  auto o = b.runtime({"ps", b.id(), "-o", "pid,comm"});
  REQUIRE_MESSAGE(o.status == 0, o.err);
  INFO("table: ", o.out);
  auto olines = lines_of(o.out);
  REQUIRE(olines.size() == 4);
  CHECK(words(olines[0]) == std::vector<std::string>{"PID", "COMMAND"});
  std::multiset<std::string> comms;
  std::set<pid_t> olisted;
  for (size_t i = 1; i < olines.size(); ++i) {
    auto w = words(olines[i]);
    REQUIRE(w.size() == 2);
    olisted.insert(*berth::parse_int<pid_t>(w[0]));
    comms.insert(w[1]);
  }
  CHECK(olisted == pids);
  CHECK(comms == std::multiset<std::string>{"sh", "sleep", "sleep"});

  // Without a PID column the table cannot be filtered.
  auto nopid = b.runtime({"ps", b.id(), "-o", "comm"});
  CHECK(nopid.status == 1);
  CHECK_MESSAGE(contains(nopid.err, "PID"), nopid.err);

  auto bad = b.runtime({"ps", "--format", "yaml", b.id()});
  CHECK(bad.status == 1);
  CHECK(contains(bad.err, "yaml"));
}

TEST_CASE("ps of a stopped container lists nothing; of a missing one fails") {
  Bundle b;
  b.args({"true"});
  ForceDelete cleanup{b};
  start_detached(b);
  REQUIRE(wait_for([&] { return status_of(b) == "stopped"; }));
  auto r = b.runtime({"ps", "--format", "json", b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(json::parse(r.out) == json::array());
  auto missing = b.runtime({"ps", "--format", "json", "nope"});
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "does not exist"));
}

TEST_CASE("events --stats prints one stats object; cpu usage grows with CPU burnt") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  json s1 = stats_of(b);
  CHECK(s1["type"] == "stats");
  CHECK(s1["id"] == b.id());
  REQUIRE(s1["data"].is_object());
  REQUIRE(s1["data"]["cpu"]["usage"]["total"].is_number_unsigned());
  uint64_t t1 = s1["data"]["cpu"]["usage"]["total"].get<uint64_t>();

  auto burn = b.runtime([&] {
    std::vector<std::string> a = {"exec", b.id()};
    a.insert(a.end(), kBurn.begin(), kBurn.end());
    return a;
  }());
  REQUIRE_MESSAGE(burn.status == 0, burn.err);
  json s2 = stats_of(b);
  uint64_t t2 = s2["data"]["cpu"]["usage"]["total"].get<uint64_t>();
  INFO("usage before ", t1, " ns, after ", t2, " ns");
  // Nanoseconds (runc's unit): the burner takes well over 50 ms of CPU.
  CHECK(t2 > t1 + 50'000'000);
  // and user + kernel time add up to the total (within a rounding)
  if (s2["data"]["cpu"]["usage"].contains("user") && s2["data"]["cpu"]["usage"].contains("kernel")) {
    uint64_t user = s2["data"]["cpu"]["usage"]["user"].get<uint64_t>();
    uint64_t kernel = s2["data"]["cpu"]["usage"]["kernel"].get<uint64_t>();
    CHECK(user + kernel <= t2 + 1'000'000);
    CHECK(user > 0);
  }
}

TEST_CASE("events --stats: pids.current counts the container's processes") {
  Bundle b;
  b.sh("sleep 1000 & sleep 1000 & wait");
  ForceDelete cleanup{b};
  start_detached(b);
  REQUIRE(wait_for([&] { return cgroup_procs(b).size() == 3; }));
  CHECK(stats_of(b)["data"]["pids"]["current"] == 3);
  auto e = b.runtime({"exec", "--detach", b.id(), "sleep", "1000"});
  REQUIRE_MESSAGE(e.status == 0, e.err);
  REQUIRE(wait_for([&] { return cgroup_procs(b).size() == 4; }));
  CHECK(stats_of(b)["data"]["pids"]["current"] == 4);
}

TEST_CASE("events --interval streams stats lines until the container exits") {
  Bundle b;
  b.sh("sleep 2");
  ForceDelete cleanup{b};
  start_detached(b);
  long t0 = now_ms();
  auto r = b.runtime({"events", "--interval", "200ms", b.id()});
  long took = now_ms() - t0;
  CHECK_MESSAGE(r.status == 0, r.err);
  INFO("events: ", r.out);
  auto lines = lines_of(r.out);
  CHECK(lines.size() >= 4);
  for (const auto& line : lines) {
    auto ev = json::parse(line);
    CHECK(ev["type"] == "stats");
    CHECK(ev["id"] == b.id());
    CHECK(ev["data"].is_object());
  }
  // It ended with the container, not at the harness' timeout.
  CHECK(took < 20000);
  CHECK(status_of(b) == "stopped");

  // Go's duration syntax with "=".
  auto stopped = b.runtime({"events", "--interval=1s", b.id()});
  CHECK(stopped.status == 1);
  CHECK_MESSAGE(contains(stopped.err, "container not running"), stopped.err);
  auto bad = b.runtime({"events", "--interval", "soon", b.id()});
  CHECK(bad.status == 1);
  CHECK(contains(bad.err, "--interval"));
}

TEST_CASE("update of a limit whose controller this host lacks fails and changes nothing") {
  if (host_controller("memory")) {
    MESSAGE("the memory controller is available on this host: nothing to check");
    return;
  }
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  std::string before = saved_config(b);
  REQUIRE(!before.empty());
  auto subtree_before = slurp(cgroup_dir(b) + "/cgroup.subtree_control");

  auto r = b.runtime({"update", "--memory", "64M", b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "linux.resources.memory: cgroup v2 controller \"memory\" is not available on this host"),
                r.err);
  CHECK(saved_config(b) == before);
  CHECK(status_of(b) == "running");

  // The same through --resources.
  auto j = b.runtime({"update", "--resources", "-", b.id()}, R"({"memory": {"limit": 67108864}})");
  CHECK(j.status == 1);
  CHECK_MESSAGE(contains(j.err, "controller \"memory\" is not available"), j.err);
  CHECK(saved_config(b) == before);

  if (!host_controller("pids")) {
    auto p = b.runtime({"update", "--pids-limit", "10", b.id()});
    CHECK(p.status == 1);
    CHECK_MESSAGE(contains(p.err, "controller \"pids\" is not available"), p.err);
  }
  CHECK(saved_config(b) == before);
  CHECK(slurp(cgroup_dir(b) + "/cgroup.subtree_control") == subtree_before);
  CHECK(status_of(b) == "running");
}

TEST_CASE("update --resources with devices replaces the container's eBPF device filter") {
  REQUIRE(host_has_dma_latency());
  Bundle b;
  b.args({"sleep", "1000"});
  for (const char* set : {"bounding", "effective", "permitted"})
    b.config["process"]["capabilities"][set].push_back("CAP_MKNOD");
  ForceDelete cleanup{b};
  start_detached(b);
  auto read_dma = [&] {
    auto r = b.runtime({"exec", b.id(), "sh", "-c",
                        "echo size=$(head -c 4 /dev/dma 2>/dev/null | wc -c); "
                        "head -c 1 /dev/zero > /dev/null; echo zero=$?; echo x > /dev/null; echo null=$?"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    return r.out;
  };
  auto mk = b.runtime({"exec", b.id(), "mknod", "/dev/dma", "c", "10", "259"});
  REQUIRE_MESSAGE(mk.status == 0, mk.err);
  // Denied by the default filter.
  CHECK(read_dma() == "size=0\nzero=0\nnull=0\n");

  std::string allow = R"({"devices": [{"allow": false, "access": "rwm"},
                                       {"allow": true, "type": "c", "major": 10, "minor": 259, "access": "r"}]})";
  auto u = b.runtime({"update", "--resources", "-", b.id()}, allow);
  REQUIRE_MESSAGE(u.status == 0, u.err);
  // The very same node opens now; the default devices still work.
  CHECK(read_dma() == "size=4\nzero=0\nnull=0\n");
  // The saved config records it.
  auto saved = json::parse(saved_config(b));
  auto rules = saved["linux"]["resources"]["devices"];
  CHECK(std::any_of(rules.begin(), rules.end(), [](const json& r) {
    return r.value("allow", false) && r.value("major", -1) == 10 && r.value("minor", -1) == 259;
  }));
  CHECK(status_of(b) == "running");

  // A JSON null (what a Go caller may marshal) drops the rules: the
  // defaults remain, and they do not include this device.
  auto null_devices = b.runtime({"update", "--resources", "-", b.id()}, R"({"devices": null})");
  CHECK_MESSAGE(null_devices.status == 0, null_devices.err);
  CHECK(read_dma() == "size=0\nzero=0\nnull=0\n");
  REQUIRE(b.runtime({"update", "--resources", "-", b.id()}, allow).status == 0);
  CHECK(read_dma() == "size=4\nzero=0\nnull=0\n");

  // And back: a deny-all list takes it away again (a file this time).
  std::string file = b.path() + "/resources.json";
  REQUIRE(berth::write_file(file, R"({"devices": [{"allow": false, "access": "rwm"}]})", true));
  auto back = b.runtime({"update", "--resources", file, b.id()});
  REQUIRE_MESSAGE(back.status == 0, back.err);
  CHECK(read_dma() == "size=0\nzero=0\nnull=0\n");
}

TEST_CASE("update refuses malformed resources and a call without changes") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  std::string before = saved_config(b);

  auto r = b.runtime({"update", "--resources", "-", b.id()}, "{not json");
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "--resources"), r.err);

  r = b.runtime({"update", "--resources", "-", b.id()}, "[1, 2]");
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "expected a linux.resources object"), r.err);

  r = b.runtime({"update", "--resources", "-", b.id()}, R"({"devices": "all"})");
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "devices"), r.err);

  r = b.runtime({"update", "--resources", "-", b.id()}, R"({"devices": [{"allow": true, "type": "q", "access": "r"}]})");
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "devices"), r.err);

  r = b.runtime({"update", "--resources", b.path() + "/no-such-file.json", b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "no-such-file.json"), r.err);

  r = b.runtime({"update", "--memory", "lots", b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "--memory"), r.err);

  r = b.runtime({"update", b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "nothing to change"), r.err);

  r = b.runtime({"update", "--resources", "-", "nope"}, "{}");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "does not exist"));

  CHECK(saved_config(b) == before);
  CHECK(status_of(b) == "running");

  // {} is a valid no-op.
  r = b.runtime({"update", "--resources", "-", b.id()}, "{}");
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(status_of(b) == "running");
}

TEST_CASE("features describes what this build supports") {
  auto r = run({runtime_binary(), "features"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto f = json::parse(r.out);
  CHECK(f["ociVersionMin"] == "1.0.0");
  REQUIRE(f["ociVersionMax"].is_string());
  CHECK(f["ociVersionMax"].get<std::string>().rfind("1.", 0) == 0);

  std::set<std::string> hooks = f["hooks"].get<std::set<std::string>>();
  CHECK(hooks == std::set<std::string>{"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                                       "poststop"});
  auto opts = f["mountOptions"].get<std::set<std::string>>();
  for (const char* o : {"rro", "rbind", "ro", "nosuid", "bind", "rprivate"}) {
    CAPTURE(o);
    CHECK(opts.count(o) == 1);
  }

  const json& lx = f["linux"];
  auto ns = lx["namespaces"].get<std::set<std::string>>();
  CHECK(ns == std::set<std::string>{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"});
  auto caps = lx["capabilities"].get<std::set<std::string>>();
  CHECK(caps.count("CAP_SYS_ADMIN") == 1);
  CHECK(caps.count("CAP_CHOWN") == 1);
  CHECK(lx["cgroup"]["v2"] == true);
  CHECK(lx["cgroup"]["v1"] == false);

  const json& sc = lx["seccomp"];
  CHECK(sc["enabled"] == true);
  auto actions = sc["actions"].get<std::set<std::string>>();
  CHECK(actions.count("SCMP_ACT_NOTIFY") == 1);
  CHECK(actions.count("SCMP_ACT_ERRNO") == 1);
  CHECK(sc["archs"].get<std::set<std::string>>().count("SCMP_ARCH_X86_64") == 1);
  CHECK(sc["operators"].get<std::set<std::string>>().count("SCMP_CMP_EQ") == 1);
  auto known = sc["knownFlags"].get<std::set<std::string>>();
  auto supported = sc["supportedFlags"].get<std::set<std::string>>();
  CHECK(std::includes(known.begin(), known.end(), supported.begin(), supported.end()));
  // Every kernel berth runs on has these.
  CHECK(supported.count("SECCOMP_FILTER_FLAG_TSYNC") == 1);
  CHECK(supported.count("SECCOMP_FILTER_FLAG_LOG") == 1);

  REQUIRE(f["annotations"].is_object());
  REQUIRE(f["annotations"].contains("io.github.seccomp.libseccomp.version"));
  auto version = f["annotations"]["io.github.seccomp.libseccomp.version"].get<std::string>();
  CHECK(words(std::string(version)).size() == 1);
  CHECK(std::count(version.begin(), version.end(), '.') == 2);

  // No arguments accepted.
  auto extra = run({runtime_binary(), "features", "extra"});
  CHECK(extra.status == 1);
}

namespace {

// A cgroup the test creates below a container's cgroup (as systemd or a
// nested runtime inside the container would); killed and removed at the
// end whatever the runtime did, so nothing outlives the test.
struct NestedCgroup {
  std::string dir;
  explicit NestedCgroup(std::string d) : dir(std::move(d)) { REQUIRE(::mkdir(dir.c_str(), 0755) == 0); }
  ~NestedCgroup() {
    if (!berth::path_exists(dir)) return;
    (void)berth::write_file(dir + "/cgroup.kill", "1");
    wait_for([&] { return contains(slurp(dir + "/cgroup.events"), "populated 0"); }, 5000);
    ::rmdir(dir.c_str());
  }
};

}  // namespace

TEST_CASE("ps, kill --all and delete --force reach processes in nested cgroups of the container") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  std::string pid_file = b.path() + "/exec.pid";
  auto e = b.runtime({"exec", "--detach", "--pid-file", pid_file, b.id(), "sleep", "1000"});
  REQUIRE_MESSAGE(e.status == 0, e.err);
  pid_t nested_pid = *berth::parse_int<pid_t>(trim_nl(slurp(pid_file)));
  NestedCgroup nested(cgroup_dir(b) + "/nested");
  REQUIRE(berth::write_file(nested.dir + "/cgroup.procs", std::to_string(nested_pid)));
  REQUIRE(cgroup_procs(b) == std::set<pid_t>{init});

  auto ps = b.runtime({"ps", "--format", "json", b.id()});
  REQUIRE_MESSAGE(ps.status == 0, ps.err);
  CHECK(ps_json(b, ps) == std::set<pid_t>{init, nested_pid});

  // TERM: the init (pid 1 without a handler) ignores it, the nested sleep dies.
  auto k = b.runtime({"kill", "--all", b.id(), "TERM"});
  CHECK_MESSAGE(k.status == 0, k.err);
  CHECK(wait_for([&] { return trim_nl(slurp(nested.dir + "/cgroup.procs")).empty(); }, 5000));
  CHECK(status_of(b) == "running");

  // A nested cgroup, now empty, must not stop the container from going.
  auto d = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(d.status == 0, d.err);
  CHECK(count_entries(b.root()) == 0);
  CHECK_FALSE(berth::path_exists(cgroup_dir(b)));
}
