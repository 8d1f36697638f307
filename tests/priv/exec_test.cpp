// `exec` into real containers: namespaces, cgroup, exit status, detach and
// pid file, the process attributes (env, cwd, user, capabilities, rlimits),
// --process files, terminals, preserved and leaked fds, the refusals, user
// namespaces, --pidfd-socket (on create as well) and the runtime staying
// non-dumpable while it sets an exec up. Every check is made from inside the
// container or on the processes the test started.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "common/unix_socket.hpp"
#include "container_helpers.hpp"
#include "test_support.hpp"

using namespace berth::test;
using berth::cat;

namespace {

std::string strip_cr(std::string s) {
  std::erase(s, '\r');
  return s;
}

// "key=value" lines of a process's output.
std::map<std::string, std::string> key_values(const std::string& out) {
  std::map<std::string, std::string> kv;
  for (const auto& line : lines_of(out)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

std::string host_readlink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

// The "0::" line of a /proc/<pid>/cgroup (the cgroup v2 path).
std::string unified_cgroup_line(const std::string& text) {
  for (const auto& line : lines_of(text))
    if (line.rfind("0::", 0) == 0) return line;
  return "";
}

// Waits (up to timeout_ms) for pred() to be true.
// Removes the container at the end of a test, whatever happened.
// `run -d` of the bundle; returns the init's host pid.
RunResult exec(const Bundle& b, const std::vector<std::string>& args, const std::string& input = "",
               const std::vector<int>& extra_fds = {}) {
  std::vector<std::string> argv = {"exec"};
  argv.insert(argv.end(), args.begin(), args.end());
  return b.runtime(argv, input, extra_fds);
}

// exec ID args... (the id first, then the command).
RunResult exec_in(const Bundle& b, const std::vector<std::string>& command) {
  std::vector<std::string> argv = {b.id()};
  argv.insert(argv.end(), command.begin(), command.end());
  return exec(b, argv);
}

// A status line of /proc/<pid>/status style text ("CapEff:\t0000...").
std::string status_field(const std::string& text, const std::string& key) {
  for (const auto& line : lines_of(text))
    if (line.rfind(key + ":", 0) == 0) return std::string(berth::trim(line.substr(key.size() + 1)));
  return "";
}

uint64_t hex_value(const std::string& s) { return s.empty() ? 0 : std::stoull(s, nullptr, 16); }

constexpr uint64_t kCapNetAdmin = 1ULL << 12;

// One message from a unix socket, with every fd it carries (up to 8).
struct Received {
  std::string data;
  std::vector<berth::UniqueFd> fds;
  bool ok = false;
};

Received recv_all_fds(int sock, int timeout_ms = 10000) {
  Received r;
  pollfd p{sock, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return r;
  char data[4096];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(8 * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return r;
  r.data.assign(data, static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      r.fds.emplace_back(fd);
    }
  }
  r.ok = true;
  return r;
}

berth::UniqueFd accept_one(int listener, int timeout_ms = 10000) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return berth::UniqueFd();
  return berth::UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

// True when `sock` reaches end of file within timeout_ms (the peer closed
// every copy of its end).
bool eof_within(int sock, int timeout_ms) {
  long deadline = now_ms() + timeout_ms;
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char byte;
    ssize_t n = ::recv(sock, &byte, 1, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN) return true;
  }
}

// Reads a pty master until `until` appears or the slave side is closed.
std::string read_pty(int master, const std::string& until = "", int timeout_ms = 10000) {
  std::string got;
  long deadline = now_ms() + timeout_ms;
  for (;;) {
    if (!until.empty() && contains(strip_cr(got), until)) break;
    long left = deadline - now_ms();
    if (left <= 0) break;
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return strip_cr(got);
}

// The "Pid:" line of /proc/self/fdinfo/<fd> of a pidfd.
std::string pidfd_pid(int fd) { return status_field(slurp("/proc/self/fdinfo/" + std::to_string(fd)), "Pid"); }

int pidfd_send_signal(int fd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0)); }

bool is_pidfd(int fd) { return host_readlink("/proc/self/fd/" + std::to_string(fd)) == "anon_inode:[pidfd]"; }

}  // namespace

TEST_CASE("exec joins every namespace and the cgroup of the container's init") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);

  for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}) {
    CAPTURE(ns);
    auto r = exec_in(b, {"readlink", std::string("/proc/self/ns/") + ns});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    std::string of_init = host_readlink(cat("/proc/", init, "/ns/", ns));
    REQUIRE(!of_init.empty());
    CHECK(trim_nl(r.out) == of_init);
  }
  // The namespaces the container has of its own really differ from the
  // host's, so the comparison above is not trivially true.
  for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "uts"}) {
    CAPTURE(ns);
    CHECK(host_readlink(cat("/proc/", init, "/ns/", ns)) != host_namespace(ns));
  }

  // Inside the container's cgroup namespace, its own cgroup is the root.
  auto cg = exec_in(b, {"cat", "/proc/self/cgroup"});
  REQUIRE_MESSAGE(cg.status == 0, cg.err);
  CHECK(unified_cgroup_line(cg.out) == "0::/");

  // Visible in the container's pid namespace, next to the init (pid 1).
  auto ps = exec_in(b, {"sh", "-c", "echo self=$$; ps -o pid,args"});
  REQUIRE_MESSAGE(ps.status == 0, ps.err);
  INFO("ps output: ", ps.out);
  auto self = key_values(ps.out)["self"];
  REQUIRE(!self.empty());
  CHECK(self != "1");
  bool saw_init = false, saw_self = false;
  for (const auto& line : lines_of(ps.out)) {
    auto w = words(line);
    if (w.size() >= 2 && w[0] == "1" && w[1] == "sleep") saw_init = true;
    // (busybox runs the last command of `sh -c` in the shell's process)
    if (w.size() >= 2 && w[0] == self) saw_self = true;
  }
  CHECK(saw_init);
  CHECK(saw_self);
}

