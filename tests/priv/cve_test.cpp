// Regression tests that attempt known container escapes against berth.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {

// The static attack helper (tests/helpers/attack.cpp), next to this binary.
std::string attack_binary() {
  if (const char* p = std::getenv("BERTH_ATTACK"); p && *p) return p;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(n > 0);
  std::string dir(self, static_cast<size_t>(n));
  return dir.substr(0, dir.rfind('/')) + "/attack";
}

std::string dev_ino(const std::string& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return berth::cat(major(st.st_dev), ":", minor(st.st_dev), ":", st.st_ino);
}

void add_cap(json& config, const std::string& cap) {
  for (const char* set : {"bounding", "effective", "permitted"}) config["process"]["capabilities"][set].push_back(cap);
}

// Runs `attack exe-grab` as the container's init while the runtime execs
// into the container again and again; returns what the attacker reported.
std::string grab_exe_during_execs(Bundle& b) {
  REQUIRE(berth::write_file(b.rootfs() + "/attack", berth::read_file(attack_binary()).value(), true, 0755));
  b.args({"/attack", "exe-grab", "5"});
  b.write();
  TempDir out;
  std::string log = out / "attack.out";
  // The container's stdout goes to a file so the runtime's run can be left running.
  std::string cmd = berth::cat(runtime_binary(), " --root ", b.root(), " run -d --bundle ", b.path(), " ", b.id(),
                               " >", log, " 2>&1");
  REQUIRE(::system(cmd.c_str()) == 0);
  for (int i = 0; i < 100 && !contains(slurp(log), "ready"); ++i) ::usleep(20000);
  for (int i = 0; i < 40; ++i) (void)b.runtime({"exec", b.id(), "true"});
  for (int i = 0; i < 400 && !contains(slurp(log), "done"); ++i) ::usleep(20000);
  (void)b.runtime({"delete", "--force", b.id()});
  return slurp(log);
}

}  // namespace

TEST_CASE("CVE-2019-5736: a container cannot open the runtime's executable while exec sets up a process") {
  std::string runtime = runtime_binary();
  std::string before = berth::sha256_hex(berth::read_file(runtime).value());
  Bundle b;
  std::string seen = grab_exe_during_execs(b);
  INFO("attacker saw:\n", seen);
  REQUIRE(contains(seen, "done"));
  CHECK_FALSE(contains(seen, "opened " + dev_ino(runtime) + "\n"));
  CHECK(berth::sha256_hex(berth::read_file(runtime).value()) == before);
}

TEST_CASE("CVE-2019-5736: with CAP_SYS_PTRACE the container only ever reaches a sealed copy") {
  std::string runtime = runtime_binary();
  std::string before = berth::sha256_hex(berth::read_file(runtime).value());
  Bundle b;
  add_cap(b.config, "CAP_SYS_PTRACE");
  std::string seen = grab_exe_during_execs(b);
  INFO("attacker saw:\n", seen);
  REQUIRE(contains(seen, "done"));
  CHECK_FALSE(contains(seen, "opened " + dev_ino(runtime) + "\n"));
  // What it could open (the memfd copies) it could not reopen for writing:
  // the only writable one is the container's own busybox.
  for (const auto& line : berth::split(seen, '\n'))
    if (berth::starts_with(line, "writable ")) CHECK(line == "writable " + dev_ino(b.rootfs() + "/bin/busybox"));
  CHECK(berth::sha256_hex(berth::read_file(runtime).value()) == before);
}

TEST_CASE("CVE-2024-21626: a cwd through /proc/self/fd cannot reach the host, on create or on exec") {
  for (int fd = 3; fd <= 9; ++fd) {
    Bundle b;
    b.config["process"]["cwd"] = berth::cat("/proc/self/fd/", fd);
    b.sh("pwd; ls -a ..");
    auto r = b.run_container();
    INFO("fd ", fd, ": ", r.out, r.err);
    CHECK(r.status == 1);
    CHECK(count_entries(b.root()) == 0);
  }
  Bundle b;
  b.args({"sleep", "30"});
  b.write();
  REQUIRE(b.runtime({"run", "-d", "--bundle", b.path(), b.id()}).status == 0);
  for (int fd = 3; fd <= 9; ++fd) {
    auto r = b.runtime({"exec", "--cwd", berth::cat("/proc/self/fd/", fd), b.id(), "pwd"});
    INFO("exec fd ", fd, ": ", r.out, r.err);
    CHECK(r.status == 1);
    CHECK_FALSE(contains(r.out, "/run"));
  }
  (void)b.runtime({"delete", "--force", b.id()});
}

TEST_CASE("CVE-2021-30465: a symlink swapped into a mount destination cannot send the mount outside the rootfs") {
  TempDir host;
  std::string target = host / "target";
  REQUIRE(::mkdir(target.c_str(), 0755) == 0);
  Bundle b;
  std::string race = b.rootfs() + "/race";
  std::string link = b.rootfs() + "/race-link";
  REQUIRE(::mkdir(race.c_str(), 0755) == 0);
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  b.config["mounts"].push_back({{"destination", "/race/x"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  // The container reports where its tmpfs landed: inside the root, either
  // at /race/x or at the symlink's target resolved within the root.
  b.sh("grep -E ' (/race/x|" + target + "/x) ' /proc/self/mountinfo | grep -c tmpfs");
  b.write();
  std::atomic<bool> stop{false};
  // Swap the directory and the symlink as fast as possible, as the attack does.
  std::thread swapper([&] {
    while (!stop) ::renameat2(AT_FDCWD, race.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE);
  });
  int landed_inside = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = b.runtime({"run", "--bundle", b.path(), berth::cat(b.id(), "-", i)});
    if (r.status == 0 && r.out == "1\n") ++landed_inside;
    INFO("run ", i, ": ", r.out, r.err);
    // Either the mount failed cleanly or it is inside; never elsewhere.
    CHECK((r.status != 0 || r.out == "1\n"));
  }
  stop = true;
  swapper.join();
  CHECK(landed_inside > 0);
  // Nothing was created on the host side of the link.
  CHECK(count_entries(target) == 0);
  CHECK(count_mounts(target) == 0);
}
