// cgroups/resources.hpp without a real cgroup: a temporary directory holds
// the (empty) interface files a cgroup would have, apply() writes into it,
// and the tests read back exactly what a kernel would have been given.
#include "cgroups/resources.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "test_support.hpp"

namespace {

namespace cg = berth::cgroups;
using berth::test::TempDir;

// A directory standing in for one cgroup. Only the files named exist, so a
// write to any other file fails with ENOENT, as on a cgroup whose controller
// is not enabled.
struct FakeCgroup {
  TempDir dir{"berth-cgres"};
  berth::UniqueFd fd;

  explicit FakeCgroup(std::initializer_list<const char*> files) {
    for (const char* f : files) put(f, "");
    fd.reset(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(fd.valid());
  }
  void put(const std::string& name, const std::string& content) const {
    REQUIRE(berth::write_file(dir / name, content, true).ok());
  }
  std::string read(const std::string& name) const { return berth::test::slurp(dir / name); }
};

// Every file apply() may write, as on a cgroup with all controllers enabled
// (no io.bfq.weight: BFQ is not the scheduler, the usual case).
FakeCgroup full_cgroup() {
  return FakeCgroup{"memory.max", "memory.low", "memory.swap.max", "memory.high", "cpu.weight", "cpu.max",
                    "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max",
                    "hugetlb.2MB.max", "rdma.max", "misc.max"};
}

std::string apply_error(const FakeCgroup& c, const cg::Resources& r) {
  auto st = cg::apply(c.fd.get(), r);
  return st.ok() ? "" : st.error().message();
}

cg::Resources with_memory(std::optional<int64_t> limit, std::optional<int64_t> swap,
                          std::optional<int64_t> reservation = std::nullopt) {
  cg::Resources r;
  r.memory = cg::Memory{};
  r.memory->limit = limit;
  r.memory->swap = swap;
  r.memory->reservation = reservation;
  return r;
}

cg::ThrottleDevice dev(int64_t major, int64_t minor, uint64_t rate) { return {major, minor, rate}; }

}  // namespace

// --- conversions ----------------------------------------------------------

TEST_CASE("cpu shares convert to cpu.weight on runc's log-quadratic curve") {
  struct Case {
    uint64_t shares, weight;
  };
  for (auto c : std::vector<Case>{{0, 0},       // not set
                                  {1, 1},       // below the v1 range: clamped
                                  {2, 1},       // v1 minimum -> v2 minimum
                                  {3, 2},       // just above the minimum
                                  {10, 4},      {100, 17},      {512, 59},
                                  {1024, 100},  // v1 default -> v2 default, exactly
                                  {2048, 174},  {4096, 303},    {100000, 4340},
                                  {262143, 10000}, {262144, 10000}, {300000, 10000}}) {
    CAPTURE(c.shares);
    CHECK(cg::cpu_weight_from_shares(c.shares) == c.weight);
  }
}

TEST_CASE("blkio weight converts linearly to io.weight") {
  CHECK(cg::io_weight_from_blkio(0) == 0);
  CHECK(cg::io_weight_from_blkio(10) == 1);
  CHECK(cg::io_weight_from_blkio(11) == 11);
  CHECK(cg::io_weight_from_blkio(100) == 910);
  CHECK(cg::io_weight_from_blkio(500) == 4950);
  CHECK(cg::io_weight_from_blkio(1000) == 10000);
}

TEST_CASE("memory+swap converts to memory.swap.max as swap minus limit") {
  using V = std::optional<std::string>;
  auto value = [](std::optional<int64_t> swap, std::optional<int64_t> limit) -> V {
    auto v = cg::swap_max_value(swap, limit);
    REQUIRE(v.ok());
    return *v;
  };
  CHECK(value(500, 200) == V("300"));
  CHECK(value(2097152, 1048576) == V("1048576"));
  CHECK(value(1000, 1000) == V("0"));  // equal: no swap at all, never "unset"
  CHECK(value(-1, 1000) == V("max"));
  CHECK(value(std::nullopt, -1) == V("max"));  // unlimited memory lifts swap too
  CHECK(value(-1, -1) == V("max"));
  CHECK(value(300, -1) == V("300"));  // unlimited memory: swap taken as is
  CHECK(value(std::nullopt, 1000) == V());
  CHECK(value(0, 1000) == V());
  CHECK(value(std::nullopt, std::nullopt) == V());

  auto below = cg::swap_max_value(300, 400);
  REQUIRE(!below.ok());
  CHECK(below.error().message() ==
        "linux.resources.memory.swap: memory+swap limit (300) must be at least the memory limit (400)");
  auto alone = cg::swap_max_value(300, std::nullopt);
  REQUIRE(!alone.ok());
  CHECK(alone.error().message() == "linux.resources.memory.swap: a memory+swap limit (300) needs a memory limit");
}

TEST_CASE("cpu quota and period make one cpu.max line") {
  using V = std::optional<std::string>;
  CHECK(cg::cpu_max_value(std::nullopt, std::nullopt) == V());
  CHECK(cg::cpu_max_value(0, std::nullopt) == V());
  CHECK(cg::cpu_max_value(50000, std::nullopt) == V("50000 100000"));
  CHECK(cg::cpu_max_value(25000, 50000) == V("25000 50000"));
  CHECK(cg::cpu_max_value(-1, 20000) == V("max 20000"));
  CHECK(cg::cpu_max_value(-1, std::nullopt) == V("max 100000"));
  CHECK(cg::cpu_max_value(std::nullopt, 250000) == V("max 250000"));
}

// --- apply: memory --------------------------------------------------------

TEST_CASE("apply writes memory.max, memory.low and the converted memory.swap.max") {
  auto c = full_cgroup();
  REQUIRE(apply_error(c, with_memory(1048576, 3145728, 524288)) == "");
  CHECK(c.read("memory.max") == "1048576");
  CHECK(c.read("memory.low") == "524288");
  CHECK(c.read("memory.swap.max") == "2097152");
}

TEST_CASE("memory -1 is written as max, and lifts swap with it") {
  auto c = full_cgroup();
  REQUIRE(apply_error(c, with_memory(-1, std::nullopt, -1)) == "");
  CHECK(c.read("memory.max") == "max");
  CHECK(c.read("memory.swap.max") == "max");
  CHECK(c.read("memory.low") == "max");
}

TEST_CASE("swap equal to the limit disables swap; swap -1 leaves it unlimited") {
  auto c = full_cgroup();
  REQUIRE(apply_error(c, with_memory(4194304, 4194304)) == "");
  CHECK(c.read("memory.swap.max") == "0");
  auto d = full_cgroup();
  REQUIRE(apply_error(d, with_memory(4194304, -1)) == "");
  CHECK(d.read("memory.swap.max") == "max");
  CHECK(d.read("memory.max") == "4194304");
}

TEST_CASE("a limit without swap leaves memory.swap.max alone; 0 means not set") {
  auto c = full_cgroup();
  REQUIRE(apply_error(c, with_memory(1048576, std::nullopt, 0)) == "");
  CHECK(c.read("memory.swap.max") == "");
  CHECK(c.read("memory.low") == "");
  auto d = full_cgroup();
  REQUIRE(apply_error(d, with_memory(0, std::nullopt)) == "");
  CHECK(d.read("memory.max") == "");
}

TEST_CASE("without swap accounting only a real swap limit is an error") {
  FakeCgroup c{"memory.max", "memory.low"};
  CHECK(apply_error(c, with_memory(-1, std::nullopt)) == "");
  CHECK(c.read("memory.max") == "max");
  CHECK(apply_error(c, with_memory(1000, 1000)) == "");  // "0" already holds
  CHECK(apply_error(c, with_memory(1048576, 2097152)) ==
        "write memory.swap.max \"1048576\": No such file or directory");
}

TEST_CASE("checkBeforeUpdate refuses a limit at or below the current usage") {
  auto c = full_cgroup();
  c.put("memory.current", "2097152\n");
  auto r = with_memory(1048576, std::nullopt);
  r.memory->check_before_update = true;
  CHECK(apply_error(c, r) ==
        "linux.resources.memory.limit: memory limit 1048576 is not above the current usage 2097152");
  CHECK(c.read("memory.max") == "");
  r.memory->limit = 4194304;
  r.memory->swap = 2097152;
  CHECK(apply_error(c, r) ==
        "linux.resources.memory.swap: memory+swap limit 2097152 is not above the current usage 2097152");
  r.memory->swap = 8388608;
  CHECK(apply_error(c, r) == "");
  CHECK(c.read("memory.max") == "4194304");
  CHECK(c.read("memory.swap.max") == "4194304");
}

TEST_CASE("a failed write names the file, the value and the errno") {
  auto c = full_cgroup();
  ::unlink((c.dir / "memory.max").c_str());
  REQUIRE(::mkdir((c.dir / "memory.max").c_str(), 0755) == 0);
  CHECK(apply_error(c, with_memory(1048576, std::nullopt)) == "write memory.max \"1048576\": Is a directory");
}

// --- apply: cpu, cpuset, pids ----------------------------------------------

TEST_CASE("apply writes cpu.weight, cpu.max and cpu.max.burst") {
  auto c = full_cgroup();
  cg::Resources r;
  r.cpu = cg::Cpu{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 200000;
  r.cpu->burst = 10000;
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("cpu.weight") == "100");
  CHECK(c.read("cpu.max") == "50000 200000");
  CHECK(c.read("cpu.max.burst") == "10000");
  CHECK(c.read("cpu.idle") == "");
  CHECK(c.read("cpuset.cpus") == "");
}

TEST_CASE("cpu shares 512 and 4096 give weights 59 and 303; quota -1 gives max") {
  for (auto [shares, weight] : std::vector<std::pair<uint64_t, std::string>>{{512, "59"}, {4096, "303"}}) {
    auto c = full_cgroup();
    cg::Resources r;
    r.cpu = cg::Cpu{};
    r.cpu->shares = shares;
    r.cpu->quota = -1;
    REQUIRE(apply_error(c, r) == "");
    CHECK(c.read("cpu.weight") == weight);
    CHECK(c.read("cpu.max") == "max 100000");
  }
}

TEST_CASE("an idle cgroup gets cpu.idle and no cpu.weight") {
  auto c = full_cgroup();
  cg::Resources r;
  r.cpu = cg::Cpu{};
  r.cpu->shares = 2048;
  r.cpu->idle = 1;
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("cpu.idle") == "1");
  CHECK(c.read("cpu.weight") == "");
  CHECK(c.read("cpu.max") == "");
  r.cpu->idle = 0;
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("cpu.idle") == "0");
  CHECK(c.read("cpu.weight") == "174");
}

