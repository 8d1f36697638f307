// The process part of config.json (user, umask, cwd, env, args, rlimits,
// oomScoreAdj, capabilities) and how `run` treats it (exit status, detach,
// --keep, socket activation, signal forwarding), each checked from inside a
// real container.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {


// A file's content, or "" when it cannot be read.

// The value of a "Key:\tvalue" line of /proc/<pid>/status text.
std::string status_field(const std::string& status, const std::string& key) {
  for (const auto& line : berth::split(status, '\n'))
    if (berth::starts_with(line, key + ":")) {
      std::string v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "<missing " + key + ">";
}

// The line of /proc/self/limits for one limit, with its columns squeezed to
// single spaces ("Max open files 1234 5678 files").
std::string limits_line(const std::string& limits, const std::string& name) {
  for (const auto& line : berth::split(limits, '\n')) {
    if (!berth::starts_with(line, name)) continue;
    std::string out;
    for (char c : line)
      if (c != ' ' || (!out.empty() && out.back() != ' ')) out += c;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }
  return "<missing " + name + ">";
}

void set_user(Bundle& b, int uid, int gid) {
  b.config["process"]["user"]["uid"] = uid;
  b.config["process"]["user"]["gid"] = gid;
}

// berth-runtime started as our child with its stdout and stderr on files,
// not pipes: a container that outlives the command (create, run -d) keeps
// them open, and a pipe would then never reach EOF.
struct Launched {
  pid_t pid = -1;
  std::string out_path, err_path;
};

int g_launches = 0;

// `env` entries are added to the runtime's environment; a value of "<pid>"
// becomes the runtime's own pid (for LISTEN_PID). `fds` become 3, 4, ...
Launched launch(const Bundle& b, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                const std::vector<int>& fds = {}) {
  Launched l;
  std::string base = berth::cat(b.path(), "/launch-", g_launches++);
  l.out_path = base + ".out";
  l.err_path = base + ".err";
  int out = ::open(l.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(l.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE((out >= 0 && err >= 0 && null >= 0));
  std::vector<std::string> argv = {runtime_binary(), "--root", b.root()};
  argv.insert(argv.end(), args.begin(), args.end());
  l.pid = ::fork();
  REQUIRE(l.pid >= 0);
  if (l.pid == 0) {
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<int> moved;
    for (int fd : fds) moved.push_back(::fcntl(fd, F_DUPFD, 100));
    for (size_t i = 0; i < moved.size(); ++i) ::dup2(moved[i], 3 + static_cast<int>(i));
    ::close_range(3 + static_cast<unsigned>(moved.size()), ~0U, 0);
    for (const auto& e : env) {
      auto eq = e.find('=');
      std::string name = e.substr(0, eq), value = e.substr(eq + 1);
      if (value == "<pid>") value = std::to_string(::getpid());
      ::setenv(name.c_str(), value.c_str(), 1);
    }
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(err);
  ::close(null);
  return l;
}

// Waits for a launched runtime (killing it after `timeout_s`) and collects
// its exit status and output.
RunResult finish(const Launched& l, int timeout_s = 60) {
  RunResult r;
  int status = 0;
  time_t deadline = ::time(nullptr) + timeout_s;
  for (;;) {
    pid_t w = ::waitpid(l.pid, &status, WNOHANG);
    if (w == l.pid) break;
    if (w < 0 && errno != EINTR) break;
    if (::time(nullptr) > deadline) {
      ::kill(l.pid, SIGKILL);
      ::waitpid(l.pid, &status, 0);
      r.err = "[test: berth-runtime killed after timeout]\n";
      break;
    }
    ::usleep(10000);
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(l.out_path);
  r.err += slurp(l.err_path);
  return r;
}

std::string state_of(const Bundle& b) {
  auto r = b.runtime({"state", b.id()});
  if (r.status != 0) return "<state failed: " + r.err + ">";
  return json::parse(r.out)["status"].get<std::string>();
}

// Polls `state` until it reports `want` (containers stop asynchronously).
bool wait_state(const Bundle& b, const std::string& want, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (state_of(b) == want) return true;
    ::usleep(20000);
  }
  return state_of(b) == want;
}

// Polls a file until it contains `text`.
bool wait_for_text(const std::string& path, const std::string& text, int timeout_ms = 10000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (contains(slurp(path), text)) return true;
    ::usleep(10000);
  }
  return false;
}

// True once `pid` blocks `sig`: the foreground `run` blocks every signal
// when it starts supervising, so from then on a signal is forwarded rather
// than fatal to it.
bool wait_signal_blocked(pid_t pid, int sig, int timeout_ms = 10000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    auto status = berth::read_file(berth::cat("/proc/", pid, "/status"));
    if (status) {
      auto mask = std::strtoull(status_field(*status, "SigBlk").c_str(), nullptr, 16);
      if (mask & (1ULL << (sig - 1))) return true;
    }
    ::usleep(10000);
  }
  return false;
}

}  // namespace

TEST_CASE("process.user sets uid, gid and additionalGids") {
  Bundle b;
  set_user(b, 1000, 1000);
  b.config["process"]["user"]["additionalGids"] = {10, 20};
  b.sh("id; id -u; id -g; id -G; cat /proc/self/status");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto lines = berth::split(r.out, '\n');
  REQUIRE(lines.size() > 4);
  // busybox id's "groups=" is getgroups(2) alone; -G adds the primary group.
  CHECK(lines[0] == "uid=1000(tester) gid=1000(tester) groups=10,20");
  CHECK(lines[1] == "1000");
  CHECK(lines[2] == "1000");
  CHECK(lines[3] == "1000 10 20");
  // The kernel's view: real, effective, saved and fs ids all switched.
  CHECK(status_field(r.out, "Uid") == "1000\t1000\t1000\t1000");
  CHECK(status_field(r.out, "Gid") == "1000\t1000\t1000\t1000");
  CHECK(std::string(berth::trim(status_field(r.out, "Groups"))) == "10 20");
}

TEST_CASE("HOME comes from /etc/passwd unless process.env sets it") {
  Bundle b;
  b.args({"sh", "-c", "echo HOME=$HOME"});
  SUBCASE("uid 1000 gets the home of tester") {
    set_user(b, 1000, 1000);
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "HOME=/home/tester\n");
  }
  SUBCASE("root gets /root") {
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "HOME=/root\n");
  }
  SUBCASE("a uid without a passwd entry gets /") {
    set_user(b, 4321, 4321);
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "HOME=/\n");
  }
  SUBCASE("an explicit HOME wins over /etc/passwd") {
    set_user(b, 1000, 1000);
    b.config["process"]["env"].push_back("HOME=/srv/elsewhere");
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "HOME=/srv/elsewhere\n");
  }
}