TEST_CASE("exec returns the exit status of the process; death by signal is 128+N") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  CHECK(exec_in(b, {"true"}).status == 0);
  CHECK(exec_in(b, {"sh", "-c", "exit 3"}).status == 3);
  CHECK(exec_in(b, {"sh", "-c", "exit 255"}).status == 255);
  // Not pid 1 of the namespace, so the signals are not ignored.
  CHECK(exec_in(b, {"sh", "-c", "kill -KILL $$"}).status == 128 + SIGKILL);
  CHECK(exec_in(b, {"sh", "-c", "kill -TERM $$"}).status == 128 + SIGTERM);
  // Output and status of one process together.
  auto r = exec_in(b, {"sh", "-c", "echo out; echo err >&2; exit 7"});
  CHECK(r.status == 7);
  CHECK(r.out == "out\n");
  CHECK(contains(r.err, "err\n"));
  // The container is not affected by its exec'd processes.
  CHECK(status_of(b) == "running");
}

TEST_CASE("exec --detach returns at once, writes the pid file and leaves the process running") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  std::string pid_file = b.path() + "/exec.pid";
  long t0 = now_ms();
  auto r = exec(b, {"--detach", "--pid-file", pid_file, b.id(), "sleep", "1000"});
  long took = now_ms() - t0;
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(took < 10000);
  auto pid = berth::parse_int<pid_t>(trim_nl(slurp(pid_file)));
  REQUIRE(pid);
  CHECK(*pid != init);
  // A live process, the one asked for, in the container's cgroup.
  CHECK(::kill(*pid, 0) == 0);
  CHECK(trim_nl(slurp(cat("/proc/", *pid, "/comm"))) == "sleep");
  CHECK(unified_cgroup_line(slurp(cat("/proc/", *pid, "/cgroup"))) ==
        "0::" + b.config["linux"]["cgroupsPath"].get<std::string>());
  CHECK(cgroup_procs(b).count(*pid) == 1);
  // and in the container's pid namespace
  CHECK(host_readlink(cat("/proc/", *pid, "/ns/pid")) == host_readlink(cat("/proc/", init, "/ns/pid")));
  ::usleep(300000);
  CHECK(::kill(*pid, 0) == 0);
  CHECK(trim_nl(slurp(cat("/proc/", *pid, "/comm"))) == "sleep");

  // -d (short form) as well
  std::string pid_file2 = b.path() + "/exec2.pid";
  auto r2 = exec(b, {"-d", "--pid-file", pid_file2, b.id(), "sleep", "1000"});
  REQUIRE_MESSAGE(r2.status == 0, r2.err);
  auto pid2 = berth::parse_int<pid_t>(trim_nl(slurp(pid_file2)));
  REQUIRE(pid2);
  CHECK(cgroup_procs(b).count(*pid2) == 1);

  auto del = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(del.status == 0, del.err);
  // delete --force took the exec'd processes with the container.
  CHECK(wait_for([&] { return ::kill(*pid, 0) != 0 || contains(slurp(cat("/proc/", *pid, "/stat")), ") Z "); }));
}

TEST_CASE("exec takes env, cwd and user from the container's process by default") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.config["process"]["env"].push_back("FOO=from-config");
  b.config["process"]["cwd"] = "/home/tester";
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {5}}};
  ForceDelete cleanup{b};
  start_detached(b);
  auto r = exec_in(b, {"sh", "-c", "echo foo=$FOO; echo term=$TERM; echo pwd=$(pwd); echo uid=$(id -u); "
                                   "echo gid=$(id -g); echo groups=$(id -G)"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["foo"] == "from-config");
  CHECK(kv["term"] == "xterm");
  CHECK(kv["pwd"] == "/home/tester");
  CHECK(kv["uid"] == "1000");
  CHECK(kv["gid"] == "1000");
  auto groups = words(kv["groups"]);
  CHECK(std::find(groups.begin(), groups.end(), "5") != groups.end());
  CHECK(std::find(groups.begin(), groups.end(), "0") == groups.end());
}

