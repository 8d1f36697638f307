// cgroup v2 limits proven by behaviour: each case runs a real container with
// the built berth-runtime inside the test guest (a pure cgroup v2 tree with
// every controller, see tests/vm/run.sh) and watches what the kernel does to
// it: an OOM kill, a fork that fails, throttled periods, a loop that stops.
// The cgroup files are read too, but only as a second witness.
//
// Containers that must stay up while the test looks at them are started with
// create + start and write what they see to files in their (writable) rootfs,
// which the test reads from the outside.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace berth::test;
using namespace std::chrono_literals;

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool file_exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

bool write_file_for_test(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  return f && std::fclose(f) == 0;
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

/// The value of `key` in a flat-keyed cgroup file ("nr_throttled 5"), or -1.
long long keyed(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string k;
    long long v = 0;
    if (fields >> k >> v && k == key) return v;
  }
  return -1;
}

std::optional<long long> to_number(const std::string& text) {
  try {
    return std::stoll(text);
  } catch (...) {
    return std::nullopt;
  }
}

/// The largest number held by a member called `key` anywhere in `j`, or -1.
long long find_number(const json& j, const std::string& key) {
  long long best = -1;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == key && it.value().is_number()) best = std::max(best, it.value().get<long long>());
      best = std::max(best, find_number(it.value(), key));
    }
  } else if (j.is_array()) {
    for (const auto& v : j) best = std::max(best, find_number(v, key));
  }
  return best;
}

/// Polls `pred` every 100 ms for up to `timeout`.
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

/// The container's cgroup directory as the guest sees it.
std::string cgroup_dir(const Bundle& b) {
  return cgroup_mount() + b.config["linux"]["cgroupsPath"].get<std::string>();
}

std::string cgroup_file(const Bundle& b, const std::string& name) { return slurp(cgroup_dir(b) + "/" + name); }

/// A file the container wrote into its rootfs.
std::string from_container(const Bundle& b, const std::string& name) { return slurp(b.rootfs() + "/" + name); }

/// create + start: the container keeps running after the call returns.
RunResult create_and_start(const Bundle& b) {
  b.write();
  auto r = b.runtime({"create", "--bundle", b.path(), b.id()});
  if (r.status != 0) return r;
  return b.runtime({"start", b.id()});
}

std::string state_status(const Bundle& b) {
  auto r = b.runtime({"state", b.id()});
  if (r.status != 0) return "state failed: " + r.err;
  try {
    return json::parse(r.out).value("status", "");
  } catch (const std::exception& e) {
    return std::string("unparsable state: ") + r.out;
  }
}

/// `events --stats ID`: one JSON object, or null (the output goes to INFO).
json stats(const Bundle& b) {
  auto r = b.runtime({"events", "--stats", b.id()});
  INFO("events --stats: status ", r.status, "\nstdout: ", r.out, "\nstderr: ", r.err);
  CHECK(r.status == 0);
  try {
    return json::parse(r.out);
  } catch (const std::exception&) {
    FAIL_CHECK("events --stats did not print one JSON object");
    return json();
  }
}

/// Removes the container however the test ends (a frozen one included).
class Cleanup {
 public:
  explicit Cleanup(const Bundle& b) : b_(b) {}
  ~Cleanup() { (void)b_.runtime({"delete", "--force", b_.id()}); }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  const Bundle& b_;
};

// Grows one string by doubling until it holds 16 << DOUBLINGS bytes; awk
// copies on every step, so the peak is about one and a half times that.
std::string memory_hog(int doublings, const std::string& label) {
  return "awk 'BEGIN { s = \"0123456789abcdef\"; for (i = 0; i < " + std::to_string(doublings) +
         "; i++) s = s s; print \"length=\" length(s) }'; echo " + label + "=$?";
}

constexpr long long kMiB = 1024 * 1024;