TEST_CASE("apply writes cpuset.cpus and cpuset.mems as given") {
  auto c = full_cgroup();
  cg::Resources r;
  r.cpu = cg::Cpu{};
  r.cpu->cpus = "0-1,3";
  r.cpu->mems = "0";
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("cpuset.cpus") == "0-1,3");
  CHECK(c.read("cpuset.mems") == "0");
  CHECK(c.read("cpu.weight") == "");
}

TEST_CASE("pids.max takes the limit; zero and negative mean max") {
  for (auto [limit, want] : std::vector<std::pair<int64_t, std::string>>{{100, "100"}, {1, "1"}, {0, "max"}, {-1, "max"}}) {
    auto c = full_cgroup();
    cg::Resources r;
    r.pids_limit = limit;
    REQUIRE(apply_error(c, r) == "");
    CHECK(c.read("pids.max") == want);
  }
}

// --- apply: io ----------------------------------------------------------------

TEST_CASE("blkio weight goes to io.weight converted when BFQ is absent") {
  auto c = full_cgroup();
  cg::Resources r;
  r.io = cg::Io{};
  r.io->weight = 500;
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("io.weight") == "4950");
  CHECK(c.read("io.max") == "");
}

TEST_CASE("blkio weight goes to io.bfq.weight unconverted when BFQ is there") {
  auto c = full_cgroup();
  c.put("io.bfq.weight", "default 100\n");
  cg::Resources r;
  r.io = cg::Io{};
  r.io->weight = 500;
  r.io->weight_device = {{8, 0, 300, std::nullopt}, {8, 16, 10, std::nullopt}};
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("io.bfq.weight") == "500\n8:0 300\n8:16 10\n");
  CHECK(c.read("io.weight") == "");
}

