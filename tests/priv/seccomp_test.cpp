// Seccomp profiles enforced on real containers, for the init and for exec,
// and the notify listener protocol of the runtime-spec.
#include <doctest/doctest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/fs.hpp"
#include "common/unix_socket.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {

json deny_rule(const std::vector<std::string>& names, int errno_ret) {
  return {{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", errno_ret}};
}

}  // namespace

TEST_CASE("a seccomp rule makes a syscall fail with the configured errno, and only that syscall") {
  Bundle b;
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {deny_rule({"mkdir", "mkdirat"}, 28 /* ENOSPC */)}}};
  b.sh("mkdir /tmp/x 2>&1; echo still running; grep Seccomp: /proc/self/status");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "No space left on device"));
  CHECK(contains(r.out, "still running"));
  CHECK(contains(r.out, "Seccomp:\t2"));  // filter mode
}

TEST_CASE("argument conditions select calls, and conditions on one argument are alternatives") {
  Bundle b;
  json kill_rule = {{"names", {"kill"}},
                    {"action", "SCMP_ACT_ERRNO"},
                    {"args",
                     {{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}},
                      {{"index", 1}, {"value", 19 /* SIGSTOP */}, {"op", "SCMP_CMP_EQ"}}}}};
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {kill_rule}}};
  b.sh("kill -0 1 2>/dev/null && echo sig0 allowed || echo sig0 denied; "
       "kill -STOP 1 2>/dev/null && echo stop allowed || echo stop denied; "
       "kill -CONT 1 && echo cont allowed");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "sig0 denied"));
  CHECK(contains(r.out, "stop denied"));
  CHECK(contains(r.out, "cont allowed"));
}

TEST_CASE("a default-deny profile with an allow list runs, and unknown names are skipped") {
  Bundle b;
  // Everything the shell and its applets need, plus a name no kernel has.
  std::vector<std::string> allowed;
  auto list = berth::read_file("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
  REQUIRE(list.ok());
  for (const auto& line : berth::split(*list, '\n'))
    if (berth::starts_with(line, "#define __NR_")) allowed.push_back(berth::split(line.substr(13), ' ')[0]);
  std::erase(allowed, "uname");
  allowed.push_back("not_a_syscall_anywhere");
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ERRNO"},
                                  {"defaultErrnoRet", 38 /* ENOSYS */},
                                  {"architectures", {"SCMP_ARCH_X86_64"}},
                                  {"syscalls", {{{"names", allowed}, {"action", "SCMP_ACT_ALLOW"}}}}};
  b.sh("echo started; cat /proc/sys/kernel/ostype");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "started\nLinux\n");
  // The compiled program was cached under the runtime's root.
  CHECK(count_entries(b.root() + "/@seccomp") == 1);
}

TEST_CASE("processes started by exec are held to the container's profile") {
  Bundle b;
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {deny_rule({"mkdir", "mkdirat"}, 1 /* EPERM */)}}};
  b.args({"sleep", "30"});
  b.write();
  REQUIRE(b.runtime({"run", "-d", "--bundle", b.path(), b.id()}).status == 0);
  auto r = b.runtime({"exec", b.id(), "sh", "-c", "mkdir /tmp/y 2>&1; grep Seccomp: /proc/self/status"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "Operation not permitted"));
  CHECK(contains(r.out, "Seccomp:\t2"));
  CHECK(b.runtime({"delete", "--force", b.id()}).status == 0);
}

TEST_CASE("SCMP_ACT_NOTIFY hands the listener fd and the state to listenerPath, and the agent's answer counts") {
  Bundle b;
  TempDir sockdir;
  std::string sock_path = sockdir / "agent.sock";
  auto listener = berth::listen_unix(sock_path);
  REQUIRE(listener.ok());
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"listenerPath", sock_path},
      {"listenerMetadata", "agent-metadata"},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  b.sh("mkdir /tmp/z 2>&1; echo done");

  // The agent: receive the fd and state, then answer every notification
  // with EROFS until the container is gone.
  std::string state_text;
  int answered = 0;
  std::thread agent([&] {
    int conn = ::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    berth::UniqueFd owned_conn(conn);
    auto fd = berth::recv_fd(conn, &state_text);
    if (!fd) return;
    for (;;) {
      pollfd p{fd->get(), POLLIN, 0};
      if (::poll(&p, 1, 20000) <= 0 || (p.revents & POLLHUP)) return;
      seccomp_notif req{};
      if (::ioctl(fd->get(), SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) continue;
      seccomp_notif_resp resp{};
      resp.id = req.id;
      resp.error = -EROFS;
      if (::ioctl(fd->get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0) ++answered;
    }
  });
  auto r = b.run_container();
  agent.join();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "Read-only file system"));
  CHECK(contains(r.out, "done"));
  CHECK(answered >= 1);
  auto state = json::parse(state_text);
  CHECK(state["fds"] == json::array({"seccompFd"}));
  CHECK(state["metadata"] == "agent-metadata");
  CHECK(state["pid"].get<int>() > 0);
  CHECK(state["state"]["id"] == b.id());
  CHECK(state["state"]["status"] == "creating");
  CHECK(state["state"]["bundle"] == b.path());
}

TEST_CASE("an invalid profile is refused with the field named, before anything is created") {
  Bundle b;
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_SOMETIMES"}}}}};
  auto r = b.run_container();
  CHECK(r.status == 1);
  CHECK(contains(r.err, "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_SOMETIMES\""));
  CHECK(count_entries(b.root()) == 0);
}