/// A stand-in for a host whose cgroup v2 tree lacks controllers, made inside
/// the guest: a cgroup `host` whose parent delegates only `controllers`.
/// Commands run there as on such a host: in a new cgroup namespace rooted at
/// `host`, with their own cgroup2 mount (in a private mount namespace; the
/// same superblock cannot be mounted over itself, hence the umount first),
/// from a child cgroup `/init`, so that the root holds no processes and can
/// hand the controllers it has to its children. Nothing above is reachable.
/// One container per host: once the runtime has enabled a controller in the
/// root's subtree_control, no process can join the root again.
class PartialHost {
 public:
  explicit PartialHost(const std::string& controllers)
      : top_(cgroup_mount() + "/berth-vm-host-" + std::to_string(::getpid()) + "-" + std::to_string(next_++)),
        host_(top_ + "/host") {
    REQUIRE(::mkdir(top_.c_str(), 0755) == 0);
    if (!controllers.empty()) {
      std::FILE* f = std::fopen((top_ + "/cgroup.subtree_control").c_str(), "w");
      REQUIRE(f);
      std::fputs(("+" + controllers).c_str(), f);
      REQUIRE(std::fclose(f) == 0);
    }
    REQUIRE(::mkdir(host_.c_str(), 0755) == 0);
    REQUIRE(trimmed(slurp(host_ + "/cgroup.controllers")) == controllers);
  }
  ~PartialHost() {
    for (const std::string& dir : {host_ + "/c", host_ + "/init", host_, top_}) ::rmdir(dir.c_str());
  }
  PartialHost(const PartialHost&) = delete;
  PartialHost& operator=(const PartialHost&) = delete;

  /// The host's view of a cgroup: "/c" is `host`/c.
  std::string dir(const std::string& rel) const { return host_ + rel; }

  /// `berth-runtime run` of the bundle, on this host.
  RunResult run_container(const Bundle& b) const {
    b.write();
    return run({"/bin/sh", "-c",
                "echo $$ > \"$1/cgroup.procs\" && shift && "
                "exec unshare --cgroup --mount --propagation private /bin/sh -c '"
                "umount -l /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup && "
                "mkdir /sys/fs/cgroup/init && echo $$ > /sys/fs/cgroup/init/cgroup.procs && "
                "exec \"$@\"' sh \"$@\"",
                "sh", host_, runtime_binary(), "--root", b.root(), "run", "--bundle", b.path(), b.id()});
  }

 private:
  static inline int next_ = 0;
  std::string top_, host_;
};

}  // namespace

TEST_CASE("the guest has a pure cgroup v2 tree and a plain container runs in it") {
  // The guest itself: cgroup2 on /sys/fs/cgroup, no v1 hierarchy, every controller.
  CHECK(cgroup_mount() == "/sys/fs/cgroup");
  CHECK_FALSE(contains(slurp("/proc/self/mountinfo"), " - cgroup "));
  std::string controllers = slurp("/sys/fs/cgroup/cgroup.controllers");
  INFO("cgroup.controllers: ", controllers);
  for (const char* c : {"cpuset", "cpu", "io", "memory", "pids", "hugetlb"}) CHECK(has_word(controllers, c));

  Bundle b;
  b.sh("cat /proc/self/cgroup; echo lines=$(wc -l < /proc/self/cgroup); "
       "stat -f -c 'fstype=%t' /sys/fs/cgroup; ls /sys/fs/cgroup; echo hello from the guest");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  // One "0::" line: the container's process is in no v1 hierarchy.
  CHECK(contains(r.out, "0::/"));
  CHECK(contains(r.out, "lines=1\n"));
  CHECK(contains(r.out, "fstype=63677270\n"));  // CGROUP2_SUPER_MAGIC
  CHECK(contains(r.out, "cgroup.procs\n"));
  CHECK(contains(r.out, "hello from the guest\n"));
  // run removed the container's cgroup again.
  CHECK_FALSE(file_exists(cgroup_dir(b)));
}