TEST_CASE("device weights fall back to io.weight lines without per-device BFQ") {
  auto c = full_cgroup();
  c.put("io.bfq.weight", "100\n");  // a kernel before 5.4: one number only
  cg::Resources r;
  r.io = cg::Io{};
  r.io->weight = 100;
  r.io->weight_device = {{8, 0, 1000, std::nullopt}};
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("io.bfq.weight") == "100");
  CHECK(c.read("io.weight") == "8:0 10000");

  auto d = full_cgroup();
  r.io->weight = 10;
  r.io->weight_device = {{8, 0, 1000, std::nullopt}, {259, 1, 100, std::nullopt}};
  REQUIRE(apply_error(d, r) == "");
  CHECK(d.read("io.weight") == "1\n8:0 10000\n259:1 910\n");
}

TEST_CASE("io.max gets one line per device with only the keys that were set") {
  auto c = full_cgroup();
  cg::Resources r;
  r.io = cg::Io{};
  r.io->throttle_read_bps = {dev(8, 0, 1048576)};
  r.io->throttle_write_bps = {dev(8, 0, 2097152), dev(8, 16, 0)};  // rate 0: not set
  r.io->throttle_read_iops = {dev(8, 16, 100)};
  r.io->throttle_write_iops = {dev(253, 1, 50), dev(8, 0, 200)};
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("io.max") == "8:0 rbps=1048576 wbps=2097152 wiops=200\n8:16 riops=100\n253:1 wiops=50\n");
  CHECK(c.read("io.weight") == "");
}

