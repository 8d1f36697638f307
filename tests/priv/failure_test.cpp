// Failed creates and runs: each exits 1 with a message that names what
// failed and why, and leaves nothing behind (no state directory, no cgroup,
// no mount on the host, no process). Also the refusals of delete and state.
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <ostream>
#include <regex>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {



// The test's own cgroup, where the bundle's container cgroup would appear.
std::string cgroup_parent(const Bundle& b) {
  std::string path = b.config["linux"]["cgroupsPath"].get<std::string>();
  return cgroup_mount() + path.substr(0, path.rfind('/'));
}

int count_subdirs(const std::string& dir) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

// Processes whose command line mentions `needle`, other than this one. The
// runtime is called with `--root <bundle>/state`, and its init (a clone of
// it until exec) keeps that command line: a survivor of a failed create
// shows up here.
int processes_mentioning(const std::string& needle) {
  int n = 0;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      auto pid = berth::parse_int<pid_t>(e->d_name);
      if (!pid || *pid == ::getpid()) continue;
      std::string cmdline = slurp(berth::cat("/proc/", *pid, "/cmdline"));
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      if (contains(cmdline, needle)) ++n;
    }
    ::closedir(d);
  }
  return n;
}

// What a container of the bundle may leave on the host.
struct Leftovers {
  int mounts = 0;      // host mounts mentioning the bundle
  int cgroups = 0;     // cgroups below the test cgroup
  int states = 0;      // entries under --root
  int processes = 0;   // runtime or init processes of this bundle
  bool operator==(const Leftovers&) const = default;
};

// So that a failed comparison shows what was left.
std::ostream& operator<<(std::ostream& os, const Leftovers& l) {
  return os << "{mounts " << l.mounts << ", cgroups " << l.cgroups << ", states " << l.states << ", processes "
            << l.processes << "}";
}

Leftovers leftovers(const Bundle& b) {
  return {count_mounts(b.path()), count_subdirs(cgroup_parent(b)), count_entries(b.root()),
          processes_mentioning(b.root())};
}

// berth-runtime --root <root> <args> with stdout and stderr on files: a
// create that wrongly succeeds leaves an init holding its stdio, and the
// test must not wait on pipes for it.
RunResult runtime_to_files(const Bundle& b, const std::vector<std::string>& args,
                           const std::vector<std::string>& global = {}, int timeout_s = 60) {
  static int counter = 0;
  std::string base = berth::cat(b.path(), "/cmd-", counter++);
  int out = ::open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE((out >= 0 && err >= 0 && null >= 0));
  std::vector<std::string> argv = {runtime_binary(), "--root", b.root()};
  argv.insert(argv.end(), global.begin(), global.end());
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close_range(3, ~0U, 0);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(err);
  ::close(null);
  RunResult r;
  int status = 0;
  time_t deadline = ::time(nullptr) + timeout_s;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (::time(nullptr) > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.err = "[test: berth-runtime killed after timeout]\n";
      break;
    }
    ::usleep(10000);
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base + ".out");
  r.err += slurp(base + ".err");
  return r;
}

// Runs `create` or `run` on the bundle as it is on disk and checks that it
// fails with exit code 1, that stderr holds each of `needles`, and that
// nothing is left behind.
void expect_clean_failure(const Bundle& b, const std::string& verb, const std::vector<std::string>& needles) {
  CAPTURE(verb);
  Leftovers before = leftovers(b);
  auto r = runtime_to_files(b, {verb, "--bundle", b.path(), b.id()});
  CHECK(r.status == 1);
  CHECK(berth::starts_with(r.err, "berth-runtime: " + verb + " container " + b.id() + ": "));
  for (const auto& n : needles) CHECK_MESSAGE(contains(r.err, n), "stderr lacks [" << n << "]: " << r.err);
  // One line: the error, nothing else on stderr.
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(leftovers(b) == before);
  CHECK(count_entries(b.root()) == 0);
  if (r.status == 0) (void)b.runtime({"delete", "--force", b.id()});
}

// Both ways to make a container must fail the same way.
void expect_create_and_run_fail(Bundle& b, const std::vector<std::string>& needles) {
  b.write();
  SUBCASE("create") { expect_clean_failure(b, "create", needles); }
  SUBCASE("run") { expect_clean_failure(b, "run", needles); }
}

std::string state_of(const Bundle& b) {
  auto r = b.runtime({"state", b.id()});
  if (r.status != 0) return "<state failed: " + r.err + ">";
  return json::parse(r.out)["status"].get<std::string>();
}

