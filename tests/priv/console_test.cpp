// process.terminal: the pty handed over a --console-socket (the protocol of
// containerd, podman and conmon), the refusals when the terminal settings do
// not fit the command, and the pty relayed by a foreground `run`.
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "common/unix_socket.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {


std::string strip_cr(std::string s) {
  std::erase(s, '\r');
  return s;
}

long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

// Reads a pty master until `until` has been seen (or, with an empty
// `until`, until the slave side is closed: EIO), or the timeout. Returns
// what was read, without the "\r" the tty adds before each "\n".
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
    if (n <= 0) break;  // EIO: every slave fd is closed
    got.append(buf, static_cast<size_t>(n));
  }
  return strip_cr(got);
}

// Accepts the runtime's connection on the console socket (it connects
// during create, before create returns).
berth::UniqueFd accept_console(int listener, int timeout_ms = 5000) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return berth::UniqueFd();
  return berth::UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

// A created container whose terminal arrived over the console socket.
struct ConsoleContainer {
  berth::UniqueFd listener, conn, master;
  std::string slave_path;
};

// Creates the container of `b` with --console-socket and receives the pty
// master. Fails the test (REQUIRE) on any step.
ConsoleContainer create_with_console(Bundle& b) {
  ConsoleContainer c;
  std::string sock = b.path() + "/console.sock";
  auto l = berth::listen_unix(sock);
  REQUIRE_MESSAGE(l.ok(), (l.ok() ? "" : l.error().message()));
  c.listener = std::move(*l);
  b.write();
  auto r = b.runtime({"create", "--bundle", b.path(), "--console-socket", sock, b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  c.conn = accept_console(c.listener.get());
  REQUIRE(c.conn);
  auto m = berth::recv_fd(c.conn.get(), &c.slave_path);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message()));
  c.master = std::move(*m);
  return c;
}

// Removes a container whatever state it is in.
void force_delete(const Bundle& b) {
  auto r = b.runtime({"delete", "--force", b.id()});
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(count_entries(b.root()) == 0);
}

// Cgroups (directories) below the parent of the bundle's cgroupsPath: the
// test's own cgroup, where a container's cgroup would appear.
int cgroups_below_parent(const Bundle& b) {
  std::string path = b.config["linux"]["cgroupsPath"].get<std::string>();
  std::string dir = cgroup_mount() + path.substr(0, path.rfind('/'));
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

}  // namespace

TEST_CASE("create --console-socket sends the pty master; the process runs on its slave") {
  Bundle b;
  b.config["process"]["terminal"] = true;
  b.config["process"]["consoleSize"] = {{"height", 24}, {"width", 80}};
  b.sh("tty; test -t 0 && test -t 1 && test -t 2 && echo isatty; stty size; "
       "[ \"$(stat -c %t:%T /dev/console)\" = \"$(stat -c %t:%T $(tty))\" ] && echo console-is-pty");
  auto c = create_with_console(b);
  // The message's data is the slave's path inside the container.
  CHECK(c.slave_path == "/dev/pts/0");
  CHECK(::isatty(c.master.get()));

  auto start = b.runtime({"start", b.id()});
  REQUIRE_MESSAGE(start.status == 0, start.err);
  std::string out = read_pty(c.master.get());
  CHECK(out == "/dev/pts/0\nisatty\n24 80\nconsole-is-pty\n");

  // One message with one fd, then the socket is closed by the runtime and
  // the init (whose copy is close-on-exec).
  pollfd p{c.conn.get(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  char byte;
  CHECK(::recv(c.conn.get(), &byte, 1, MSG_DONTWAIT) == 0);
  force_delete(b);
}

TEST_CASE("input written to the console master reaches the process") {
  Bundle b;
  b.config["process"]["terminal"] = true;
  b.sh("read x; echo got:$x");
  auto c = create_with_console(b);
  auto start = b.runtime({"start", b.id()});
  REQUIRE_MESSAGE(start.status == 0, start.err);
  REQUIRE(berth::write_all(c.master.get(), "hello tty\n", "pty master"));
  std::string out = read_pty(c.master.get());
  // The tty echoes the line, then the process answers.
  CHECK(out == "hello tty\ngot:hello tty\n");
  force_delete(b);
}

TEST_CASE("the console is the controlling terminal: ^C interrupts the process") {
  Bundle b;
  b.config["process"]["terminal"] = true;
  b.sh("trap 'echo interrupted; exit 7' INT; echo ready; while :; do sleep 0.1; done");
  auto c = create_with_console(b);
  auto start = b.runtime({"start", b.id()});
  REQUIRE_MESSAGE(start.status == 0, start.err);
  REQUIRE(contains(read_pty(c.master.get(), "ready\n"), "ready\n"));
  // ^C is turned into SIGINT for the foreground process group only when the
  // pty is the session's controlling terminal.
  REQUIRE(berth::write_all(c.master.get(), "\x03", "pty master"));
  std::string out = read_pty(c.master.get());
  CHECK(contains(out, "interrupted\n"));
  force_delete(b);
}

TEST_CASE("create with process.terminal and no --console-socket fails and leaves nothing") {
  Bundle b;
  b.config["process"]["terminal"] = true;
  b.args({"true"});
  b.write();
  int cgroups_before = cgroups_below_parent(b);
  RunResult r;
  SUBCASE("create") { r = b.runtime({"create", "--bundle", b.path(), b.id()}); }
  SUBCASE("run -d") { r = b.runtime({"run", "-d", "--bundle", b.path(), b.id()}); }
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "cannot allocate tty if berth-runtime will detach without setting console socket"), r.err);
  CHECK(count_entries(b.root()) == 0);
  CHECK(cgroups_below_parent(b) == cgroups_before);
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("--console-socket without process.terminal fails and leaves nothing") {
  Bundle b;
  b.args({"true"});
  b.write();
  std::string sock = b.path() + "/console.sock";
  auto l = berth::listen_unix(sock);
  REQUIRE(l.ok());
  int cgroups_before = cgroups_below_parent(b);
  auto r = b.runtime({"create", "--bundle", b.path(), "--console-socket", sock, b.id()});
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.err, "cannot use console socket if berth-runtime will not detach or allocate tty"), r.err);
  CHECK(count_entries(b.root()) == 0);
  CHECK(cgroups_below_parent(b) == cgroups_before);
  // Nothing was sent: the runtime did not even connect.
  CHECK_FALSE(accept_console(l->get(), 0));
}

TEST_CASE("a foreground run with process.terminal relays the pty to stdout") {
  Bundle b;
  b.config["process"]["terminal"] = true;
  b.config["process"]["consoleSize"] = {{"height", 30}, {"width", 100}};
  b.sh("tty; test -t 0 && test -t 1 && echo isatty; stty size; exit 5");
  // The test's stdin is a pipe, not a tty: the runtime must cope (no raw
  // mode, no window size to copy) and still relay the output.
  auto r = b.run_container();
  CHECK_MESSAGE(r.status == 5, r.err);
  CHECK(strip_cr(r.out) == "/dev/pts/0\nisatty\n30 100\n");
  CHECK(r.err == "");
  CHECK(count_entries(b.root()) == 0);
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("a foreground run with process.terminal relays stdin to the pty") {
  Bundle b;
  b.config["process"]["terminal"] = true;
  b.sh("read x; echo got:$x");
  b.write();
  auto r = b.runtime({"run", "--bundle", b.path(), b.id()}, "typed line\n");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  // The echo of the typed line, then the answer.
  CHECK(strip_cr(r.out) == "typed line\ngot:typed line\n");
  CHECK(count_entries(b.root()) == 0);
}