TEST_CASE("devices: a denied device cannot be opened while an allowed one can") {
  // The allowed one is the guest's /dev/cpu_dma_latency, whose misc minor
  // differs between kernels; the denied one is c 1:11 (/dev/kmsg), which
  // needs no privilege to be opened for writing, so only the device filter
  // can refuse it.
  struct stat st{};
  REQUIRE(::stat("/dev/cpu_dma_latency", &st) == 0);
  REQUIRE(S_ISCHR(st.st_mode));
  const unsigned maj = major(st.st_rdev), min = minor(st.st_rdev);
  Bundle b;
  for (const char* set : {"bounding", "effective", "permitted"})
    b.config["process"]["capabilities"][set].push_back("CAP_MKNOD");
  b.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", maj}, {"minor", min}, {"access", "rw"}});
  b.sh("mknod /dev/allowed c " + std::to_string(maj) + " " + std::to_string(min) +
       " && mknod /dev/denied c 1 11 && echo nodes=ok; "
       "echo allowed=$(head -c 4 /dev/allowed | wc -c); "
       "echo berth-vm-device-test > /dev/denied; echo denied=$?");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "nodes=ok\n"));
  CHECK(contains(r.out, "allowed=4\n"));
  CHECK(contains(r.out, "denied=1\n"));
  CHECK(contains(r.err, "/dev/denied: Operation not permitted"));
}

TEST_CASE("with no controller at all, a container without resources runs and leaves no cgroup behind") {
  PartialHost host("");
  Bundle b;
  b.config["linux"]["cgroupsPath"] = "/c";
  // No cgroup namespace for the container, so that it shows where it was put.
  auto& ns = b.config["linux"]["namespaces"];
  for (auto it = ns.begin(); it != ns.end();) it = (*it)["type"] == "cgroup" ? ns.erase(it) : it + 1;
  b.sh("echo ran; cat /proc/self/cgroup");
  auto r = host.run_container(b);
  INFO("status ", r.status, "\nstdout: ", r.out, "\nstderr: ", r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "ran\n0::/c\n"));
  CHECK_FALSE(file_exists(host.dir("/c")));
  CHECK(b.runtime({"state", b.id()}).status != 0);
}

TEST_CASE("a controller missing from the tree is an error naming it, and nothing is left behind") {
  Bundle b;
  b.config["linux"]["cgroupsPath"] = "/c";
  {
    // What such a host has works: the memory limit holds there.
    PartialHost host("memory");
    b.config["linux"]["resources"]["memory"] = {{"limit", 16 * kMiB}};
    b.sh(memory_hog(21, "hog"));
    auto ok = host.run_container(b);
    INFO("memory.limit: status ", ok.status, "\nstdout: ", ok.out, "\nstderr: ", ok.err);
    CHECK(ok.status == 0);
    CHECK(contains(ok.out, "hog=137\n"));
    CHECK_FALSE(file_exists(host.dir("/c")));
  }

  // What it lacks is refused before the container's process runs.
  PartialHost host("memory");
  b.config["linux"]["resources"]["pids"] = {{"limit", 10}};
  b.sh("echo ran with pids");
  auto r = host.run_container(b);
  INFO("with pids.limit: status ", r.status, "\nstdout: ", r.out, "\nstderr: ", r.err);
  CHECK(r.status != 0);
  CHECK(contains(r.err, "cgroup v2 controller \"pids\" is not available"));
  CHECK_FALSE(contains(r.out, "ran with pids"));
  CHECK_FALSE(file_exists(host.dir("/c")));
  CHECK(b.runtime({"state", b.id()}).status != 0);
}

TEST_CASE("memory.max: a memory hog is OOM-killed and events --stats counts the kill") {
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"limit", 16 * kMiB}};
  // 32 MiB wanted under a 16 MiB limit.
  b.sh("exec > /out.log 2>&1; " + memory_hog(21, "hog") + "; echo done > /hog-done; exec sleep 1000");
  Cleanup cleanup(b);
  auto r = create_and_start(b);
  INFO("create/start: ", r.out, r.err);
  REQUIRE(r.status == 0);
  REQUIRE(eventually([&] { return file_exists(b.rootfs() + "/hog-done"); }, 60s));
  std::string out = from_container(b, "out.log");
  INFO("container output: ", out);
  CHECK(contains(out, "hog=137\n"));  // SIGKILL
  CHECK_FALSE(contains(out, "length="));
  CHECK(trimmed(cgroup_file(b, "memory.max")) == std::to_string(16 * kMiB));
  std::string events = cgroup_file(b, "memory.events");
  INFO("memory.events: ", events);
  CHECK(keyed(events, "oom_kill") >= 1);

  json s = stats(b);
  INFO("stats: ", s.dump());
  CHECK(s.value("type", "") == "stats");
  CHECK(s.value("id", "") == b.id());
  REQUIRE(s.contains("data"));
  REQUIRE(s["data"].contains("memory"));
  CHECK(find_number(s["data"]["memory"], "oom_kill") >= 1);
  CHECK(s["data"]["memory"]["usage"].value("limit", 0LL) == 16 * kMiB);
  CHECK(s["data"]["memory"]["usage"].value("usage", 0LL) > 0);
}