// Starts a detached container running `sleep 300` and returns its pid.
int run_detached_sleeper(Bundle& b) {
  b.args({"sleep", "300"});
  b.write();
  auto r = runtime_to_files(b, {"run", "-d", "--bundle", b.path(), b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto st = b.runtime({"state", b.id()});
  REQUIRE_MESSAGE(st.status == 0, st.err);
  return json::parse(st.out)["pid"].get<int>();
}

}  // namespace

TEST_CASE("failure: args[0] not in PATH") {
  Bundle b;
  b.args({"nope"});
  expect_create_and_run_fail(b, {"exec: \"nope\": executable file not found in $PATH"});
}

TEST_CASE("failure: args[0] is a path that does not exist") {
  Bundle b;
  b.args({"/bin/nope"});
  expect_create_and_run_fail(b, {"/bin/nope", "No such file or directory"});
}

TEST_CASE("failure: a bind mount whose source does not exist") {
  Bundle b;
  std::string source = b.path() + "/no-such-source";
  b.config["mounts"].push_back({{"destination", "/mnt/data"}, {"type", "bind"}, {"source", source},
                                {"options", {"rbind", "ro"}}});
  b.args({"true"});
  expect_create_and_run_fail(b, {source, "/mnt/data", "No such file or directory"});
}

TEST_CASE("failure: an rlimit hard limit above the host's") {
  // Raising a hard limit needs CAP_SYS_RESOURCE, which this host's root lacks.
  Bundle b;
  b.config["process"]["rlimits"] = json::array({{{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 30000}}});
  b.args({"true"});
  expect_create_and_run_fail(b, {"setrlimit RLIMIT_NOFILE", "30000", "Operation not permitted"});
}

TEST_CASE("failure: a negative oomScoreAdj without CAP_SYS_RESOURCE") {
  Bundle b;
  b.config["process"]["oomScoreAdj"] = -500;
  b.args({"true"});
  // The kernel refuses a lowered oom_score_adj with EACCES.
  expect_create_and_run_fail(b, {"oom_score_adj", "-500", "Permission denied"});
}

TEST_CASE("failure: a mount of an unknown filesystem type") {
  Bundle b;
  b.config["mounts"].push_back({{"destination", "/mnt/odd"}, {"type", "berthnosuchfs"}, {"source", "none"}});
  b.args({"true"});
  // The type is what is wrong, so the message must name it.
  expect_create_and_run_fail(b, {"/mnt/odd", "berthnosuchfs", "No such device"});
}

TEST_CASE("failure: joining a namespace path that does not exist") {
  Bundle b;
  std::string path = b.path() + "/no-such-netns";
  for (auto& ns : b.config["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = path;
  b.args({"true"});
  expect_create_and_run_fail(b, {"network namespace", path, "No such file or directory"});
}

TEST_CASE("failure: joining a namespace path that is not a namespace") {
  Bundle b;
  std::string path = b.path() + "/plain-file";
  REQUIRE(berth::write_file(path, "not a namespace\n", true));
  for (auto& ns : b.config["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = path;
  b.args({"true"});
  expect_create_and_run_fail(b, {"network namespace", path});
}

TEST_CASE("failure: a missing rootfs creates nothing at all") {
  Bundle b;
  b.config["root"]["path"] = "no-such-rootfs";
  b.args({"true"});
  expect_create_and_run_fail(b, {"rootfs (\"" + b.path() + "/no-such-rootfs\") does not exist"});
  // Not even the state root.
  CHECK_FALSE(berth::path_exists(b.root()));
}

TEST_CASE("failure: a malformed config.json names the field and creates nothing") {
  Bundle b;
  std::string expected;
  SUBCASE("not JSON") {
    REQUIRE(berth::write_file(b.path() + "/config.json", "{\"ociVersion\": \"1.2.0\", \"process\": {", true));
    expected = "parse config.json: ";
  }
  SUBCASE("a string where an array is expected") {
    b.config["process"]["args"] = "sh -c true";
    b.write();
    expected = "process.args: expected array of strings, got string";
  }
  SUBCASE("a string where an integer is expected") {
    b.config["process"]["user"]["uid"] = "1000";
    b.write();
    expected = "process.user.uid: expected integer, got string";
  }
  SUBCASE("a required field missing in an array element") {
    b.config["linux"]["namespaces"][2].erase("type");
    b.write();
    expected = "linux.namespaces[2].type: required";
  }
  for (const char* verb : {"create", "run"}) expect_clean_failure(b, verb, {expected});
  CHECK_FALSE(berth::path_exists(b.root()));
}

TEST_CASE("failure: an id with a slash is refused and creates nothing") {
  Bundle b("a/b");
  b.args({"true"});
  b.write();
  for (const char* verb : {"create", "run"}) {
    auto r = runtime_to_files(b, {verb, "--bundle", b.path(), b.id()});
    CHECK(r.status == 1);
    CHECK_MESSAGE(contains(r.err, "invalid container ID format: \"a/b\""), r.err);
  }
  CHECK_FALSE(berth::path_exists(b.root()));
  CHECK(count_subdirs(cgroup_parent(b)) == 0);
}

TEST_CASE("failure: creating an id that exists leaves the existing container untouched") {
  Bundle b;
  b.sh("echo started > /tmp/started");
  b.write();
  auto first = runtime_to_files(b, {"create", "--bundle", b.path(), b.id()});
  REQUIRE_MESSAGE(first.status == 0, first.err);
  auto st = json::parse(b.runtime({"state", b.id()}).out);
  REQUIRE(st["status"] == "created");
  int pid = st["pid"].get<int>();
  int cgroups = count_subdirs(cgroup_parent(b));
  std::string cgroup_procs = cgroup_mount() + b.config["linux"]["cgroupsPath"].get<std::string>() + "/cgroup.procs";
  REQUIRE(slurp(cgroup_procs) == berth::cat(pid, "\n"));
  // The init waits for start before exec, still under the runtime's command
  // line: the process count of the other tests would see it.
  REQUIRE(processes_mentioning(b.root()) == 1);

  for (const char* verb : {"create", "run"}) {
    CAPTURE(verb);
    auto again = runtime_to_files(b, {verb, "--bundle", b.path(), b.id()});
    CHECK(again.status == 1);
    CHECK_MESSAGE(contains(again.err, "container with id exists: " + b.id()), again.err);
  }

  // Same state, same init, same cgroup, and it still starts.
  auto after = json::parse(b.runtime({"state", b.id()}).out);
  CHECK(after["status"] == "created");
  CHECK(after["pid"] == pid);
  CHECK(after["created"] == st["created"]);
  CHECK(count_subdirs(cgroup_parent(b)) == cgroups);
  CHECK(slurp(cgroup_procs) == berth::cat(pid, "\n"));
  CHECK(processes_mentioning(b.root()) == 1);
  auto start = b.runtime({"start", b.id()});
  CHECK_MESSAGE(start.status == 0, start.err);
  // The shell creates the file before it writes to it: wait for the content.
  for (int i = 0; i < 250 && slurp(b.rootfs() + "/tmp/started") != "started\n"; ++i) ::usleep(20000);
  CHECK(slurp(b.rootfs() + "/tmp/started") == "started\n");
  auto del = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(del.status == 0, del.err);
  CHECK(count_entries(b.root()) == 0);
}

TEST_CASE("failure: --log with --log-format json holds one JSON error object") {
  Bundle b;
  b.args({"nope"});
  b.write();
  std::string log = b.path() + "/runtime.log";
  auto r = runtime_to_files(b, {"create", "--bundle", b.path(), b.id()}, {"--log", log, "--log-format", "json"});
  CHECK(r.status == 1);
  // The caller still sees the reason on stderr.
  CHECK_MESSAGE(contains(r.err, "executable file not found in $PATH"), r.err);
  std::string text = slurp(log);
  auto lines = berth::split(text, '\n');
  REQUIRE_MESSAGE(lines.size() == 2, text);  // one line and its newline
  CHECK(lines[1] == "");
  json j;
  REQUIRE_NOTHROW(j = json::parse(lines[0]));
  CHECK(j["level"] == "error");
  CHECK(j["msg"] == "create container c1: exec: \"nope\": executable file not found in $PATH");
  REQUIRE(j["time"].is_string());
  // RFC 3339, as Go's time.Parse(time.RFC3339Nano, ...) in podman accepts it.
  static const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))");
  CHECK_MESSAGE(std::regex_match(j["time"].get<std::string>(), rfc3339), j["time"].get<std::string>());
  CHECK(count_entries(b.root()) == 0);
}

TEST_CASE("delete refuses a running container; --force removes it") {
  Bundle b;
  int pid = run_detached_sleeper(b);
  auto r = b.runtime({"delete", b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "cannot delete container c1 that is not stopped: running"), r.err);
  CHECK(state_of(b) == "running");
  CHECK(::kill(pid, 0) == 0);

  auto forced = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(forced.status == 0, forced.err);
  CHECK(count_entries(b.root()) == 0);
  CHECK(count_subdirs(cgroup_parent(b)) == 0);
  // The init is gone (not even a zombie of ours: it was the runtime's child).
  bool gone = false;
  for (int i = 0; i < 250 && !gone; ++i) {
    auto stat = slurp(berth::cat("/proc/", pid, "/stat"));
    gone = stat.empty() || contains(stat, ") Z ");
    if (!gone) ::usleep(20000);
  }
  CHECK(gone);
  auto state = b.runtime({"state", b.id()});
  CHECK(state.status == 1);
}

TEST_CASE("delete of a missing container: an error, but not with --force") {
  Bundle b("ghost");
  auto plain = b.runtime({"delete", "ghost"});
  CHECK(plain.status == 1);
  CHECK_MESSAGE(contains(plain.err, "container \"ghost\" does not exist"), plain.err);
  auto forced = b.runtime({"delete", "--force", "ghost"});
  CHECK_MESSAGE(forced.status == 0, forced.err);
  CHECK(forced.err == "");
  CHECK(count_entries(b.root()) == 0);
}

TEST_CASE("state of a missing container says it does not exist") {
  Bundle b("x");
  auto r = b.runtime({"state", "x"});
  CHECK(r.status == 1);
  CHECK(r.out == "");
  CHECK(r.err == "berth-runtime: container \"x\" does not exist\n");
}