TEST_CASE("process.user.umask sets the umask, 0022 by default") {
  Bundle b;
  b.sh("umask; touch /tmp/f; mkdir /tmp/d; stat -c '%a %a' /tmp/f /tmp/d | tr '\\n' ' '");
  SUBCASE("umask 0027") {
    b.config["process"]["user"]["umask"] = 027;
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "0027\n640 640 750 750 ");
  }
  SUBCASE("no umask in the config") {
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "0022\n644 644 755 755 ");
  }
  SUBCASE("the umask also applies to a non-root user") {
    set_user(b, 1000, 1000);
    b.config["process"]["user"]["umask"] = 077;
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "0077\n600 600 700 700 ");
  }
}

TEST_CASE("process.cwd is the working directory, created when the image lacks it") {
  Bundle b;
  b.args({"pwd"});
  SUBCASE("a directory of the image") {
    b.config["process"]["cwd"] = "/home/tester";
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "/home/tester\n");
  }
  SUBCASE("a directory the image does not have") {
    REQUIRE_FALSE(berth::path_exists(b.rootfs() + "/work/deep/dir"));
    b.config["process"]["cwd"] = "/work/deep/dir";
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "/work/deep/dir\n");
    // Made in the image itself (the rootfs is a bind mount of the bundle's).
    struct stat st{};
    REQUIRE(::stat((b.rootfs() + "/work/deep/dir").c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
  }
  SUBCASE("a non-root user starts in a cwd it may not search") {
    // runc enters cwd before dropping privileges; the process then sits in
    // a directory it could not have entered itself.
    REQUIRE(berth::mkdir_all(b.rootfs() + "/private/inner", 0700));
    ::chmod((b.rootfs() + "/private").c_str(), 0700);
    set_user(b, 1000, 1000);
    b.config["process"]["cwd"] = "/private/inner";
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "/private/inner\n");
  }
}

TEST_CASE("process.env is the process environment, exactly and in order") {
  Bundle b;
  std::vector<std::string> env = {"PATH=/bin", "HOME=/h", "SPACES=a  b c", "EQUALS=x=y==z",
                                  "EMPTY=", "QUOTES='\"$NOT_EXPANDED\"'", "UTF8=\xc3\xa9t\xc3\xa9"};
  b.config["process"]["env"] = env;
  b.args({"env"});
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == berth::join(env, "\n") + "\n");
}