TEST_CASE("pids.max: a fork loop stops at the limit") {
  Bundle b;
  b.config["linux"]["resources"]["pids"] = {{"limit", 8}};
  // The loop runs in a subshell so that the shell which reports survives
  // the failed fork; it writes how far it got with builtins only.
  b.sh("exec > /out.log 2>&1; "
       "(i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i + 1)); echo $i > /started; done) 2> /fork.err; "
       "echo done > /loop-done; exec sleep 1000");
  Cleanup cleanup(b);
  auto r = create_and_start(b);
  INFO("create/start: ", r.out, r.err);
  REQUIRE(r.status == 0);
  REQUIRE(eventually([&] { return file_exists(b.rootfs() + "/loop-done"); }, 60s));
  std::string procs = cgroup_file(b, "cgroup.procs");
  long long n = 0;
  for (char c : procs) n += c == '\n';
  INFO("cgroup.procs: ", procs, "fork.err: ", from_container(b, "fork.err"), "\nstarted: ",
       from_container(b, "started"), "\npids.events: ", cgroup_file(b, "pids.events"));
  CHECK(trimmed(cgroup_file(b, "pids.max")) == "8");
  CHECK(n <= 8);
  CHECK(n >= 4);  // the sleeps that fitted are still there
  CHECK(trimmed(cgroup_file(b, "pids.current")) == std::to_string(n));
  CHECK(to_number(from_container(b, "started")).value_or(99) < 40);
  CHECK(contains(from_container(b, "fork.err"), "fork"));
  CHECK(keyed(cgroup_file(b, "pids.events"), "max") >= 1);
  json s = stats(b);
  INFO("stats: ", s.dump());
  CHECK(s["data"]["pids"].value("limit", 0LL) == 8);
  CHECK(s["data"]["pids"].value("current", 0LL) == n);
}

TEST_CASE("cpu.max: a busy loop under a small quota is throttled") {
  Bundle b;
  b.config["linux"]["resources"]["cpu"] = {{"quota", 10000}, {"period", 100000}};
  b.sh("exec > /out.log 2>&1; while :; do :; done");
  Cleanup cleanup(b);
  auto r = create_and_start(b);
  INFO("create/start: ", r.out, r.err);
  REQUIRE(r.status == 0);
  CHECK(trimmed(cgroup_file(b, "cpu.max")) == "10000 100000");
  REQUIRE(eventually([&] { return keyed(cgroup_file(b, "cpu.stat"), "nr_throttled") > 0; }, 30s));
  // 10% of one CPU: over two seconds the loop gets far less than the one
  // CPU-second it would burn unthrottled (loose: this is emulation).
  long long u0 = keyed(cgroup_file(b, "cpu.stat"), "usage_usec");
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(2s);
  long long u1 = keyed(cgroup_file(b, "cpu.stat"), "usage_usec");
  long long wall = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  INFO("cpu.stat: ", cgroup_file(b, "cpu.stat"), "usage ", u1 - u0, " us in ", wall, " us");
  CHECK(u1 - u0 < wall / 2);
  CHECK(keyed(cgroup_file(b, "cpu.stat"), "throttled_usec") > 0);

  json s = stats(b);
  INFO("stats: ", s.dump());
  // runc's field names, camelCase here.
  CHECK(s["data"]["cpu"]["throttling"].value("throttledPeriods", 0LL) > 0);
  CHECK(s["data"]["cpu"]["throttling"].value("throttledTime", 0LL) > 0);
  CHECK(s["data"]["cpu"]["throttling"].value("periods", 0LL) > 0);
  CHECK(s["data"]["cpu"]["usage"].value("total", 0LL) > 0);
}