TEST_CASE("exec -e adds variables and replaces existing ones; a later value wins") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.config["process"]["env"].push_back("FOO=from-config");
  b.config["process"]["env"].push_back("FOOBAR=untouched");
  ForceDelete cleanup{b};
  start_detached(b);
  auto r = exec(b, {"-e", "FOO=from-cli", "-e", "NEW=1", "--env", "TWICE=first", "-e", "TWICE=second", b.id(), "env"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  INFO("env: ", r.out);
  auto env = lines_of(r.out);
  auto count = [&](const std::string& prefix) {
    return std::count_if(env.begin(), env.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  auto has = [&](const std::string& line) { return std::find(env.begin(), env.end(), line) != env.end(); };
  CHECK(has("FOO=from-cli"));
  CHECK(count("FOO=") == 1);
  CHECK(has("NEW=1"));
  CHECK(has("TWICE=second"));
  CHECK(count("TWICE=") == 1);
  // A variable whose name only starts with the same letters is left alone.
  CHECK(has("FOOBAR=untouched"));
  // The container's other variables are still there.
  CHECK(has("TERM=xterm"));
  CHECK(count("PATH=") == 1);
}

TEST_CASE("exec --cwd, --user and --additional-gids override the container's process") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  // The container's defaults first: root, in /.
  auto def = exec_in(b, {"sh", "-c", "echo pwd=$(pwd); echo uid=$(id -u); echo gid=$(id -g)"});
  REQUIRE_MESSAGE(def.status == 0, def.err);
  CHECK(key_values(def.out)["pwd"] == "/");
  CHECK(key_values(def.out)["uid"] == "0");

  auto r = exec(b, {"--cwd", "/tmp", "--user", "1000:1000", "-g", "5", "--additional-gids", "1234", b.id(), "sh", "-c",
                    "echo pwd=$(pwd); echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G); "
                    "grep -E '^(Uid|Gid|Groups):' /proc/self/status"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  INFO("output: ", r.out);
  auto kv = key_values(r.out);
  CHECK(kv["pwd"] == "/tmp");
  CHECK(kv["uid"] == "1000");
  CHECK(kv["gid"] == "1000");
  // The kernel's view: real, effective, saved and fs ids all changed.
  CHECK(words(status_field(r.out, "Uid")) == std::vector<std::string>{"1000", "1000", "1000", "1000"});
  CHECK(words(status_field(r.out, "Gid")) == std::vector<std::string>{"1000", "1000", "1000", "1000"});
  auto groups = words(status_field(r.out, "Groups"));
  std::sort(groups.begin(), groups.end());
  CHECK(groups == std::vector<std::string>{"1234", "5"});

  // --user with a uid only keeps the container's gid.
  auto uid_only = exec(b, {"--user", "1000", b.id(), "sh", "-c", "echo uid=$(id -u); echo gid=$(id -g)"});
  REQUIRE_MESSAGE(uid_only.status == 0, uid_only.err);
  CHECK(key_values(uid_only.out)["uid"] == "1000");
  CHECK(key_values(uid_only.out)["gid"] == "0");
}

TEST_CASE("exec --cap adds a capability; --no-new-privs sets no_new_privs") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.config["process"]["noNewPrivileges"] = false;
  ForceDelete cleanup{b};
  start_detached(b);
  auto plain = exec_in(b, {"cat", "/proc/self/status"});
  REQUIRE_MESSAGE(plain.status == 0, plain.err);
  CHECK((hex_value(status_field(plain.out, "CapEff")) & kCapNetAdmin) == 0);
  CHECK(status_field(plain.out, "NoNewPrivs") == "0");

  auto with_cap = exec(b, {"--cap", "CAP_NET_ADMIN", b.id(), "cat", "/proc/self/status"});
  REQUIRE_MESSAGE(with_cap.status == 0, with_cap.err);
  INFO("status: ", with_cap.out);
  CHECK((hex_value(status_field(with_cap.out, "CapEff")) & kCapNetAdmin) != 0);
  CHECK((hex_value(status_field(with_cap.out, "CapBnd")) & kCapNetAdmin) != 0);
  // The container's own capabilities are kept next to it.
  CHECK(hex_value(status_field(with_cap.out, "CapEff")) ==
        (hex_value(status_field(plain.out, "CapEff")) | kCapNetAdmin));
  // and it is usable: CAP_NET_ADMIN lets root bring an interface up.
  auto use = exec(b, {"--cap", "CAP_NET_ADMIN", b.id(), "ip", "link", "set", "lo", "up"});
  CHECK_MESSAGE(use.status == 0, use.err);
  auto without = exec_in(b, {"ip", "link", "set", "lo", "down"});
  CHECK(without.status != 0);

  auto nnp = exec(b, {"--no-new-privs", b.id(), "cat", "/proc/self/status"});
  REQUIRE_MESSAGE(nnp.status == 0, nnp.err);
  CHECK(status_field(nnp.out, "NoNewPrivs") == "1");

  auto bad = exec(b, {"--cap", "CAP_NOT_A_CAP", b.id(), "true"});
  CHECK(bad.status == 1);
  CHECK_MESSAGE(contains(bad.err, "CAP_NOT_A_CAP"), bad.err);
}

TEST_CASE("the container's rlimits apply to exec'd processes") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 777}, {"hard", 888}},
                                    {{"type", "RLIMIT_CORE"}, {"soft", 12345}, {"hard", 54321}}};
  ForceDelete cleanup{b};
  start_detached(b);
  auto r = exec_in(b, {"cat", "/proc/self/limits"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  INFO("limits: ", r.out);
  bool nofile = false, core = false;
  for (const auto& line : lines_of(r.out)) {
    auto w = words(line);
    if (line.rfind("Max open files", 0) == 0) nofile = w.size() >= 5 && w[3] == "777" && w[4] == "888";
    if (line.rfind("Max core file size", 0) == 0) core = w.size() >= 6 && w[4] == "12345" && w[5] == "54321";
  }
  CHECK(nofile);
  CHECK(core);
}

TEST_CASE("exec --process runs exactly the given process, without the container's defaults") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.config["process"]["env"].push_back("FOO=from-config");
  b.config["process"]["cwd"] = "/home";
  b.config["process"]["noNewPrivileges"] = true;
  ForceDelete cleanup{b};
  start_detached(b);

  json caps = {"CAP_NET_ADMIN"};
  json proc = {
      {"terminal", false},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh", "-c", "env; echo pwd=$(pwd); grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status"}},
      {"env", {"ONLY=1", "PATH=/bin"}},
      {"cwd", "/tmp"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
  };
  std::string file = b.path() + "/process.json";
  REQUIRE(berth::write_file(file, proc.dump(), true));
  auto r = exec(b, {"--process", file, b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  INFO("output: ", r.out);
  auto env = lines_of(r.out);
  auto has = [&](const std::string& line) { return std::find(env.begin(), env.end(), line) != env.end(); };
  CHECK(has("ONLY=1"));
  CHECK(has("PATH=/bin"));
  CHECK_FALSE(contains(r.out, "FOO=from-config"));
  CHECK_FALSE(contains(r.out, "TERM=xterm"));
  CHECK(key_values(r.out)["pwd"] == "/tmp");
  CHECK(hex_value(status_field(r.out, "CapEff")) == kCapNetAdmin);
  CHECK(hex_value(status_field(r.out, "CapBnd")) == kCapNetAdmin);
  // noNewPrivileges is not set in the file, so it is off, whatever the container has.
  CHECK(status_field(r.out, "NoNewPrivs") == "0");

  // "-": the process on stdin; a user that is not root.
  json proc2 = {{"args", {"sh", "-c", "echo uid=$(id -u); echo gid=$(id -g); echo pwd=$(pwd); exit 6"}},
                {"cwd", "/home/tester"},
                {"user", {{"uid", 1000}, {"gid", 1000}}},
                {"env", {"PATH=/bin"}}};
  auto r2 = exec(b, {"--process", "-", b.id()}, proc2.dump());
  CHECK_MESSAGE(r2.status == 6, r2.err);
  auto kv = key_values(r2.out);
  CHECK(kv["uid"] == "1000");
  CHECK(kv["gid"] == "1000");
  CHECK(kv["pwd"] == "/home/tester");

  // -p (short form) with the other flags callers add.
  std::string pid_file = b.path() + "/p.pid";
  auto r3 = exec(b, {"-p", file, "--pid-file", pid_file, b.id()});
  CHECK_MESSAGE(r3.status == 0, r3.err);
  CHECK(berth::parse_int<pid_t>(trim_nl(slurp(pid_file))).has_value());
}

TEST_CASE("exec --process with a malformed process names the field") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  std::string file = b.path() + "/bad.json";

  REQUIRE(berth::write_file(file, R"({"args": "sh", "cwd": "/", "user": {"uid": 0, "gid": 0}})", true));
  auto r = exec(b, {"--process", file, b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "process.args: "), r.err);

  REQUIRE(berth::write_file(file, R"({"args": ["true"], "cwd": "/", "user": {"uid": "root", "gid": 0}})", true));
  r = exec(b, {"--process", file, b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "process.user.uid"), r.err);

  r = exec(b, {"--process", "-", b.id()}, "{not json");
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "process"), r.err);

  r = exec(b, {"--process", b.path() + "/missing.json", b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "missing.json"), r.err);

  // --process and a command together are refused.
  REQUIRE(berth::write_file(file, R"({"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}})", true));
  r = exec(b, {"--process", file, b.id(), "true"});
  CHECK(r.status == 1);
  CHECK(r.err != "");

  // Nothing was started by any of them.
  CHECK(cgroup_procs(b) == std::set<pid_t>{init});
}