TEST_CASE("a device listed twice for one key keeps the later rate") {
  auto c = full_cgroup();
  cg::Resources r;
  r.io = cg::Io{};
  r.io->throttle_read_bps = {dev(8, 0, 1000), dev(8, 0, 3000)};
  r.io->throttle_write_bps = {dev(8, 0, 2000)};
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("io.max") == "8:0 rbps=3000 wbps=2000\n");
}

TEST_CASE("throttling without the io controller fails naming io.max") {
  FakeCgroup c{"memory.max"};
  cg::Resources r;
  r.io = cg::Io{};
  r.io->throttle_read_iops = {dev(8, 0, 10)};
  CHECK(apply_error(c, r) == "write io.max \"8:0 riops=10\": No such file or directory");
  r.io->throttle_read_iops = {dev(8, 0, 0)};  // nothing set: nothing touched
  CHECK(apply_error(c, r) == "");
}

// --- apply: hugetlb, rdma ------------------------------------------------------

TEST_CASE("hugepage limits go to hugetlb.<size>.max, and .rsvd.max where it exists") {
  auto c = full_cgroup();
  c.put("hugetlb.1GB.max", "");
  c.put("hugetlb.1GB.rsvd.max", "");
  cg::Resources r;
  r.hugepages = {{"2MB", 4194304}, {"1GB", 1073741824}};
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("hugetlb.2MB.max") == "4194304");
  CHECK(!berth::path_exists(c.dir / "hugetlb.2MB.rsvd.max"));
  CHECK(c.read("hugetlb.1GB.max") == "1073741824");
  CHECK(c.read("hugetlb.1GB.rsvd.max") == "1073741824");
}

TEST_CASE("a page size the cgroup has no file for is an error naming the file") {
  auto c = full_cgroup();
  cg::Resources r;
  r.hugepages = {{"16GB", 17179869184ULL}};
  CHECK(apply_error(c, r) == "write hugetlb.16GB.max \"17179869184\": No such file or directory");
}

TEST_CASE("rdma.max gets one line per device with the limits that were set") {
  auto c = full_cgroup();
  cg::Resources r;
  r.rdma["mlx5_0"] = {3, 100};
  r.rdma["mlx5_1"] = {std::nullopt, 5};
  r.rdma["mlx5_2"] = {};  // nothing to limit
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("rdma.max") == "mlx5_0 hca_handle=3 hca_object=100\nmlx5_1 hca_object=5\n");
}

// --- apply: unified --------------------------------------------------------------

TEST_CASE("unified values are written after the typed ones and override them") {
  auto c = full_cgroup();
  auto r = with_memory(1048576, std::nullopt);
  r.unified["memory.max"] = "2097152";
  r.unified["memory.high"] = "1572864";
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("memory.max") == "2097152");
  CHECK(c.read("memory.high") == "1572864");
}

TEST_CASE("a multi-line unified value is written one entry per line; an empty one is skipped") {
  auto c = full_cgroup();
  cg::Resources r;
  r.unified["io.max"] = "8:0 rbps=1000\n8:16 wiops=5\n";
  r.unified["misc.max"] = "";
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("io.max") == "8:0 rbps=1000\n8:16 wiops=5\n");
  CHECK(c.read("misc.max") == "");
}

TEST_CASE("a unified key without a file in the cgroup is an error naming it") {
  auto c = full_cgroup();
  cg::Resources r;
  r.unified["memory.oom.group"] = "1";
  CHECK(apply_error(c, r) ==
        "linux.resources.unified[\"memory.oom.group\"]: write memory.oom.group \"1\": No such file or directory");
}

TEST_CASE("apply refuses a unified key that is not a plain file name") {
  auto c = full_cgroup();
  for (const char* key : {"../memory.max", "a/b", "memory", ""}) {
    CAPTURE(key);
    cg::Resources r;
    r.unified[key] = "1";
    CHECK(apply_error(c, r) == berth::cat("linux.resources.unified[", berth::quote(key), "]: invalid key"));
  }
}

TEST_CASE("absent groups write nothing, even where no file exists") {
  FakeCgroup c{};
  CHECK(apply_error(c, cg::Resources{}) == "");
  cg::Resources r;
  r.memory = cg::Memory{};
  r.cpu = cg::Cpu{};
  r.io = cg::Io{};
  CHECK(apply_error(c, r) == "");
}

