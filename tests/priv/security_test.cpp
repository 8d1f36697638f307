// Security properties of real containers: mounts cannot be steered out of
// the rootfs, no file descriptor of the caller reaches the container unless
// asked for, capabilities are exactly the configured ones, and a stale
// state.json cannot make berth-runtime signal an unrelated process.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {


std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.insert(line);
  return out;
}

// The text between "begin" and "end" marker lines of a container's output.
std::string section(const std::string& out, const std::string& name) {
  std::string begin = "<" + name + ">\n", end = "</" + name + ">\n";
  auto a = out.find(begin);
  if (a == std::string::npos) return "";
  a += begin.size();
  auto b = out.find(end, a);
  return b == std::string::npos ? "" : out.substr(a, b - a);
}

std::string in_section(const std::string& name, const std::string& cmd) {
  return "echo '<" + name + ">'; " + cmd + "; echo '</" + name + ">'; ";
}

// Mount points (field 5) of a mountinfo text.
std::vector<std::string> mount_points(const std::string& mountinfo) {
  std::vector<std::string> out;
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string field;
    for (int i = 0; i < 5 && f >> field; ++i) {
    }
    out.push_back(field);
  }
  return out;
}

bool has_mount_point(const std::string& mountinfo, const std::string& point) {
  auto points = mount_points(mountinfo);
  return std::find(points.begin(), points.end(), point) != points.end();
}

// Runs berth-runtime with stdin from /dev/null and stdout/stderr in files.
// `create` hands its stdio to the container's init; with the pipes of
// run() the caller would wait for the container to exit.
struct FileRun {
  int status = -1;
  std::string out_path, err_path;
  std::string out() const { return slurp(out_path); }
  std::string err() const { return slurp(err_path); }

  static std::string slurp(const std::string& path) {
    auto text = berth::read_file(path);
    return text ? *text : "";
  }
};

