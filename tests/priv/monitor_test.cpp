// berth-monitor driven as berthd drives it: spawned with a sync pipe, then
// judged by what it leaves in its directory (container.log, exit.json,
// monitor.lock, attach.sock) and in the runtime root and cgroupfs.
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "container_helpers.hpp"
#include "monitor/protocol.hpp"
#include "runtime/container.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {

std::string monitor_binary() {
  if (const char* p = std::getenv("BERTH_MONITOR"); p && *p) return p;
  // build/tests/priv-tests -> build/src/berth-monitor
  char self[PATH_MAX] = {};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
  dir = dir.substr(0, dir.rfind('/'));
  return dir + "/../src/berth-monitor";
}

// Forks and execs berth-monitor with the sync pipe's write end as fd 3.
pid_t spawn_monitor(const std::vector<std::string>& args, int sync_w) {
  std::vector<std::string> argv = {monitor_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--sync-fd");
  argv.push_back("3");
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    if (sync_w != 3) {
      ::dup2(sync_w, 3);
    } else {
      ::fcntl(3, F_SETFD, 0);
    }
    ::close_range(4, ~0U, 0);
    // A careless parent: the container must not inherit this.
    ::signal(SIGQUIT, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  return pid;
}

std::string read_sync(int fd, int timeout_ms = 30000) {
  std::string got;
  long deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// Waits for `pid` (our child); -1 on timeout.
int wait_exit(pid_t pid, int timeout_ms = 20000) {
  int status = 0;
  long deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -2;
    ::usleep(20000);
  }
  return -1;
}

// One monitored container: its bundle, the monitor's directory, the monitor
// process. The destructor kills whatever is still running.
struct Monitored {
  Bundle b{"mon1"};
  TempDir dir{"berth-monitor"};
  pid_t pid = -1;
  bool reaped = false;
  std::string sync;

  std::string file(const std::string& name) const { return dir.path() + "/" + name; }
  std::vector<std::string> base_args() const {
    return {"--root", b.root(), "--id", b.id(), "--bundle", b.path(), "--dir", dir.path()};
  }
  // Writes the config, starts the monitor and reads its sync line.
  void start(const std::vector<std::string>& extra = {}) {
    b.write();
    auto args = base_args();
    args.insert(args.end(), extra.begin(), extra.end());
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pid = spawn_monitor(args, p[1]);
    ::close(p[1]);
    sync = read_sync(p[0]);
    ::close(p[0]);
  }
  int wait() {
    int rc = wait_exit(pid);
    if (rc >= 0) reaped = true;
    return rc;
  }
  std::string log() const { return slurp(file(std::string(berth::monitor::kLogFile))); }
  berth::test::json exit_info() const { return json::parse(slurp(file(std::string(berth::monitor::kExitFile)))); }
  ~Monitored() {
    if (pid > 0 && !reaped) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    (void)berth::runtime::delete_container(b.root(), b.id(), true);
  }
};

// The "log" values of the entries of `stream`, concatenated.
std::string stream_text(const std::string& log, const std::string& stream) {
  std::string out;
  for (const auto& line : lines_of(log)) {
    auto j = json::parse(line);
    if (j["stream"] == stream) out += j["log"].get<std::string>();
  }
  return out;
}

bool lock_is_free(const std::string& path) {
  berth::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return false;
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
}

berth::UniqueFd connect_attach(const std::string& path) {
  berth::UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return berth::UniqueFd();
  return fd;
}

void send_msg(int fd, const std::string& msg) { REQUIRE(::send(fd, msg.data(), msg.size(), 0) == static_cast<ssize_t>(msg.size())); }

long vm_rss_kb(pid_t pid) {
  for (const auto& line : lines_of(slurp(berth::cat("/proc/", pid, "/status"))))
    if (berth::starts_with(line, "VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

const std::regex kNanoTime(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$)");

}  // namespace

TEST_CASE("monitor: stdout and stderr lines land in container.log, a partial last line too") {
  Monitored m;
  m.b.sh("echo out1; echo err1 >&2; echo out2; printf partial");
  m.start();
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  CHECK(berth::parse_int<pid_t>(trim_nl(m.sync.substr(3))).value_or(0) > 0);
  REQUIRE(m.wait() == 0);
  std::string log = m.log();
  INFO(log);
  CHECK(stream_text(log, "stdout") == "out1\nout2\npartial");
  CHECK(stream_text(log, "stderr") == "err1\n");
  for (const auto& line : lines_of(log)) {
    auto j = json::parse(line);
    CHECK(std::regex_match(j["time"].get<std::string>(), kNanoTime));
  }
  auto e = m.exit_info();
  CHECK(e["ExitCode"] == 0);
  CHECK(e["Signal"] == 0);
  CHECK(e["OOMKilled"] == false);
  CHECK(std::regex_match(e["FinishedAt"].get<std::string>(), kNanoTime));
  // The container is gone from the runtime root, the socket from DIR.
  CHECK(count_entries(m.b.root()) == 0);
  CHECK_FALSE(berth::path_exists(cgroup_dir(m.b)));
  CHECK_FALSE(berth::path_exists(m.file("attach.sock")));
}

TEST_CASE("monitor: exit 7 is ExitCode 7") {
  Monitored m;
  m.b.sh("exit 7");
  m.start();
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  REQUIRE(m.wait() == 0);
  auto e = m.exit_info();
  CHECK(e["ExitCode"] == 7);
  CHECK(e["Signal"] == 0);
}

TEST_CASE("monitor: a container killed by SIGKILL is ExitCode 137, Signal 9; the lock is held meanwhile") {
  Monitored m;
  m.b.sh("echo ready; exec sleep 1000");
  m.start();
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  REQUIRE(wait_for([&] { return contains(m.log(), "ready"); }));
  CHECK(trim_nl(slurp(m.file("monitor.pid"))) == berth::cat(m.pid));
  CHECK_FALSE(lock_is_free(m.file("monitor.lock")));
  CHECK(berth::path_exists(m.file("attach.sock")));
  long rss = vm_rss_kb(m.pid);
  MESSAGE("berth-monitor VmRSS while its container runs: ", rss, " kB");
  WARN(rss <= 1024);
  REQUIRE(berth::runtime::kill_container(m.b.root(), m.b.id(), SIGKILL, false).ok());
  REQUIRE(m.wait() == 0);
  auto e = m.exit_info();
  CHECK(e["ExitCode"] == 137);
  CHECK(e["Signal"] == 9);
  CHECK(lock_is_free(m.file("monitor.lock")));
  CHECK(count_entries(m.b.root()) == 0);
}

TEST_CASE("monitor: stdin from attach.sock reaches the container, 'c' gives it EOF") {
  Monitored m;
  m.b.sh("read line; echo got:$line; cat; echo eof");
  m.start({"--stdin"});
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  auto c = connect_attach(m.file("attach.sock"));
  REQUIRE(c);
  send_msg(c.get(), "ihello\n");
  CHECK(wait_for([&] { return contains(m.log(), "got:hello"); }));
  send_msg(c.get(), "imore\n");
  send_msg(c.get(), "c");
  REQUIRE(m.wait() == 0);
  CHECK(stream_text(m.log(), "stdout") == "got:hello\nmore\neof\n");
}

TEST_CASE("monitor: with --stdin-once, stdin closes when the client that wrote it leaves") {
  Monitored m;
  m.b.sh("cat; echo eof");
  m.start({"--stdin", "--stdin-once"});
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  {
    auto watcher = connect_attach(m.file("attach.sock"));
    auto c = connect_attach(m.file("attach.sock"));
    REQUIRE(c);
    send_msg(c.get(), "ionce\n");
  }
  REQUIRE(m.wait() == 0);
  CHECK(stream_text(m.log(), "stdout") == "once\neof\n");
}

TEST_CASE("monitor: --tty gives the container a terminal that resize messages change") {
  Monitored m;
  m.b.config["process"]["terminal"] = true;
  m.b.sh("test -t 1 && echo istty; read x; stty size; echo done");
  m.start({"--tty", "--stdin"});
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  REQUIRE(wait_for([&] { return contains(m.log(), "istty"); }));
  auto c = connect_attach(m.file("attach.sock"));
  REQUIRE(c);
  send_msg(c.get(), "r40 100");
  send_msg(c.get(), "igo\n");
  REQUIRE(m.wait() == 0);
  std::string log = m.log();
  INFO(log);
  std::string out = stream_text(log, "stdout");
  CHECK(contains(out, "istty"));
  CHECK(contains(out, "40 100"));
  CHECK(contains(out, "done"));
  CHECK(stream_text(log, "stderr").empty());
}

TEST_CASE("monitor: a small --log-max-size rotates and keeps at most --log-max-files files") {
  Monitored m;
  m.b.sh("i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done");
  m.start({"--log-max-size", "2000", "--log-max-files", "3"});
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  REQUIRE(m.wait() == 0);
  int logs = 0;
  for (const char* name : {"container.log", "container.log.1", "container.log.2"}) {
    std::string text = slurp(m.file(name));
    CHECK(text.size() <= 2000);
    CHECK(!text.empty());
    if (!text.empty()) ++logs;
  }
  CHECK(logs == 3);
  CHECK_FALSE(berth::path_exists(m.file("container.log.3")));
  // The newest file ends with the last line.
  CHECK(contains(m.log(), "line-299"));
  CHECK(contains(slurp(m.file("container.log.1")), "line-"));
}

TEST_CASE("monitor: a missing executable is an error line, exit 1 and nothing left behind") {
  Monitored m;
  m.b.args({"nosuchcmd"});
  m.start();
  CHECK(berth::starts_with(m.sync, "error "));
  CHECK(contains(m.sync, "nosuchcmd"));
  CHECK(m.wait() == 1);
  CHECK(count_entries(m.b.root()) == 0);
  CHECK_FALSE(berth::path_exists(cgroup_dir(m.b)));
  CHECK_FALSE(berth::path_exists(m.file("attach.sock")));
  CHECK_FALSE(berth::path_exists(m.file("exit.json")));
  CHECK(lock_is_free(m.file("monitor.lock")));
}

TEST_CASE("monitor: the monitor and its container outlive the process that spawned it, and SIGTERM or SIGHUP") {
  Monitored m;
  m.b.sh("echo ready; exec sleep 1000");
  m.b.write();
  // Orphans come back to this process, so the monitor can still be reaped.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  int p[2], pidpipe[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(pidpipe, O_CLOEXEC) == 0);
  pid_t spawner = ::fork();
  if (spawner == 0) {
    pid_t mon = spawn_monitor(m.base_args(), p[1]);
    (void)!::write(pidpipe[1], &mon, sizeof mon);
    for (;;) ::pause();
  }
  ::close(p[1]);
  ::close(pidpipe[1]);
  REQUIRE(::read(pidpipe[0], &m.pid, sizeof m.pid) == sizeof m.pid);
  ::close(pidpipe[0]);
  m.sync = read_sync(p[0]);
  ::close(p[0]);
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  REQUIRE(wait_for([&] { return contains(m.log(), "ready"); }));
  ::kill(spawner, SIGKILL);
  ::waitpid(spawner, nullptr, 0);
  ::usleep(300000);
  // Nor do the signals of a session or a daemon's shutdown end it.
  for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGPIPE}) ::kill(m.pid, sig);
  ::usleep(200000);
  CHECK(::kill(m.pid, 0) == 0);
  CHECK(::waitpid(m.pid, nullptr, WNOHANG) == 0);
  CHECK(berth::runtime::kill_container(m.b.root(), m.b.id(), 0, false).ok());
  REQUIRE(berth::runtime::kill_container(m.b.root(), m.b.id(), SIGKILL, false).ok());
  CHECK(m.wait() == 0);
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  CHECK(m.exit_info()["ExitCode"] == 137);
}

TEST_CASE("monitor: the container sees only fds 0, 1 and 2") {
  Monitored m;
  m.b.sh("ls /proc/$$/fd; true");
  m.start({"--stdin"});
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  auto c = connect_attach(m.file("attach.sock"));
  REQUIRE(m.wait() == 0);
  CHECK(words(stream_text(m.log(), "stdout")) == std::vector<std::string>{"0", "1", "2"});
}

TEST_CASE("monitor: the container starts with default signal dispositions and no blocked signal") {
  Monitored m;
  m.b.args({"cat", "/proc/self/status"});
  m.start();
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  REQUIRE(m.wait() == 0);
  std::string out = stream_text(m.log(), "stdout");
  INFO(out);
  CHECK(contains(out, "SigBlk:\t0000000000000000"));
  CHECK(contains(out, "SigIgn:\t0000000000000000"));
}

TEST_CASE("monitor: megabytes of stdin reach a container that reads slowly") {
  Monitored m;
  m.b.sh("sleep 1; wc -c");
  m.start({"--stdin"});
  REQUIRE_MESSAGE(berth::starts_with(m.sync, "ok "), m.sync);
  auto c = connect_attach(m.file("attach.sock"));
  REQUIRE(c);
  std::string msg(berth::monitor::kMaxMessage, 'x');
  msg[0] = berth::monitor::kMsgStdin;
  size_t sent = 0;
  for (int i = 0; i < 64; ++i) {
    send_msg(c.get(), msg);
    sent += msg.size() - 1;
  }
  send_msg(c.get(), "c");
  REQUIRE(m.wait() == 0);
  CHECK(trim_nl(stream_text(m.log(), "stdout")) == berth::cat(sent));
}