TEST_CASE("exec --tty --console-socket sends exactly one fd, the pty master") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  std::string sock = b.path() + "/console.sock";
  auto l = berth::listen_unix(sock);
  REQUIRE(l.ok());
  // containerd's shape: always detached; the process lingers so that a
  // leaked copy of the socket would keep it open.
  auto r = exec(b, {"--tty", "--console-socket", sock, "--detach", b.id(), "sh", "-c",
                    "tty; test -t 0 && test -t 1 && test -t 2 && echo isatty; ls -l /proc/$$/fd; echo done-tty; "
                    "sleep 5"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto conn = accept_one(l->get());
  REQUIRE(conn);
  auto msg = recv_all_fds(conn.get());
  REQUIRE(msg.ok);
  REQUIRE(msg.fds.size() == 1);
  int master = msg.fds[0].get();
  CHECK(::isatty(master));
  std::string link = host_readlink(cat("/proc/self/fd/", master));
  CHECK((link == "/dev/ptmx" || link == "/dev/pts/ptmx"));
  std::string out = read_pty(master, "done-tty\n");
  INFO("pty output: ", out);
  auto lines = lines_of(out);
  REQUIRE(!lines.empty());
  CHECK(lines[0].rfind("/dev/pts/", 0) == 0);
  CHECK(berth::parse_int<int>(lines[0].substr(9)).has_value());
  CHECK(contains(out, "isatty\n"));
  // The process holds no socket (the console socket is not passed on).
  CHECK_FALSE(contains(out, "socket:"));
  // One message, then the socket is closed while the process still runs.
  CHECK(eof_within(conn.get(), 3000));
}

TEST_CASE("exec -t in the foreground relays the pty to stdout") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  auto r = exec(b, {"-t", b.id(), "sh", "-c", "tty; test -t 1 && echo isatty; exit 4"});
  CHECK_MESSAGE(r.status == 4, r.err);
  auto lines = lines_of(strip_cr(r.out));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].rfind("/dev/pts/", 0) == 0);
  CHECK(lines[1] == "isatty");
  // Without -t the process has no terminal.
  auto plain = exec_in(b, {"sh", "-c", "tty; exit 0"});
  CHECK(contains(plain.out, "not a tty"));
}