FileRun run_with_files(const Bundle& b, const std::vector<std::string>& args, const std::string& tag,
                       const std::vector<int>& extra_fds = {}) {
  FileRun r;
  r.out_path = b.path() + "/" + tag + ".out";
  r.err_path = b.path() + "/" + tag + ".err";
  std::vector<std::string> argv = {runtime_binary(), "--root", b.root()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(r.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(r.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<int> moved;
    for (int fd : extra_fds) moved.push_back(::fcntl(fd, F_DUPFD, 100));
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    for (size_t i = 0; i < moved.size(); ++i) ::dup2(moved[i], 3 + static_cast<int>(i));
    ::close_range(3 + static_cast<unsigned>(moved.size()), ~0U, 0);
    std::vector<char*> cargs;
    for (const auto& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
    cargs.push_back(nullptr);
    ::execv(cargs[0], cargs.data());
    ::_exit(127);
  }
  int status = 0;
  for (int i = 0; i < 6000; ++i) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return r;
    }
    ::usleep(10000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return r;
}

std::string container_status(const Bundle& b) {
  auto r = b.runtime({"state", b.id()});
  if (r.status != 0) return "error: " + r.err;
  return json::parse(r.out)["status"].get<std::string>();
}

bool wait_status(const Bundle& b, const std::string& want) {
  for (int i = 0; i < 500; ++i) {
    if (container_status(b) == want) return true;
    ::usleep(20000);
  }
  return false;
}

// A process of the test's own, standing for "some unrelated process".
class Sleeper {
 public:
  Sleeper() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close_range(3, ~0U, 0);
      ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Sleeper() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  pid_t pid() const { return pid_; }
  // Still running: neither exited nor killed by a signal.
  bool alive() const {
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
};

uint64_t cap_mask(const std::vector<int>& caps) {
  uint64_t m = 0;
  for (int c : caps) m |= uint64_t{1} << c;
  return m;
}

// "CapEff" -> its value from a /proc/<pid>/status text.
uint64_t status_hex(const std::string& status, const std::string& key) {
  auto pos = status.find(key + ":\t");
  if (pos == std::string::npos) return ~uint64_t{0};
  return std::stoull(status.substr(pos + key.size() + 2, 16), nullptr, 16);
}

std::string status_field(const std::string& status, const std::string& key) {
  auto pos = status.find(key + ":\t");
  if (pos == std::string::npos) return "<missing>";
  auto start = pos + key.size() + 2;
  return status.substr(start, status.find('\n', start) - start);
}

// Capability numbers (linux/capability.h).
constexpr int kChown = 0, kKill = 5, kSetuid = 7, kNetBindService = 10, kMknod = 27, kAuditWrite = 29;

// Mounts a tmpfs and a single file through rootfs/evil -> <host>/host-target
// and checks that both land in the rootfs and the host directory is left
// alone. With `target_in_rootfs` the symlink's target also exists inside
// the rootfs; otherwise the runtime has to create it there.
void check_symlink_escape(bool target_in_rootfs) {
  TempDir host("berth-escape");
  std::string target = host / "host-target";
  REQUIRE(berth::mkdir_all(target, 0755));
  REQUIRE(berth::write_file(host / "source.conf", "bound file\n", true));
  Bundle b;
  // Inside the container /evil means <rootfs>/<target>; followed on the
  // host it would be the host's directory.
  REQUIRE(::symlink(target.c_str(), (b.rootfs() + "/evil").c_str()) == 0);
  if (target_in_rootfs) REQUIRE(berth::mkdir_all(b.rootfs() + target, 0755));
  b.config["mounts"].push_back({{"destination", "/evil/mnt"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
  b.config["mounts"].push_back({{"destination", "/evil/file.conf"}, {"type", "bind"}, {"source", host / "source.conf"}, {"options", {"bind"}}});
  b.sh(in_section("mountinfo", "cat /proc/self/mountinfo") + "cat /evil/file.conf; touch /evil/mnt/inside; echo touch=$?");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  // Whatever the outcome, the host directory got neither a mount point nor
  // a mount.
  CHECK(count_entries(target) == 0);
  CHECK(count_mounts(target) == 0);
  CHECK(count_mounts(b.path()) == 0);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  std::string mountinfo = section(r.out, "mountinfo");
  // Both mounts are where the symlink leads inside the container...
  CHECK(has_mount_point(mountinfo, target + "/mnt"));
  CHECK(has_mount_point(mountinfo, target + "/file.conf"));
  CHECK(contains(r.out, "bound file\ntouch=0\n"));
  // ...which is in the rootfs.
  CHECK(berth::path_exists(b.rootfs() + target + "/mnt"));
  CHECK(berth::path_exists(b.rootfs() + target + "/file.conf"));
}

}  // namespace

TEST_CASE("a mount destination through an absolute symlink stays inside the rootfs") {
  check_symlink_escape(true);
}

TEST_CASE("a mount destination through a dangling absolute symlink is created inside the rootfs") {
  // As runc does: the missing target is made in the rootfs, never on the host.
  check_symlink_escape(false);
}

TEST_CASE("'..' in a mount destination cannot leave the rootfs") {
  TempDir host("berth-dotdot");
  Bundle b;
  std::string rel = host.path().substr(1);  // without the leading "/"
  std::string ups = "../../../../../../../../../..";
  // A destination climbing above "/", one climbing out of a subdirectory,
  // and a relative symlink climbing out of the rootfs.
  REQUIRE(::symlink((ups + "/" + rel).c_str(), (b.rootfs() + "/up").c_str()) == 0);
  b.config["mounts"].push_back({{"destination", "/" + ups + "/" + rel + "/a"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  b.config["mounts"].push_back({{"destination", "/mnt/" + ups + "/" + rel + "/b"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  b.config["mounts"].push_back({{"destination", "/up/c"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  b.sh(in_section("mountinfo", "cat /proc/self/mountinfo"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  std::string mountinfo = section(r.out, "mountinfo");
  for (const char* leaf : {"a", "b", "c"}) {
    CAPTURE(leaf);
    CHECK(has_mount_point(mountinfo, host.path() + "/" + leaf));
    CHECK(berth::path_exists(b.rootfs() + host.path() + "/" + leaf));
  }
  CHECK(count_entries(host.path()) == 0);
  CHECK(count_mounts(host.path()) == 0);
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("file descriptors leaked by the caller do not reach the container") {
  Bundle b;
  std::string marker = b.path() + "/leak-marker";
  REQUIRE(berth::write_file(marker, "must not be seen\n", true));
  int file = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
  int pipefd[2];
  REQUIRE(file >= 0);
  REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
  struct stat pipe_st{};
  REQUIRE(::fstat(pipefd[0], &pipe_st) == 0);
  std::string pipe_name = "pipe:[" + std::to_string(pipe_st.st_ino) + "]";
  // run() dups these to 3, 4, 5 of berth-runtime without close-on-exec.
  b.sh(in_section("fds", "ls /proc/self/fd") + "ls -l /proc/self/fd");
  b.write();
  auto r = b.runtime({"run", "--bundle", b.path(), b.id()}, "", {file, pipefd[0], pipefd[1]});
  ::close(file);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  // 0-2 and the directory ls itself opened.
  CHECK(lines_of(section(r.out, "fds")) == std::set<std::string>{"0", "1", "2", "3"});
  CHECK_FALSE(contains(r.out, "leak-marker"));
  // The container's own stdio are pipes too, but not this one.
  CHECK_FALSE(contains(r.out, pipe_name));
}

TEST_CASE("file descriptors leaked into create do not reach the container after start") {
  Bundle b;
  std::string marker = b.path() + "/leak-marker";
  REQUIRE(berth::write_file(marker, "must not be seen\n", true));
  int file = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(file >= 0);
  b.sh(in_section("fds", "ls /proc/self/fd") + "ls -l /proc/self/fd");
  b.write();
  auto created = run_with_files(b, {"create", "--bundle", b.path(), b.id()}, "create", {file, file});
  ::close(file);
  REQUIRE_MESSAGE(created.status == 0, created.err());
  auto started = b.runtime({"start", b.id()});
  CHECK_MESSAGE(started.status == 0, started.err);
  CHECK(wait_status(b, "stopped"));
  // The container wrote to the stdout it got from create.
  std::string out = created.out();
  INFO("container output: ", out, "\ncreate stderr: ", created.err());
  CHECK(lines_of(section(out, "fds")) == std::set<std::string>{"0", "1", "2", "3"});
  CHECK_FALSE(contains(out, "leak-marker"));
  auto del = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(del.status == 0, del.err);
}

TEST_CASE("--preserve-fds passes exactly fds 3 .. 3+N-1") {
  Bundle b;
  std::string passed = b.path() + "/passed.txt";
  std::string other = b.path() + "/not-passed.txt";
  REQUIRE(berth::write_file(passed, "content of fd 3\n", true));
  REQUIRE(berth::write_file(other, "content of fd 4\n", true));
  int fd3 = ::open(passed.c_str(), O_RDONLY | O_CLOEXEC);
  int fd4 = ::open(other.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd3 >= 0);
  REQUIRE(fd4 >= 0);
  b.sh("cat /proc/self/fd/3; " + in_section("fds", "ls /proc/self/fd") + "echo link=$(readlink /proc/self/fd/3)");
  b.write();
  auto r = b.runtime({"run", "--preserve-fds", "1", "--bundle", b.path(), b.id()}, "", {fd3, fd4});
  ::close(fd3);
  ::close(fd4);
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "content of fd 3\n"));
  CHECK(contains(r.out, "link=" + passed + "\n"));
  // 0-3, and 4 is ls's own directory (it would be 5 if fd 4 had leaked).
  CHECK(lines_of(section(r.out, "fds")) == std::set<std::string>{"0", "1", "2", "3", "4"});
  CHECK_FALSE(contains(r.out, "content of fd 4"));
}

TEST_CASE("a root process has exactly the configured capability sets") {
  Bundle b;
  // For root, execve makes the effective set the permitted one, so the two
  // are configured equal; the bounding set is wider than both.
  b.config["process"]["capabilities"] = {
      {"bounding", {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_SETUID", "CAP_MKNOD"}},
      {"effective", {"CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"}},
      {"permitted", {"CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"}},
  };
  b.config["process"]["noNewPrivileges"] = true;
  b.sh(in_section("status", "cat /proc/self/status") +
       "touch /tmp/f; chown 1000 /tmp/f; echo chown=$?; mknod /tmp/n c 1 3 2>/dev/null; echo mknod=$?");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  std::string status = section(r.out, "status");
  uint64_t bounding = cap_mask({kAuditWrite, kKill, kNetBindService, kChown, kSetuid, kMknod});
  uint64_t permitted = cap_mask({kKill, kChown, kNetBindService});
  CHECK(status_hex(status, "CapBnd") == bounding);
  CHECK(status_hex(status, "CapPrm") == permitted);
  CHECK(status_hex(status, "CapEff") == permitted);
  CHECK(status_hex(status, "CapInh") == 0);
  CHECK(status_hex(status, "CapAmb") == 0);
  CHECK(status_field(status, "NoNewPrivs") == "1");
  // The sets are in force: CAP_CHOWN works, CAP_MKNOD (bounding only) does not.
  CHECK(contains(r.out, "chown=0\n"));
  CHECK(contains(r.out, "mknod=1\n"));
}

TEST_CASE("a non-root process keeps exactly its ambient capabilities") {
  Bundle b;
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.config["process"]["capabilities"] = {
      {"bounding", {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}},
      {"effective", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
      {"permitted", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
      {"inheritable", {"CAP_NET_BIND_SERVICE"}},
      {"ambient", {"CAP_NET_BIND_SERVICE"}},
  };
  b.sh(in_section("status", "cat /proc/self/status"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  std::string status = section(r.out, "status");
  uint64_t nbs = cap_mask({kNetBindService});
  CHECK(status_field(status, "Uid") == "1000\t1000\t1000\t1000");
  CHECK(status_hex(status, "CapBnd") == cap_mask({kAuditWrite, kKill, kNetBindService}));
  CHECK(status_hex(status, "CapInh") == nbs);
  CHECK(status_hex(status, "CapAmb") == nbs);
  // execve as non-root keeps only the ambient set.
  CHECK(status_hex(status, "CapPrm") == nbs);
  CHECK(status_hex(status, "CapEff") == nbs);
}

TEST_CASE("noNewPrivileges sets the no_new_privs bit, and only when asked") {
  for (bool nnp : {true, false}) {
    CAPTURE(nnp);
    Bundle b;
    b.config["process"]["noNewPrivileges"] = nnp;
    b.sh("grep NoNewPrivs /proc/self/status");
    auto r = b.run_container();
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == std::string("NoNewPrivs:\t") + (nnp ? "1" : "0") + "\n");
  }
}

TEST_CASE("a pid whose start time does not match state.json is not the container") {
  Bundle b;
  b.args({"sleep", "30"});
  b.write();
  auto created = run_with_files(b, {"create", "--bundle", b.path(), b.id()}, "create");
  REQUIRE_MESSAGE(created.status == 0, created.err());
  REQUIRE(container_status(b) == "created");
  auto killed = b.runtime({"kill", b.id(), "KILL"});
  REQUIRE_MESSAGE(killed.status == 0, killed.err);
  REQUIRE(wait_status(b, "stopped"));

  // The init's pid now names an unrelated, live process; the start time in
  // state.json is still the init's.
  Sleeper sleeper;
  REQUIRE(sleeper.pid() > 0);
  std::string state_path = b.root() + "/" + b.id() + "/state.json";
  auto text = berth::read_file(state_path);
  REQUIRE(text.ok());
  json st = json::parse(*text);
  REQUIRE(st["pidStartTime"].get<uint64_t>() != 0);
  st["pid"] = sleeper.pid();
  REQUIRE(berth::write_file(state_path, st.dump(), false, 0600));

  auto state = b.runtime({"state", b.id()});
  REQUIRE_MESSAGE(state.status == 0, state.err);
  json shown = json::parse(state.out);
  CHECK(shown["status"] == "stopped");
  CHECK(shown["pid"] == 0);
  auto kill = b.runtime({"kill", b.id(), "KILL"});
  CHECK(kill.status == 1);
  CHECK(contains(kill.err, "container not running"));
  ::usleep(100000);
  CHECK(sleeper.alive());
  // delete of a stopped container must not kill "its" pid either.
  auto del = b.runtime({"delete", b.id()});
  CHECK_MESSAGE(del.status == 0, del.err);
  ::usleep(100000);
  CHECK(sleeper.alive());
  CHECK(count_entries(b.root()) == 0);
}
