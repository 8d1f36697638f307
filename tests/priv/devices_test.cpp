// Device nodes of real containers and the eBPF device filter of their
// cgroup, checked by stat-ing and opening devices from inside.
//
// Block devices are not used: the sandbox these tests run in denies opening
// them even on the host, so a denial would prove nothing. /dev/cpu_dma_latency
// (c 10:259) is a character device root may read on the host; it is not in
// the default allow list.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>
#include <vector>

#include "test_support.hpp"

using namespace berth::test;

namespace {


void add_capability(json& config, const std::string& cap) {
  for (const char* set : {"bounding", "effective", "permitted"}) config["process"]["capabilities"][set].push_back(cap);
}

// mknod of 10:259 then a read of 4 bytes; prints what worked.
constexpr const char* kMknodAndRead =
    "mknod /dev/dma c 10 259 && echo mknod=ok; "
    "head -c 4 /dev/dma > /tmp/dma 2>&1; echo read=$?; cat /tmp/dma; echo; "
    "echo size=$(head -c 4 /dev/dma 2>/dev/null | wc -c); "
    "(true > /dev/dma) 2>&1; echo write=$?; head -c 1 /dev/null; echo null=$?";

bool host_has_dma_latency() {
  struct stat st{};
  return ::stat("/dev/cpu_dma_latency", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10 &&
         minor(st.st_rdev) == 259;
}

}  // namespace

TEST_CASE("the default devices exist with their type, numbers and mode") {
  Bundle b;
  // %t/%T are the major/minor in hex.
  b.sh("for d in null zero full random urandom tty; do stat -c '%n %A %t:%T %u:%g' /dev/$d; done; "
       "echo x > /dev/null; echo devnull=$?; echo zero=$(head -c 5 /dev/zero | wc -c); "
       "echo x 2>&1 > /dev/full; echo full=$?; echo urandom=$(head -c 16 /dev/urandom | wc -c)");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "/dev/null crw-rw-rw- 1:3 0:0\n"));
  CHECK(contains(r.out, "/dev/zero crw-rw-rw- 1:5 0:0\n"));
  CHECK(contains(r.out, "/dev/full crw-rw-rw- 1:7 0:0\n"));
  CHECK(contains(r.out, "/dev/random crw-rw-rw- 1:8 0:0\n"));
  CHECK(contains(r.out, "/dev/urandom crw-rw-rw- 1:9 0:0\n"));
  CHECK(contains(r.out, "/dev/tty crw-rw-rw- 5:0 0:0\n"));
  // They are usable, not just present (the default filter allows them).
  CHECK(contains(r.out, "devnull=0\n"));
  CHECK(contains(r.out, "zero=5\n"));
  CHECK(contains(r.out + r.err, "No space left on device"));
  CHECK(contains(r.out, "full=1\n"));
  CHECK(contains(r.out, "urandom=16\n"));
}

TEST_CASE("the /dev symlinks point into /proc/self/fd and to the devpts ptmx") {
  Bundle b;
  b.sh("for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done; "
       "echo via-stdout > /dev/stdout; stat -c 'ptmx=%F %t:%T' /dev/pts/ptmx");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "fd /proc/self/fd\n"));
  CHECK(contains(r.out, "stdin /proc/self/fd/0\n"));
  CHECK(contains(r.out, "stdout /proc/self/fd/1\n"));
  CHECK(contains(r.out, "stderr /proc/self/fd/2\n"));
  CHECK(contains(r.out, "ptmx pts/ptmx\n"));
  CHECK(contains(r.out, "via-stdout\n"));
  CHECK(contains(r.out, "ptmx=character special file 5:2\n"));
}

TEST_CASE("linux.devices creates nodes with their mode and owner") {
  Bundle b;
  b.config["linux"]["devices"] = {
      {{"path", "/dev/mydev"}, {"type", "c"}, {"major", 10}, {"minor", 259}, {"fileMode", 0640}, {"uid", 1000}, {"gid", 1000}},
      {{"path", "/dev/custom/nested"}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"fileMode", 0600}, {"uid", 0}, {"gid", 5}},
      {{"path", "/dev/myfifo"}, {"type", "p"}, {"fileMode", 0620}},
  };
  b.sh("stat -c '%n %F %t:%T %a %u:%g' /dev/mydev /dev/custom/nested /dev/myfifo");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  // 259 = 0x103.
  CHECK(contains(r.out, "/dev/mydev character special file a:103 640 1000:1000\n"));
  CHECK(contains(r.out, "/dev/custom/nested character special file 1:3 600 0:5\n"));
  CHECK(contains(r.out, "/dev/myfifo fifo 0:0 620 0:0\n"));
}

TEST_CASE("the default device filter allows mknod but not opening other devices") {
  REQUIRE(host_has_dma_latency());
  Bundle b;
  add_capability(b.config, "CAP_MKNOD");
  b.sh(kMknodAndRead);
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "mknod=ok\n"));
  CHECK(contains(r.out, "read=1\n"));
  CHECK(contains(r.out, "Operation not permitted"));
  CHECK(contains(r.out, "size=0\n"));
  CHECK(contains(r.out, "write=1\n"));
  // The filter does not get in the way of the allowed devices.
  CHECK(contains(r.out, "null=0\n"));
}

TEST_CASE("an allow rule lets the container read the device, and only read it") {
  REQUIRE(host_has_dma_latency());
  Bundle b;
  add_capability(b.config, "CAP_MKNOD");
  b.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 259}, {"access", "r"}});
  b.sh(kMknodAndRead);
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "mknod=ok\n"));
  CHECK(contains(r.out, "read=0\n"));
  CHECK(contains(r.out, "size=4\n"));
  // Opening for writing needs "w", which the rule does not grant.
  CHECK(contains(r.out, "write=1\n"));
  CHECK(contains(r.out, "Operation not permitted"));
}

TEST_CASE("a deny rule after an allow rule wins") {
  REQUIRE(host_has_dma_latency());
  Bundle b;
  add_capability(b.config, "CAP_MKNOD");
  auto& rules = b.config["linux"]["resources"]["devices"];
  rules.push_back({{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 259}, {"access", "rwm"}});
  rules.push_back({{"allow", false}, {"type", "c"}, {"major", 10}, {"minor", 259}, {"access", "r"}});
  b.sh(kMknodAndRead);
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "mknod=ok\n"));
  CHECK(contains(r.out, "read=1\n"));
  CHECK(contains(r.out, "Operation not permitted"));
  CHECK(contains(r.out, "size=0\n"));
}

TEST_CASE("an allow rule for all devices opens the device") {
  // The counterpart of the deny test: the same device read with a rule
  // that allows everything, so a failure above is the filter's doing.
  REQUIRE(host_has_dma_latency());
  Bundle b;
  add_capability(b.config, "CAP_MKNOD");
  b.config["linux"]["resources"]["devices"] = {{{"allow", true}, {"access", "rwm"}}};
  b.sh("mknod /dev/dma c 10 259 && echo mknod=ok; echo size=$(head -c 4 /dev/dma | wc -c)");
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "mknod=ok\n"));
  CHECK(contains(r.out, "size=4\n"));
}