TEST_CASE("pause freezes a counting loop until resume") {
  Bundle b;
  b.sh("exec > /out.log 2>&1; i=0; while :; do i=$((i + 1)); echo $i > /count; done");
  Cleanup cleanup(b);
  auto r = create_and_start(b);
  INFO("create/start: ", r.out, r.err);
  REQUIRE(r.status == 0);
  auto count = [&] { return to_number(from_container(b, "count")).value_or(-1); };
  REQUIRE(eventually([&] { return count() > 20; }, 30s));

  auto p = b.runtime({"pause", b.id()});
  INFO("pause: ", p.out, p.err);
  REQUIRE(p.status == 0);
  CHECK(state_status(b) == "paused");
  CHECK(trimmed(cgroup_file(b, "cgroup.freeze")) == "1");
  CHECK(keyed(cgroup_file(b, "cgroup.events"), "frozen") == 1);
  // The file may have been caught between truncation and write: compare text.
  std::string frozen_at = from_container(b, "count");
  std::this_thread::sleep_for(1500ms);
  CHECK(from_container(b, "count") == frozen_at);

  auto u = b.runtime({"resume", b.id()});
  INFO("resume: ", u.out, u.err);
  REQUIRE(u.status == 0);
  CHECK(state_status(b) == "running");
  CHECK(keyed(cgroup_file(b, "cgroup.events"), "frozen") == 0);
  long long base = to_number(frozen_at).value_or(0);
  CHECK(eventually([&] { return count() > base + 20; }, 30s));
}

TEST_CASE("update changes a running container's memory and pids limits") {
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"limit", 64 * kMiB}};
  b.config["linux"]["resources"]["pids"] = {{"limit", 20}};
  // Twice the same work: a 16 MiB hog and eight sleeps; before the update
  // both fit, after it (16 MiB, 5 pids) neither does.
  std::string spawn =
      "(i=0; while [ $i -lt 8 ]; do sleep 1000 & i=$((i + 1)); done; echo spawned-$1=$i) 2>&1";
  b.sh("exec > /out.log 2>&1; spawn() { " + spawn + "; }; " + memory_hog(20, "hog-before") +
       "; spawn before; kill -9 -1; echo done > /phase1; "
       "until [ -e /go ]; do sleep 0.2; done; " +
       memory_hog(20, "hog-after") + "; spawn after; echo done > /phase2; exec sleep 1000");
  Cleanup cleanup(b);
  auto r = create_and_start(b);
  INFO("create/start: ", r.out, r.err);
  REQUIRE(r.status == 0);
  REQUIRE(eventually([&] { return file_exists(b.rootfs() + "/phase1"); }, 60s));
  CHECK(trimmed(cgroup_file(b, "memory.max")) == std::to_string(64 * kMiB));
  CHECK(trimmed(cgroup_file(b, "pids.max")) == "20");

  auto u = b.runtime({"update", "--memory", "16M", "--pids-limit", "5", b.id()});
  INFO("update: ", u.out, u.err);
  REQUIRE(u.status == 0);
  CHECK(trimmed(cgroup_file(b, "memory.max")) == std::to_string(16 * kMiB));
  CHECK(trimmed(cgroup_file(b, "pids.max")) == "5");

  REQUIRE(write_file_for_test(b.rootfs() + "/go"));
  REQUIRE(eventually([&] { return file_exists(b.rootfs() + "/phase2"); }, 60s));
  std::string out = from_container(b, "out.log");
  INFO("container output: ", out);
  CHECK(contains(out, "hog-before=0\n"));
  CHECK(contains(out, "spawned-before=8\n"));
  CHECK(contains(out, "hog-after=137\n"));
  CHECK_FALSE(contains(out, "spawned-after="));
  CHECK(contains(out, "fork"));
  CHECK(keyed(cgroup_file(b, "memory.events"), "oom_kill") >= 1);

  // The same through --resources, from stdin: only what is named changes.
  auto j = b.runtime({"update", "--resources", "-", b.id()}, R"({"pids": {"limit": 7}})");
  INFO("update --resources -: ", j.out, j.err);
  CHECK(j.status == 0);
  CHECK(trimmed(cgroup_file(b, "pids.max")) == "7");
  CHECK(trimmed(cgroup_file(b, "memory.max")) == std::to_string(16 * kMiB));
}