TEST_CASE("exec --tty --detach without a console socket is refused") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  auto r = exec(b, {"--tty", "--detach", b.id(), "true"});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "cannot allocate tty if berth-runtime will detach without setting console socket"), r.err);
  CHECK(cgroup_procs(b) == std::set<pid_t>{init});
}

TEST_CASE("exec --preserve-fds 1 passes fd 3; fds leaked by the caller do not reach the process") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  TempDir dir;
  std::string target = dir / "fd3-target";
  berth::UniqueFd fd3(::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  std::string leaked = dir / "leaked-marker";
  REQUIRE(berth::write_file(leaked, "x", true));
  berth::UniqueFd fd4(::open(leaked.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd3);
  REQUIRE(fd4);

  // fd 3 and fd 4 open in the runtime, only fd 3 preserved.
  auto r = exec(b, {"--preserve-fds", "1", b.id(), "sh", "-c", "echo via-fd-3 >&3; ls -l /proc/$$/fd"}, "",
                {fd3.get(), fd4.get()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  INFO("fds: ", r.out);
  CHECK(slurp(target) == "via-fd-3\n");
  CHECK(contains(r.out, "fd3-target"));
  CHECK_FALSE(contains(r.out, "leaked-marker"));

  // Without --preserve-fds neither reaches it.
  auto none = exec(b, {b.id(), "sh", "-c", "ls -l /proc/$$/fd; echo nope >&3"}, "", {fd3.get(), fd4.get()});
  INFO("fds: ", none.out);
  CHECK(none.status != 0);
  CHECK_FALSE(contains(none.out, "fd3-target"));
  CHECK_FALSE(contains(none.out, "leaked-marker"));
  CHECK(slurp(target) == "via-fd-3\n");
  // Only stdio (and what the shell opens for itself) is left: no fd 3 or 4.
  for (const auto& line : lines_of(none.out)) {
    auto w = words(line);
    auto arrow = std::find(w.begin(), w.end(), "->");
    if (arrow == w.end() || arrow == w.begin()) continue;
    CHECK(*(arrow - 1) != "3");
    CHECK(*(arrow - 1) != "4");
  }

  // A preserved fd that is not open is refused.
  auto missing = exec(b, {"--preserve-fds", "3", b.id(), "true"});
  CHECK(missing.status == 1);
  CHECK_MESSAGE(contains(missing.err, "--preserve-fds"), missing.err);
}

TEST_CASE("exec into a stopped container fails") {
  Bundle b;
  b.args({"true"});
  ForceDelete cleanup{b};
  start_detached(b);
  REQUIRE(wait_for([&] { return status_of(b) == "stopped"; }));
  auto r = exec_in(b, {"true"});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "cannot exec in a stopped state"), r.err);
}

TEST_CASE("exec into a created (not yet started) container runs in its namespaces") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.write();
  ForceDelete cleanup{b};
  auto c = b.runtime({"create", "--bundle", b.path(), "--pid-file", b.path() + "/init.pid", b.id()});
  REQUIRE_MESSAGE(c.status == 0, c.err);
  pid_t init = *berth::parse_int<pid_t>(trim_nl(slurp(b.path() + "/init.pid")));
  auto r = exec_in(b, {"readlink", "/proc/self/ns/mnt"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(trim_nl(r.out) == host_readlink(cat("/proc/", init, "/ns/mnt")));
  CHECK(status_of(b) == "created");
}

TEST_CASE("exec into a paused container fails") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  auto p = b.runtime({"pause", b.id()});
  REQUIRE_MESSAGE(p.status == 0, p.err);
  auto r = exec_in(b, {"true"});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "cannot exec in a paused state"), r.err);
  CHECK(cgroup_procs(b) == std::set<pid_t>{init});
  auto res = b.runtime({"resume", b.id()});
  CHECK_MESSAGE(res.status == 0, res.err);
  CHECK(exec_in(b, {"true"}).status == 0);
}