TEST_CASE("apply writes every group of a full config in one call") {
  auto c = full_cgroup();
  auto r = with_memory(268435456, 536870912, 134217728);
  r.cpu = cg::Cpu{};
  r.cpu->shares = 2;
  r.cpu->quota = 150000;
  r.cpu->cpus = "0";
  r.pids_limit = 64;
  r.io = cg::Io{};
  r.io->weight = 1000;
  r.io->throttle_write_bps = {dev(8, 0, 4096)};
  r.hugepages = {{"2MB", 0}};
  r.rdma["hfi1_0"] = {1, 2};
  r.unified["memory.high"] = "200000000";
  REQUIRE(apply_error(c, r) == "");
  CHECK(c.read("memory.max") == "268435456");
  CHECK(c.read("memory.swap.max") == "268435456");
  CHECK(c.read("memory.low") == "134217728");
  CHECK(c.read("cpu.weight") == "1");
  CHECK(c.read("cpu.max") == "150000 100000");
  CHECK(c.read("cpuset.cpus") == "0");
  CHECK(c.read("pids.max") == "64");
  CHECK(c.read("io.weight") == "10000");
  CHECK(c.read("io.max") == "8:0 wbps=4096\n");
  CHECK(c.read("hugetlb.2MB.max") == "0");
  CHECK(c.read("rdma.max") == "hfi1_0 hca_handle=1 hca_object=2\n");
  CHECK(c.read("memory.high") == "200000000");
}

// --- controllers_needed ----------------------------------------------------------

TEST_CASE("controllers_needed lists the controllers of the set values, in order") {
  cg::Resources r;
  CHECK(cg::controllers_needed(r).empty());
  r.memory = cg::Memory{};
  r.cpu = cg::Cpu{};
  r.io = cg::Io{};
  CHECK(cg::controllers_needed(r).empty());  // empty groups need nothing

  r.unified["misc.max"] = "res_a 1";
  r.unified["memory.high"] = "1000";
  r.unified["cgroup.freeze"] = "0";  // core file: no controller
  r.rdma["mlx5_0"] = {1, std::nullopt};
  r.hugepages = {{"2MB", 0}};
  r.io->throttle_read_bps = {dev(8, 0, 1)};
  r.pids_limit = 0;
  r.cpu->cpus = "0";
  r.cpu->shares = 1024;
  r.memory->limit = -1;
  CHECK(cg::controllers_needed(r) ==
        std::vector<std::string>{"memory", "cpu", "cpuset", "pids", "io", "hugetlb", "rdma", "misc"});
}

TEST_CASE("controllers_needed: cpuset alone, io weight alone, unified alone") {
  cg::Resources r;
  r.cpu = cg::Cpu{};
  r.cpu->mems = "0";
  CHECK(cg::controllers_needed(r) == std::vector<std::string>{"cpuset"});
  cg::Resources s;
  s.io = cg::Io{};
  s.io->weight_device = {{8, 0, 100, std::nullopt}};
  CHECK(cg::controllers_needed(s) == std::vector<std::string>{"io"});
  cg::Resources u;
  u.unified["cpu.uclamp.min"] = "10";
  u.unified["cpu.uclamp.max"] = "90";
  u.unified["cgroup.max.depth"] = "2";
  CHECK(cg::controllers_needed(u) == std::vector<std::string>{"cpu"});
  cg::Resources idle;
  idle.cpu = cg::Cpu{};
  idle.cpu->idle = 0;
  CHECK(cg::controllers_needed(idle) == std::vector<std::string>{"cpu"});
}

// --- enable_controllers, check_available ----------------------------------------

namespace {

// /root with cgroup.controllers "cpu memory pids" and a nested a/b/c, each
// with a cgroup.subtree_control holding what is already enabled there.
struct FakeHierarchy {
  TempDir dir{"berth-cghier"};
  FakeHierarchy(const std::string& root_enabled, const std::string& a_enabled, const std::string& b_enabled) {
    REQUIRE(berth::mkdir_all(dir / "a/b/c", 0755).ok());
    put("cgroup.controllers", "cpu memory pids\n");
    put("cgroup.subtree_control", root_enabled);
    put("a/cgroup.subtree_control", a_enabled);
    put("a/b/cgroup.subtree_control", b_enabled);
    put("a/b/c/cgroup.subtree_control", "untouched");
  }
  void put(const std::string& rel, const std::string& content) const {
    REQUIRE(berth::write_file(dir / rel, content, true).ok());
  }
  std::string read(const std::string& rel) const { return berth::test::slurp(dir / rel); }
  std::string enable(const std::string& rel_path, const std::vector<std::string>& controllers) const {
    auto st = cg::enable_controllers(dir.path(), rel_path, controllers);
    return st.ok() ? "" : st.error().message();
  }
};

}  // namespace