TEST_CASE("args[0] is looked up in the container's PATH") {
  Bundle b;
  REQUIRE(berth::mkdir_all(b.rootfs() + "/opt/tools", 0755));
  REQUIRE(berth::write_file(b.rootfs() + "/opt/tools/hello", "#!/bin/sh\necho hello from opt: \"$@\"\n", true, 0755));
  // A decoy earlier in PATH that is not executable must be skipped.
  REQUIRE(berth::mkdir_all(b.rootfs() + "/opt/decoy", 0755));
  REQUIRE(berth::write_file(b.rootfs() + "/opt/decoy/hello", "#!/bin/sh\necho decoy\n", true, 0644));
  b.config["process"]["env"] = {"PATH=/opt/decoy:/opt/tools:/bin"};
  b.args({"hello", "x y"});
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "hello from opt: x y\n");
}

TEST_CASE("args[0] with a slash is relative to process.cwd") {
  // runc resolves args[0] after entering cwd, so "./x" means cwd/x.
  Bundle b;
  REQUIRE(berth::mkdir_all(b.rootfs() + "/opt/tools", 0755));
  REQUIRE(berth::write_file(b.rootfs() + "/opt/tools/hello", "#!/bin/sh\necho relative ok\n", true, 0755));
  b.config["process"]["cwd"] = "/opt/tools";
  b.args({"./hello"});
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "relative ok\n");
}

TEST_CASE("process.args keep spaces, quotes and empty arguments") {
  Bundle b;
  std::vector<std::string> args = {"printf", "[%s]\\n", "a b", "  lead", "it's", "\"dq\"", "", "$HOME", "*", "a\\nb"};
  b.args(args);
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "[a b]\n[  lead]\n[it's]\n[\"dq\"]\n[]\n[$HOME]\n[*]\n[a\\nb]\n");
}

TEST_CASE("process.rlimits are set for the process") {
  Bundle b;
  b.config["process"]["rlimits"] = json::array({
      {{"type", "RLIMIT_NOFILE"}, {"soft", 1234}, {"hard", 5678}},
      {{"type", "RLIMIT_CORE"}, {"soft", 1048576}, {"hard", 2097152}},
      {{"type", "RLIMIT_MSGQUEUE"}, {"soft", 4096}, {"hard", 8192}},
      {{"type", "RLIMIT_STACK"}, {"soft", 4194304}, {"hard", 18446744073709551615ULL}},
  });
  b.sh("ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/limits");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto lines = berth::split(r.out, '\n');
  REQUIRE(lines.size() > 3);
  CHECK(lines[0] == "1234");
  CHECK(lines[1] == "5678");
  CHECK(lines[2] == "2048");  // busybox's ulimit -c counts 512-byte blocks
  CHECK(limits_line(r.out, "Max open files") == "Max open files 1234 5678 files");
  CHECK(limits_line(r.out, "Max core file size") == "Max core file size 1048576 2097152 bytes");
  CHECK(limits_line(r.out, "Max msgqueue size") == "Max msgqueue size 4096 8192 bytes");
  CHECK(limits_line(r.out, "Max stack size") == "Max stack size 4194304 unlimited bytes");
}

TEST_CASE("process.oomScoreAdj is set for the process") {
  Bundle b;
  b.config["process"]["oomScoreAdj"] = 500;
  b.args({"cat", "/proc/self/oom_score_adj"});
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "500\n");
}

TEST_CASE("a non-root user keeps a capability that is also ambient") {
  Bundle b;
  set_user(b, 1000, 1000);
  json cap = {"CAP_NET_BIND_SERVICE"};
  for (const char* set : {"bounding", "effective", "permitted", "inheritable", "ambient"})
    b.config["process"]["capabilities"][set] = cap;
  b.sh("grep ^Cap /proc/self/status; id -u");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const std::string bit = "0000000000000400";  // CAP_NET_BIND_SERVICE is capability 10
  CHECK(status_field(r.out, "CapEff") == bit);
  CHECK(status_field(r.out, "CapPrm") == bit);
  CHECK(status_field(r.out, "CapInh") == bit);
  CHECK(status_field(r.out, "CapAmb") == bit);
  CHECK(status_field(r.out, "CapBnd") == bit);
  CHECK(contains(r.out, "\n1000\n"));
}

TEST_CASE("a non-root user without ambient capabilities has none effective") {
  Bundle b;
  set_user(b, 1000, 1000);
  json cap = {"CAP_NET_BIND_SERVICE", "CAP_KILL"};
  for (const char* set : {"bounding", "effective", "permitted", "inheritable"})
    b.config["process"]["capabilities"][set] = cap;
  b.args({"grep", "^Cap", "/proc/self/status"});
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  // execve as a non-root user without file capabilities empties the
  // permitted and effective sets; the bounding and inheritable sets stay.
  CHECK(status_field(r.out, "CapEff") == "0000000000000000");
  CHECK(status_field(r.out, "CapPrm") == "0000000000000000");
  CHECK(status_field(r.out, "CapAmb") == "0000000000000000");
  CHECK(status_field(r.out, "CapInh") == "0000000000000420");
  CHECK(status_field(r.out, "CapBnd") == "0000000000000420");
}