TEST_CASE("exec into a container that does not exist fails") {
  Bundle b;
  auto r = b.runtime({"exec", "no-such-container", "true"});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "does not exist"), r.err);
  CHECK(count_entries(b.root()) == 0);
}

TEST_CASE("exec of a command that does not exist fails with exit 1 and leaves nothing running") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  auto r = exec_in(b, {"nope"});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "exec: \"nope\": executable file not found in $PATH"), r.err);
  CHECK(wait_for([&] { return cgroup_procs(b) == std::set<pid_t>{init}; }, 5000));
  // With a --pid-file (conmon's shape) no pid file is left to mislead.
  std::string pid_file = b.path() + "/nope.pid";
  auto d = exec(b, {"--detach", "--pid-file", pid_file, b.id(), "/bin/nope"});
  CHECK(d.status == 1);
  CHECK_MESSAGE(contains(d.err, "/bin/nope"), d.err);
  CHECK_FALSE(berth::path_exists(pid_file));
  CHECK(wait_for([&] { return cgroup_procs(b) == std::set<pid_t>{init}; }, 5000));
  CHECK(status_of(b) == "running");
}

TEST_CASE("exec into a container with a user namespace runs as its root") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  REQUIRE(::chmod(b.path().c_str(), 0711) == 0);
  REQUIRE(::chown(b.rootfs().c_str(), 100000, 100000) == 0);
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  auto r = exec_in(b, {"sh", "-c", "echo uid_map=$(cat /proc/self/uid_map); echo gid_map=$(cat /proc/self/gid_map); "
                                   "echo user=$(readlink /proc/self/ns/user); echo id=$(id -u):$(id -g); "
                                   "touch /exec-created && echo created=yes"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(words(kv["uid_map"]) == std::vector<std::string>{"0", "100000", "65536"});
  CHECK(words(kv["gid_map"]) == std::vector<std::string>{"0", "100000", "65536"});
  CHECK(kv["user"] == host_readlink(cat("/proc/", init, "/ns/user")));
  CHECK(kv["user"] != host_namespace("user"));
  CHECK(kv["id"] == "0:0");
  CHECK(kv["created"] == "yes");
  struct stat st{};
  REQUIRE(::stat((b.rootfs() + "/exec-created").c_str(), &st) == 0);
  CHECK(st.st_uid == 100000);
  CHECK(st.st_gid == 100000);

  // --user maps through the same namespace.
  auto u = exec(b, {"--user", "1000:1000", b.id(), "sh", "-c", "touch /tmp/by-1000 && id -u"});
  REQUIRE_MESSAGE(u.status == 0, u.err);
  CHECK(trim_nl(u.out) == "1000");
  REQUIRE(::stat((b.rootfs() + "/tmp/by-1000").c_str(), &st) == 0);
  CHECK(st.st_uid == 101000);
}

TEST_CASE("create --pidfd-socket sends a pidfd of the init") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.write();
  ForceDelete cleanup{b};
  std::string sock = b.path() + "/pidfd.sock";
  auto l = berth::listen_unix(sock);
  REQUIRE(l.ok());
  std::string pid_file = b.path() + "/init.pid";
  auto r = b.runtime({"create", "--bundle", b.path(), "--pid-file", pid_file, "--pidfd-socket", sock, b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto conn = accept_one(l->get());
  REQUIRE(conn);
  auto msg = recv_all_fds(conn.get());
  REQUIRE(msg.ok);
  REQUIRE(msg.fds.size() == 1);
  int fd = msg.fds[0].get();
  CHECK(is_pidfd(fd));
  CHECK(pidfd_pid(fd) == trim_nl(slurp(pid_file)));
  CHECK(pidfd_send_signal(fd, 0) == 0);
  // Nothing more is sent.
  CHECK(eof_within(conn.get(), 3000));

  REQUIRE(b.runtime({"start", b.id()}).status == 0);
  // The pidfd follows the init to its end: SIGKILL through it, then it
  // polls readable.
  CHECK(pidfd_send_signal(fd, SIGKILL) == 0);
  pollfd p{fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 10000) == 1);
  CHECK(wait_for([&] { return status_of(b) == "stopped"; }));
}

TEST_CASE("exec --pidfd-socket sends a pidfd of the exec'd process") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  std::string sock = b.path() + "/pidfd.sock";
  auto l = berth::listen_unix(sock);
  REQUIRE(l.ok());
  std::string pid_file = b.path() + "/exec.pid";
  auto r = exec(b, {"--pidfd-socket", sock, "--detach", "--pid-file", pid_file, b.id(), "sleep", "1000"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto conn = accept_one(l->get());
  REQUIRE(conn);
  auto msg = recv_all_fds(conn.get());
  REQUIRE(msg.ok);
  REQUIRE(msg.fds.size() == 1);
  int fd = msg.fds[0].get();
  CHECK(is_pidfd(fd));
  std::string pid = trim_nl(slurp(pid_file));
  CHECK(pidfd_pid(fd) == pid);
  CHECK(pid != std::to_string(init));
  CHECK(pidfd_send_signal(fd, 0) == 0);
  CHECK(eof_within(conn.get(), 3000));
  // Killing through the pidfd ends the exec'd process, not the container.
  CHECK(pidfd_send_signal(fd, SIGKILL) == 0);
  pollfd p{fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 10000) == 1);
  CHECK(status_of(b) == "running");

  // In the foreground too: the pidfd arrives while the process runs.
  std::string sock2 = b.path() + "/pidfd2.sock";
  auto l2 = berth::listen_unix(sock2);
  REQUIRE(l2.ok());
  auto fg = exec(b, {"--pidfd-socket", sock2, b.id(), "sh", "-c", "exit 2"});
  CHECK_MESSAGE(fg.status == 2, fg.err);
  auto conn2 = accept_one(l2->get());
  REQUIRE(conn2);
  auto msg2 = recv_all_fds(conn2.get());
  REQUIRE(msg2.ok);
  CHECK(msg2.fds.size() == 1);
  if (msg2.fds.size() == 1) CHECK(is_pidfd(msg2.fds[0].get()));
}

TEST_CASE("exec --pidfd-socket to a path nobody listens on fails and starts nothing") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  auto r = exec(b, {"--pidfd-socket", b.path() + "/nobody.sock", "--detach", b.id(), "sleep", "1000"});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "pidfd socket"), r.err);
  CHECK(wait_for([&] { return cgroup_procs(b) == std::set<pid_t>{init}; }, 5000));
}