TEST_CASE("enable_controllers writes +name down to the parent, only where missing") {
  FakeHierarchy h("cpu\n", "", "memory\n");
  REQUIRE(h.enable("/a/b/c", {"memory", "pids"}) == "");
  CHECK(h.read("cgroup.subtree_control") == "+memory +pids");
  CHECK(h.read("a/cgroup.subtree_control") == "+memory +pids");
  CHECK(h.read("a/b/cgroup.subtree_control") == "+pids");
  CHECK(h.read("a/b/c/cgroup.subtree_control") == "untouched");  // the cgroup itself
}

TEST_CASE("enable_controllers leaves levels that have everything untouched") {
  FakeHierarchy h("cpu memory pids\n", "memory pids\n", "cpu memory pids\n");
  REQUIRE(h.enable("/a/b/c", {"memory", "pids"}) == "");
  CHECK(h.read("cgroup.subtree_control") == "cpu memory pids\n");
  CHECK(h.read("a/cgroup.subtree_control") == "memory pids\n");
  CHECK(h.read("a/b/cgroup.subtree_control") == "cpu memory pids\n");
}

TEST_CASE("enable_controllers for a first-level cgroup touches only the root") {
  FakeHierarchy h("", "", "");
  REQUIRE(h.enable("a", {"cpu"}) == "");  // relative paths are taken from the root
  CHECK(h.read("cgroup.subtree_control") == "+cpu");
  CHECK(h.read("a/cgroup.subtree_control") == "");
  REQUIRE(h.enable("/", {"cpu"}) == "");
}

TEST_CASE("enable_controllers refuses a controller the host lacks and writes nothing") {
  FakeHierarchy h("", "", "");
  CHECK(h.enable("/a/b/c", {"memory", "io"}) == "cgroup v2 controller \"io\" is not available on this host");
  CHECK(h.read("cgroup.subtree_control") == "");
  CHECK(h.read("a/cgroup.subtree_control") == "");
}

TEST_CASE("enable_controllers with nothing to enable reads nothing") {
  TempDir empty("berth-cgempty");
  CHECK(cg::enable_controllers(empty.path(), "/a/b", {}).ok());
}

TEST_CASE("enable_controllers names the subtree_control file it could not write") {
  FakeHierarchy h("", "", "");
  ::unlink((h.dir / "a/cgroup.subtree_control").c_str());
  std::string err = h.enable("/a/b/c", {"pids"});
  CHECK(err == berth::cat("open ", h.dir / "a/cgroup.subtree_control", ": No such file or directory"));
  CHECK(h.read("cgroup.subtree_control") == "+pids");
}

TEST_CASE("check_available names the first missing controller") {
  FakeHierarchy h("", "", "");
  CHECK(cg::check_available(h.dir.path(), {"cpu", "pids"}).ok());
  CHECK(cg::check_available(h.dir.path(), {}).ok());
  auto st = cg::check_available(h.dir.path(), {"pids", "hugetlb", "memory"});
  REQUIRE(!st.ok());
  CHECK(st.error().message() == "cgroup v2 controller \"hugetlb\" is not available on this host");
}

// --- validate ------------------------------------------------------------------------

TEST_CASE("validate accepts a config with every group set to sane values") {
  auto r = with_memory(268435456, -1, 1048576);
  r.memory->use_hierarchy = true;
  r.cpu = cg::Cpu{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 50000;
  r.cpu->idle = 0;
  r.cpu->cpus = "0-3,5,7-7";
  r.cpu->mems = "0";
  r.pids_limit = -1;
  r.io = cg::Io{};
  r.io->weight = 10;
  r.io->weight_device = {{8, 0, 1000, std::nullopt}};
  r.io->throttle_read_bps = {dev(8, 0, 1)};
  r.hugepages = {{"2MB", 0}, {"1GB", 0}, {"64KB", 0}};
  r.rdma["mlx5_0"] = {1, 1};
  r.unified["memory.high"] = "max";
  r.unified["cgroup.max.depth"] = "3";
  auto st = cg::validate(r);
  CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message()));
}