TEST_CASE("root gets exactly the configured capability sets") {
  Bundle b;
  json cap = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  for (const char* set : {"bounding", "effective", "permitted"}) b.config["process"]["capabilities"][set] = cap;
  b.args({"grep", "^Cap", "/proc/self/status"});
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(status_field(r.out, "CapEff") == "0000000000000401");
  CHECK(status_field(r.out, "CapPrm") == "0000000000000401");
  CHECK(status_field(r.out, "CapBnd") == "0000000000000401");
  CHECK(status_field(r.out, "CapInh") == "0000000000000000");
  CHECK(status_field(r.out, "CapAmb") == "0000000000000000");
}

TEST_CASE("run exits with the exit code of the container process") {
  for (int code : {0, 1, 42, 255}) {
    CAPTURE(code);
    Bundle b;
    b.sh(berth::cat("exit ", code));
    auto r = b.run_container();
    CHECK(r.status == code);
    CHECK(r.err == "");
    CHECK(count_entries(b.root()) == 0);
  }
}

TEST_CASE("run -d returns 0 at once and the container keeps running") {
  Bundle b;
  b.sh("echo started; exec sleep 300");
  b.write();
  auto l = launch(b, {"run", "-d", "--bundle", b.path(), b.id()});
  auto r = finish(l, 20);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(wait_for_text(l.out_path, "started\n"));
  CHECK(state_of(b) == "running");
  auto st = json::parse(b.runtime({"state", b.id()}).out);
  int pid = st["pid"].get<int>();
  REQUIRE(pid > 0);
  CHECK(::kill(pid, 0) == 0);
  CHECK(slurp(berth::cat("/proc/", pid, "/comm")) == "sleep\n");

  REQUIRE(b.runtime({"kill", b.id(), "KILL"}).status == 0);
  CHECK(wait_state(b, "stopped"));
  auto del = b.runtime({"delete", b.id()});
  CHECK_MESSAGE(del.status == 0, del.err);
  CHECK(count_entries(b.root()) == 0);
}

TEST_CASE("run --keep leaves a stopped container that delete removes") {
  Bundle b;
  b.sh("exit 3");
  auto r = b.run_container({"--keep"});
  CHECK(r.status == 3);
  CHECK(count_entries(b.root()) == 1);
  auto st = b.runtime({"state", b.id()});
  REQUIRE_MESSAGE(st.status == 0, st.err);
  auto j = json::parse(st.out);
  CHECK(j["status"] == "stopped");
  CHECK(j["pid"] == 0);
  auto del = b.runtime({"delete", b.id()});
  CHECK_MESSAGE(del.status == 0, del.err);
  CHECK(count_entries(b.root()) == 0);
  CHECK(b.runtime({"state", b.id()}).status == 1);
}

TEST_CASE("LISTEN_FDS passes the activation sockets to the container as fd 3") {
  Bundle b;
  int passed[2], extra[2];
  REQUIRE(::pipe2(passed, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(extra, O_CLOEXEC) == 0);
  // fd 3 is announced by LISTEN_FDS=1; fd 4 is open in the runtime too but
  // is not announced, so it must not reach the container.
  b.sh("echo through fd 3 >&3; [ -e /proc/self/fd/4 ] && echo fd4-leaked; env | grep ^LISTEN_ | sort");
  b.write();
  auto l = launch(b, {"run", "--bundle", b.path(), b.id()}, {"LISTEN_FDS=1", "LISTEN_PID=<pid>"},
                  {passed[1], extra[1]});
  ::close(passed[1]);
  ::close(extra[1]);
  auto r = finish(l);
  auto data = berth::read_fd(passed[0]);
  std::string got = data ? *data : "";
  ::close(passed[0]);
  ::close(extra[0]);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(got == "through fd 3\n");
  CHECK_FALSE(contains(r.out, "fd4-leaked"));
  // As runc does, the init is told how many fds it got and that they are its own.
  CHECK(r.out == "LISTEN_FDS=1\nLISTEN_PID=1\n");
}

TEST_CASE("a foreground run forwards SIGTERM to the container init") {
  Bundle b;
  b.sh("trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.1; done");
  b.write();
  auto l = launch(b, {"run", "--bundle", b.path(), b.id()});
  bool ready = wait_for_text(l.out_path, "ready\n") && wait_signal_blocked(l.pid, SIGTERM);
  if (ready) ::kill(l.pid, SIGTERM);
  auto r = finish(l, ready ? 20 : 1);
  REQUIRE_MESSAGE(ready, r.err);
  // The trap ran in the container and its exit code became run's.
  CHECK(r.out == "ready\ngot TERM\n");
  CHECK_MESSAGE(r.status == 3, r.err);
  CHECK(count_entries(b.root()) == 0);
}