namespace {

// Loops over /proc/[0-9]*/exe inside the container; records in /tmp/seen
// every link that is not busybox (the only program of the container), and
// touches /tmp/ok when it read a busybox link (the loop works).
constexpr const char* kExeLoop =
    "while :; do for p in /proc/[0-9]*; do l=$(readlink $p/exe 2>/dev/null) || continue; "
    "case $l in /bin/busybox) echo > /tmp/ok ;; *) echo \"$l\" >> /tmp/seen ;; esac; done; done";

std::string runtime_realpath() {
  char resolved[PATH_MAX];
  if (!::realpath(runtime_binary().c_str(), resolved)) return runtime_binary();
  return resolved;
}

// Runs `count` execs of `true` into b's container; returns what the loop saw.
std::string race_execs(const Bundle& b, int count) {
  int failures = 0;
  for (int i = 0; i < count; ++i)
    if (exec_in(b, {"true"}).status != 0) ++failures;
  CHECK(failures == 0);
  CHECK(berth::path_exists(b.rootfs() + "/tmp/ok"));
  return slurp(b.rootfs() + "/tmp/seen");
}

}  // namespace

TEST_CASE("while an exec is set up, no process of the container can read the runtime's exe link") {
  // Best effort: a race. The container's root (same uid as the runtime,
  // capabilities a subset of the runtime's once they are dropped) may read
  // /proc/<pid>/exe of any dumpable process it can see. The exec child is
  // in the container's pid namespace from its birth, so if it were dumpable
  // between the credential change and execve, the loop would see the host
  // path of berth-runtime.
  Bundle b;
  b.sh(kExeLoop);
  ForceDelete cleanup{b};
  start_detached(b);
  std::string runtime = runtime_realpath();
  std::string seen = race_execs(b, 150);
  INFO("links seen: ", seen);
  CHECK_FALSE(contains(seen, runtime));
  CHECK_FALSE(contains(seen, runtime.substr(0, runtime.rfind('/') + 1)));
  // Stricter: every process of the container runs busybox, so any other
  // link read means a process of the runtime was dumpable.
  CHECK(seen == "");
}

TEST_CASE("a container with CAP_SYS_PTRACE never reaches the runtime's binary during exec") {
  // CAP_SYS_PTRACE (without a user namespace) overrides non-dumpable: the
  // container may read the exe link of the exec child. It must then name a
  // sealed copy, never the host's file.
  Bundle b;
  for (const char* set : {"bounding", "effective", "permitted"})
    b.config["process"]["capabilities"][set].push_back("CAP_SYS_PTRACE");
  b.sh(kExeLoop);
  ForceDelete cleanup{b};
  start_detached(b);
  std::string runtime = runtime_realpath();
  std::string seen = race_execs(b, 150);
  INFO("links seen: ", seen);
  CHECK_FALSE(contains(seen, runtime));
  CHECK_FALSE(contains(seen, runtime.substr(0, runtime.rfind('/') + 1)));
}