TEST_CASE("validate refuses bad values with a message naming the field") {
  struct Case {
    const char* what;
    cg::Resources r;
    std::string message;
  };
  auto cpu = [](auto set) {
    cg::Resources r;
    r.cpu = cg::Cpu{};
    set(*r.cpu);
    return r;
  };
  auto mem = [](auto set) {
    cg::Resources r;
    r.memory = cg::Memory{};
    set(*r.memory);
    return r;
  };
  auto io = [](auto set) {
    cg::Resources r;
    r.io = cg::Io{};
    set(*r.io);
    return r;
  };
  auto unified = [](const std::string& key) {
    cg::Resources r;
    r.unified[key] = "1";
    return r;
  };
  auto pages = [](const std::string& size) {
    cg::Resources r;
    r.hugepages = {{"2MB", 1}, {size, 1}};
    return r;
  };
  std::vector<Case> cases = {
      {"swap below limit", with_memory(400, 300),
       "linux.resources.memory.swap: memory+swap limit (300) must be at least the memory limit (400)"},
      {"swap without limit", with_memory(std::nullopt, 300),
       "linux.resources.memory.swap: a memory+swap limit (300) needs a memory limit"},
      {"negative limit", with_memory(-2, std::nullopt),
       "linux.resources.memory.limit: invalid value -2 (want bytes, or -1 for no limit)"},
      {"negative reservation", with_memory(std::nullopt, std::nullopt, -5),
       "linux.resources.memory.reservation: invalid value -5 (want bytes, or -1 for no limit)"},
      {"negative swap", with_memory(1000, -3),
       "linux.resources.memory.swap: invalid value -3 (want bytes, or -1 for no limit)"},
      {"kernel memory", mem([](cg::Memory& m) { m.kernel = 1048576; }),
       "linux.resources.memory.kernel: kernel memory limits do not exist in cgroup v2"},
      {"kernel tcp", mem([](cg::Memory& m) { m.kernel_tcp = 1048576; }),
       "linux.resources.memory.kernelTCP: kernel TCP memory limits do not exist in cgroup v2"},
      {"swappiness", mem([](cg::Memory& m) { m.swappiness = 60; }),
       "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness"},
      {"oom killer", mem([](cg::Memory& m) { m.disable_oom_killer = true; }),
       "linux.resources.memory.disableOOMKiller: the OOM killer cannot be disabled in cgroup v2"},
      {"hierarchy", mem([](cg::Memory& m) { m.use_hierarchy = false; }),
       "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical"},
      {"shares too low", cpu([](cg::Cpu& c) { c.shares = 1; }),
       "linux.resources.cpu.shares: 1 is out of range [2, 262144]"},
      {"shares too high", cpu([](cg::Cpu& c) { c.shares = 262145; }),
       "linux.resources.cpu.shares: 262145 is out of range [2, 262144]"},
      {"negative quota", cpu([](cg::Cpu& c) { c.quota = -2; }),
       "linux.resources.cpu.quota: invalid value -2 (want -1 for no limit)"},
      {"tiny quota", cpu([](cg::Cpu& c) { c.quota = 999; }),
       "linux.resources.cpu.quota: 999 is below the kernel's minimum of 1000 microseconds"},
      {"short period", cpu([](cg::Cpu& c) { c.period = 999; }),
       "linux.resources.cpu.period: 999 is out of range [1000, 1000000] microseconds"},
      {"long period", cpu([](cg::Cpu& c) { c.period = 1000001; }),
       "linux.resources.cpu.period: 1000001 is out of range [1000, 1000000] microseconds"},
      {"burst over quota",
       cpu([](cg::Cpu& c) {
         c.quota = 10000;
         c.burst = 20000;
       }),
       "linux.resources.cpu.burst: 20000 exceeds the quota (10000)"},
      {"idle 2", cpu([](cg::Cpu& c) { c.idle = 2; }), "linux.resources.cpu.idle: invalid value 2 (want 0 or 1)"},
      {"idle -1", cpu([](cg::Cpu& c) { c.idle = -1; }), "linux.resources.cpu.idle: invalid value -1 (want 0 or 1)"},
      {"realtime runtime", cpu([](cg::Cpu& c) { c.realtime_runtime = 950000; }),
       "linux.resources.cpu.realtimeRuntime: real-time CPU limits do not exist in cgroup v2"},
      {"realtime period", cpu([](cg::Cpu& c) { c.realtime_period = 1000000; }),
       "linux.resources.cpu.realtimePeriod: real-time CPU limits do not exist in cgroup v2"},
      {"open range", cpu([](cg::Cpu& c) { c.cpus = "0-"; }),
       "linux.resources.cpu.cpus: invalid CPU list \"0-\" (want e.g. \"0-3,5\")"},
      {"descending range", cpu([](cg::Cpu& c) { c.cpus = "3-1"; }),
       "linux.resources.cpu.cpus: invalid CPU list \"3-1\" (want e.g. \"0-3,5\")"},
      {"empty item", cpu([](cg::Cpu& c) { c.cpus = "0,,2"; }),
       "linux.resources.cpu.cpus: invalid CPU list \"0,,2\" (want e.g. \"0-3,5\")"},
      {"blank in list", cpu([](cg::Cpu& c) { c.cpus = "0, 1"; }),
       "linux.resources.cpu.cpus: invalid CPU list \"0, 1\" (want e.g. \"0-3,5\")"},
      {"letters in mems", cpu([](cg::Cpu& c) { c.mems = "node0"; }),
       "linux.resources.cpu.mems: invalid memory node list \"node0\" (want e.g. \"0-1\")"},
      {"blkio weight low", io([](cg::Io& i) { i.weight = 5; }),
       "linux.resources.blockIO.weight: 5 is out of range [10, 1000]"},
      {"blkio weight high", io([](cg::Io& i) { i.weight = 1001; }),
       "linux.resources.blockIO.weight: 1001 is out of range [10, 1000]"},
      {"leaf weight", io([](cg::Io& i) { i.leaf_weight = 500; }),
       "linux.resources.blockIO.leafWeight: leaf weights do not exist in cgroup v2"},
      {"device weight", io([](cg::Io& i) { i.weight_device = {{8, 0, 1, std::nullopt}}; }),
       "linux.resources.blockIO.weightDevice[0].weight: 1 is out of range [10, 1000]"},
      {"device leaf weight", io([](cg::Io& i) { i.weight_device = {{8, 0, 100, 100}}; }),
       "linux.resources.blockIO.weightDevice[0].leafWeight: leaf weights do not exist in cgroup v2"},
      {"negative device major", io([](cg::Io& i) { i.weight_device = {{-1, 0, 100, std::nullopt}}; }),
       "linux.resources.blockIO.weightDevice[0].major: invalid value -1"},
      {"negative throttle minor", io([](cg::Io& i) { i.throttle_write_iops = {dev(8, 0, 1), dev(8, -16, 1)}; }),
       "linux.resources.blockIO.throttleWriteIOPSDevice[1].minor: invalid value -16"},
      {"page size without unit", pages("2048"),
       "linux.resources.hugepageLimits[1].pageSize: invalid page size \"2048\" (want e.g. \"2MB\", \"1GB\", \"64KB\")"},
      {"page size in kernel file form", pages("2M"),
       "linux.resources.hugepageLimits[1].pageSize: invalid page size \"2M\" (want e.g. \"2MB\", \"1GB\", \"64KB\")"},
      {"page size zero", pages("0MB"),
       "linux.resources.hugepageLimits[1].pageSize: invalid page size \"0MB\" (want e.g. \"2MB\", \"1GB\", \"64KB\")"},
      {"page size with dot", pages("2.MB"),
       "linux.resources.hugepageLimits[1].pageSize: invalid page size \"2.MB\" (want e.g. \"2MB\", \"1GB\", \"64KB\")"},
      {"slash in unified key", unified("a/b"),
       "linux.resources.unified[\"a/b\"]: invalid key (want a file name of the form CONTROLLER.PARAMETER, without "
       "\"/\")"},
      {"dotdot unified key", unified(".."),
       "linux.resources.unified[\"..\"]: invalid key (want a file name of the form CONTROLLER.PARAMETER, without "
       "\"/\")"},
      {"no parameter", unified("memory"),
       "linux.resources.unified[\"memory\"]: invalid key (want a file name of the form CONTROLLER.PARAMETER, without "
       "\"/\")"},
      {"empty key", unified(""),
       "linux.resources.unified[\"\"]: invalid key (want a file name of the form CONTROLLER.PARAMETER, without "
       "\"/\")"},
  };
  cg::Resources bad_rdma;
  bad_rdma.rdma["mlx5 0"] = {1, 1};
  cases.push_back({"rdma name with blank", bad_rdma, "linux.resources.rdma[\"mlx5 0\"]: invalid device name"});
  CHECK(cases.size() >= 20);
  for (const auto& c : cases) {
    CAPTURE(c.what);
    auto st = cg::validate(c.r);
    REQUIRE(!st.ok());
    CHECK(st.error().message() == c.message);
  }
}

TEST_CASE("valid_id_list accepts the kernel's list forms") {
  for (const char* ok : {"0", "0-3", "0-3,5", "1,3,5", "0-0", "2-7,9-11,63"}) {
    CAPTURE(ok);
    CHECK(cg::valid_id_list(ok));
  }
  for (const char* bad : {"", ",", "0,", "-1", "1-", "a", "1-2-3", " 1", "1 "}) {
    CAPTURE(bad);
    CHECK(!cg::valid_id_list(bad));
  }
}