TEST_CASE("a process exec'd with --cap CAP_SYS_PTRACE never reaches the runtime's binary during later execs") {
  // The container's own process has no CAP_SYS_PTRACE, but an exec'd one
  // (exec --cap, or a --process file, as `docker exec --privileged` sends)
  // does: it sees the children of every later exec like the case above.
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  auto loop = exec(b, {"--detach", "--cap", "CAP_SYS_PTRACE", b.id(), "sh", "-c", kExeLoop});
  REQUIRE_MESSAGE(loop.status == 0, loop.err);
  std::string runtime = runtime_realpath();
  std::string seen = race_execs(b, 150);
  INFO("links seen: ", seen);
  CHECK_FALSE(contains(seen, runtime));
  CHECK_FALSE(contains(seen, runtime.substr(0, runtime.rfind('/') + 1)));
}

TEST_CASE("exec in the foreground relays stdin, also through a pty") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  auto r = exec(b, {b.id(), "sh", "-c", "read x; echo got:$x"}, "hello exec\n");
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "got:hello exec\n");
  auto t = exec(b, {"-t", b.id(), "sh", "-c", "read x; echo got:$x"}, "typed line\n");
  CHECK_MESSAGE(t.status == 0, t.err);
  // The tty echoes the line, then the process answers.
  CHECK(strip_cr(t.out) == "typed line\ngot:typed line\n");
}

TEST_CASE("exec in the foreground forwards signals to the process") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  // The runtime in the background of a shell, signalled once the process
  // inside is ready.
  std::string out = b.path() + "/exec.out";
  std::string script = cat("'", runtime_binary(), "' --root '", b.root(), "' exec ", b.id(),
                           " sh -c 'trap \"echo got-term; exit 9\" TERM; echo ready; while :; do sleep 0.1; done' > '",
                           out, "' & p=$!; i=0; while ! grep -q ready '", out,
                           "' 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
                           "kill -TERM $p; wait $p; echo rc=$?");
  auto r = run({"sh", "-c", script});
  INFO("stderr: ", r.err);
  CHECK(r.out == "rc=9\n");
  CHECK(slurp(out) == "ready\ngot-term\n");
  CHECK(status_of(b) == "running");
}

TEST_CASE("exec applies the container's umask and oomScoreAdj") {
  Bundle b;
  b.args({"sleep", "1000"});
  b.config["process"]["user"]["umask"] = 077;
  b.config["process"]["oomScoreAdj"] = 123;
  ForceDelete cleanup{b};
  start_detached(b);
  auto r = exec_in(b, {"sh", "-c", "echo umask=$(umask); echo oom=$(cat /proc/self/oom_score_adj)"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["umask"] == "0077");
  CHECK(kv["oom"] == "123");
}

TEST_CASE("exec --process with a terminal and consoleSize: the pty has that size") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  start_detached(b);
  std::string sock = b.path() + "/console.sock";
  auto l = berth::listen_unix(sock);
  REQUIRE(l.ok());
  json proc = {{"terminal", true},
               {"consoleSize", {{"height", 33}, {"width", 111}}},
               {"user", {{"uid", 0}, {"gid", 0}}},
               {"args", {"sh", "-c", "stty size; tty"}},
               {"env", {"PATH=/bin"}},
               {"cwd", "/"}};
  std::string file = b.path() + "/process.json";
  REQUIRE(berth::write_file(file, proc.dump(), true));
  // containerd's argv for a terminal exec.
  auto r = exec(b, {"--process", file, "--console-socket", sock, "--detach", "--pid-file", b.path() + "/p.pid", b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto conn = accept_one(l->get());
  REQUIRE(conn);
  auto msg = recv_all_fds(conn.get());
  REQUIRE(msg.ok);
  REQUIRE(msg.fds.size() == 1);
  std::string out = read_pty(msg.fds[0].get());
  INFO("pty output: ", out);
  auto lines = lines_of(out);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0] == "33 111");
  CHECK(lines[1].rfind("/dev/pts/", 0) == 0);
}

TEST_CASE("exec --console-socket without a terminal is refused") {
  Bundle b;
  b.args({"sleep", "1000"});
  ForceDelete cleanup{b};
  pid_t init = start_detached(b);
  std::string sock = b.path() + "/console.sock";
  auto l = berth::listen_unix(sock);
  REQUIRE(l.ok());
  auto r = exec(b, {"--console-socket", sock, "--detach", b.id(), "true"});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "cannot use console socket if berth-runtime will not detach or allocate tty"), r.err);
  CHECK_FALSE(accept_one(l->get(), 0));
  CHECK(cgroup_procs(b) == std::set<pid_t>{init});
}
