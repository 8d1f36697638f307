// cgroups/stats.hpp and the file-reading half of cgroups/freezer.hpp against
// fixture directories holding what a cgroup v2 kernel (6.x) shows in those
// files, and the `runc events --stats` JSON made from them.
#include "cgroups/stats.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cgroups/freezer.hpp"
#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "test_support.hpp"

namespace {

namespace cg = berth::cgroups;
using berth::test::TempDir;
using Json = nlohmann::json;

constexpr uint64_t kMax = UINT64_MAX;

struct FakeCgroup {
  TempDir dir{"berth-cgstats"};
  berth::UniqueFd fd;
  FakeCgroup() {
    fd.reset(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(fd.valid());
  }
  void put(const std::string& name, const std::string& content) const {
    REQUIRE(berth::write_file(dir / name, content, true).ok());
  }
  cg::Stats stats() const {
    auto s = cg::read_stats(fd.get());
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message()));
    return *s;
  }
  Json json(const std::string& id = "c1") const {
    std::string text = cg::stats_json(id, stats());
    REQUIRE(!text.empty());
    return Json::parse(text);
  }
};

constexpr const char* kCpuStat =
    "usage_usec 1523456\n"
    "user_usec 1023456\n"
    "system_usec 500000\n"
    "core_sched.force_idle_usec 0\n"
    "nr_periods 120\n"
    "nr_throttled 7\n"
    "throttled_usec 35000\n"
    "nr_bursts 0\n"
    "burst_usec 0\n";

constexpr const char* kMemoryStat =
    "anon 4321280\n"
    "file 12288000\n"
    "kernel 802816\n"
    "kernel_stack 49152\n"
    "pagetables 110592\n"
    "sec_pagetables 0\n"
    "percpu 2880\n"
    "sock 0\n"
    "vmalloc 0\n"
    "shmem 0\n"
    "zswap 0\n"
    "zswapped 0\n"
    "file_mapped 5591040\n"
    "file_dirty 0\n"
    "file_writeback 0\n"
    "swapcached 0\n"
    "anon_thp 0\n"
    "inactive_anon 4308992\n"
    "active_anon 12288\n"
    "inactive_file 8794112\n"
    "active_file 3493888\n"
    "unevictable 0\n"
    "slab_reclaimable 361264\n"
    "slab_unreclaimable 215632\n"
    "slab 576896\n"
    "workingset_refault_anon 0\n"
    "pgfault 5436\n"
    "pgmajfault 12\n"
    "thp_fault_alloc 0\n";

constexpr const char* kMemoryEvents =
    "low 0\n"
    "high 0\n"
    "max 12\n"
    "oom 2\n"
    "oom_kill 1\n"
    "oom_group_kill 0\n";

constexpr const char* kIoStat =
    "8:0 rbytes=1228800 wbytes=4096 rios=37 wios=1 dbytes=0 dios=0\n"
    "253:1 rbytes=0 wbytes=65536 rios=0 wios=16 dbytes=0 dios=0\n";

// A cgroup with every controller enabled and some usage.
struct BusyCgroup : FakeCgroup {
  BusyCgroup() {
    const FakeCgroup& c = *this;
    c.put("cpu.stat", kCpuStat);
    c.put("memory.current", "10485760\n");
    c.put("memory.max", "52428800\n");
    c.put("memory.peak", "15728640\n");
    c.put("memory.swap.current", "1048576\n");
    c.put("memory.swap.max", "max\n");
    c.put("memory.stat", kMemoryStat);
    c.put("memory.events", kMemoryEvents);
    c.put("pids.current", "3\n");
    c.put("pids.max", "max\n");
    c.put("io.stat", kIoStat);
    c.put("hugetlb.2MB.current", "2097152\n");
    c.put("hugetlb.2MB.max", "max\n");
    c.put("hugetlb.2MB.events", "max 3\n");
    c.put("hugetlb.2MB.rsvd.current", "0\n");
    c.put("hugetlb.2MB.rsvd.max", "max\n");
    c.put("hugetlb.1GB.current", "0\n");
    c.put("hugetlb.1GB.max", "0\n");
    c.put("hugetlb.1GB.events", "max 0\n");
    c.put("cgroup.procs", "412\n413\n414\n");
  }
};

}  // namespace

TEST_CASE("read_stats reads every controller's files") {
  auto s = BusyCgroup().stats();
  REQUIRE(s.cpu);
  CHECK(s.cpu->usage_usec == 1523456);
  CHECK(s.cpu->user_usec == 1023456);
  CHECK(s.cpu->system_usec == 500000);
  CHECK(s.cpu->nr_periods == 120);
  CHECK(s.cpu->nr_throttled == 7);
  CHECK(s.cpu->throttled_usec == 35000);
  REQUIRE(s.memory);
  CHECK(s.memory->current == 10485760);
  CHECK(s.memory->max == 52428800);
  CHECK(s.memory->peak == 15728640);
  CHECK(s.memory->swap_current == 1048576);
  CHECK(s.memory->swap_max == kMax);
  CHECK(s.memory->stat.size() == 29);
  CHECK(s.memory->stat.at("file") == 12288000);
  CHECK(s.memory->oom == 2);
  CHECK(s.memory->oom_kill == 1);
  REQUIRE(s.pids);
  CHECK(s.pids->current == 3);
  CHECK(s.pids->max == kMax);
  REQUIRE(s.io.size() == 2);
  CHECK(s.io[0].major == 8);
  CHECK(s.io[0].minor == 0);
  CHECK(s.io[0].rbytes == 1228800);
  CHECK(s.io[0].wios == 1);
  CHECK(s.io[1].major == 253);
  CHECK(s.io[1].wbytes == 65536);
  REQUIRE(s.hugetlb.size() == 2);  // the .rsvd files are not a page size
  CHECK(s.hugetlb.at("2MB").current == 2097152);
  CHECK(s.hugetlb.at("2MB").max == kMax);
  CHECK(s.hugetlb.at("2MB").failcnt == 3);
  CHECK(s.hugetlb.at("1GB").max == 0);
}

TEST_CASE("stats_json has runc's event shape and key order") {
  std::string text = cg::stats_json("web-1", BusyCgroup().stats());
  CHECK(text.rfind(R"({"type":"stats","id":"web-1","data":{"cpu":{"usage":{"total":1523456000,)", 0) == 0);
  auto j = Json::parse(text);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j["data"].items()) keys.push_back(k);
  // nlohmann::json sorts; compare as sets, order is checked on the text.
  CHECK(keys == std::vector<std::string>{"blkio", "cpu", "cpuset", "hugetlb", "intel_rdt", "memory",
                                         "network_interfaces", "pids"});
  auto pos = [&](const char* k) { return text.find(berth::cat("\"", k, "\":")); };
  CHECK(pos("cpu") < pos("cpuset"));
  CHECK(pos("cpuset") < pos("memory"));
  CHECK(pos("memory") < pos("pids"));
  CHECK(pos("pids") < pos("blkio"));
  CHECK(pos("blkio") < pos("hugetlb"));
  CHECK(pos("hugetlb") < pos("intel_rdt"));
  CHECK(pos("intel_rdt") < pos("network_interfaces"));
  CHECK(j["data"]["intel_rdt"] == Json::object());
  CHECK(j["data"]["network_interfaces"].is_null());
}

TEST_CASE("stats_json reports cpu times in nanoseconds") {
  auto d = BusyCgroup().json()["data"];
  CHECK(d["cpu"]["usage"] == Json{{"total", 1523456000}, {"kernel", 500000000}, {"user", 1023456000}});
  CHECK(d["cpu"]["throttling"] ==
        Json{{"periods", 120}, {"throttledPeriods", 7}, {"throttledTime", 35000000}});
  CHECK(!d["cpu"]["usage"].contains("percpu"));  // cgroup v2 has no per-CPU usage
}

TEST_CASE("stats_json reports memory with swap as memory+swap, as runc does") {
  auto m = BusyCgroup().json()["data"]["memory"];
  CHECK(m["cache"] == 12288000);  // memory.stat "file"
  CHECK(m["usage"] == Json{{"limit", 52428800}, {"usage", 10485760}, {"max", 15728640}, {"failcnt", 0}});
  CHECK(m["swap"] == Json{{"limit", kMax}, {"usage", 11534336}, {"failcnt", 0}});
  CHECK(m["kernel"] == Json{{"limit", 0}, {"failcnt", 0}});
  CHECK(m["kernelTCP"] == Json{{"limit", 0}, {"failcnt", 0}});
  CHECK(m["raw"].size() == 29);
  CHECK(m["raw"]["anon"] == 4321280);
  CHECK(m["raw"]["pgmajfault"] == 12);
  CHECK(m["raw"]["sock"] == 0);
}

TEST_CASE("a swap limit adds the memory limit; an unlimited sum stays unlimited") {
  FakeCgroup c;
  c.put("memory.current", "100\n");
  c.put("memory.max", "1000\n");
  c.put("memory.swap.current", "10\n");
  c.put("memory.swap.max", "500\n");
  CHECK(c.json()["data"]["memory"]["swap"] == Json{{"limit", 1500}, {"usage", 110}, {"failcnt", 0}});
  c.put("memory.max", "max\n");
  CHECK(c.json()["data"]["memory"]["swap"]["limit"] == kMax);
  CHECK(c.json()["data"]["memory"]["usage"]["limit"] == kMax);
}

TEST_CASE("without swap accounting the swap entry is the memory entry") {
  FakeCgroup c;
  c.put("memory.current", "4096\n");
  c.put("memory.max", "8192\n");
  auto m = c.json()["data"]["memory"];
  CHECK(m["swap"] == Json{{"limit", 8192}, {"usage", 4096}, {"failcnt", 0}});
  CHECK(!m.contains("raw"));
  CHECK(!m.contains("cache"));
  CHECK(m["usage"] == Json{{"limit", 8192}, {"usage", 4096}, {"failcnt", 0}});  // no memory.peak: no "max"
}

TEST_CASE("stats_json reports pids, with no limit as an absent limit") {
  BusyCgroup c;
  CHECK(c.json()["data"]["pids"] == Json{{"current", 3}});
  c.put("pids.max", "100\n");
  CHECK(c.json()["data"]["pids"] == Json{{"current", 3}, {"limit", 100}});
}

TEST_CASE("stats_json maps io.stat to runc's blkio tables") {
  auto b = BusyCgroup().json()["data"]["blkio"];
  // Go's omitempty drops the zero minor of 8:0 and the zero values.
  CHECK(b["ioServiceBytesRecursive"] == Json::parse(R"([
    {"major":8,"op":"Read","value":1228800},{"major":8,"op":"Write","value":4096},
    {"major":253,"minor":1,"op":"Read"},{"major":253,"minor":1,"op":"Write","value":65536}])"));
  CHECK(b["ioServicedRecursive"] == Json::parse(R"([
    {"major":8,"op":"Read","value":37},{"major":8,"op":"Write","value":1},
    {"major":253,"minor":1,"op":"Read"},{"major":253,"minor":1,"op":"Write","value":16}])"));
}

TEST_CASE("stats_json reports hugetlb usage and failures per page size") {
  auto h = BusyCgroup().json()["data"]["hugetlb"];
  CHECK(h == Json{{"1GB", {{"failcnt", 0}}}, {"2MB", {{"usage", 2097152}, {"failcnt", 3}}}});
}

TEST_CASE("an empty cgroup directory gives zero stats, not an error") {
  FakeCgroup c;
  auto s = c.stats();
  CHECK(!s.cpu);
  CHECK(!s.memory);
  CHECK(!s.pids);
  CHECK(s.io.empty());
  CHECK(s.hugetlb.empty());
  CHECK(cg::stats_json("x", s) ==
        R"({"type":"stats","id":"x","data":{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},)"
        R"("cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,)"
        R"("memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,)"
        R"("sched_relax_domain_level":0},"memory":{"usage":{"limit":0,"failcnt":0},)"
        R"("swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},)"
        R"("pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}})");
}

TEST_CASE("a hybrid host's cgroup (cpu.stat and cgroup.procs only) counts its processes") {
  FakeCgroup c;
  c.put("cpu.stat", "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\n");
  c.put("cgroup.procs", "100\n101\n");
  auto s = c.stats();
  REQUIRE(s.cpu);
  CHECK(s.cpu->usage_usec == 2000);
  CHECK(s.cpu->nr_periods == 0);
  REQUIRE(s.pids);
  CHECK(s.pids->current == 2);
  CHECK(s.pids->max == 0);
  CHECK(!s.memory);
  auto d = c.json()["data"];
  CHECK(d["cpu"]["usage"] == Json{{"total", 2000000}, {"kernel", 500000}, {"user", 1500000}});
  CHECK(d["cpu"]["throttling"] == Json::object());
  CHECK(d["pids"] == Json{{"current", 2}});
}

TEST_CASE("malformed stats files are errors naming the file") {
  FakeCgroup c;
  c.put("cpu.stat", "usage_usec 12x\n");
  auto s = cg::read_stats(c.fd.get());
  REQUIRE(!s.ok());
  CHECK(s.error().message() == "parse cpu.stat: invalid content \"12x\"");
  FakeCgroup d;
  d.put("memory.current", "lots\n");
  auto t = cg::read_stats(d.fd.get());
  REQUIRE(!t.ok());
  CHECK(t.error().message() == "parse memory.current: invalid content \"lots\"");
  FakeCgroup e;
  e.put("io.stat", "sda rbytes=1\n");
  auto u = cg::read_stats(e.fd.get());
  REQUIRE(!u.ok());
  CHECK(u.error().message() == "parse io.stat: invalid content \"sda rbytes=1\"");
}

TEST_CASE("stats_json escapes the id instead of failing") {
  auto j = Json::parse(cg::stats_json("a\"b\\c", cg::Stats{}));
  CHECK(j["id"] == "a\"b\\c");
  CHECK(j["type"] == "stats");
}

TEST_CASE("keyed_value finds a key of a flat-keyed file") {
  CHECK(cg::keyed_value(kMemoryEvents, "oom_kill") == std::optional<uint64_t>(1));
  CHECK(cg::keyed_value(kMemoryEvents, "max") == std::optional<uint64_t>(12));
  CHECK(cg::keyed_value(kMemoryEvents, "oom_group") == std::nullopt);  // prefix of another key
  CHECK(cg::keyed_value("populated 1\nfrozen 0\n", "frozen") == std::optional<uint64_t>(0));
  CHECK(cg::keyed_value("", "frozen") == std::nullopt);
}

TEST_CASE("oom_kill_count reads memory.events and is 0 without it") {
  FakeCgroup c;
  auto none = cg::oom_kill_count(c.fd.get());
  REQUIRE(none.ok());
  CHECK(*none == 0);
  c.put("memory.events", kMemoryEvents);
  auto one = cg::oom_kill_count(c.fd.get());
  REQUIRE(one.ok());
  CHECK(*one == 1);
  c.put("memory.events", "low 0\nhigh 0\nmax 0\noom 0\n");  // a kernel before 4.13
  CHECK(*cg::oom_kill_count(c.fd.get()) == 0);
}

TEST_CASE("is_frozen reads frozen from cgroup.events, else cgroup.freeze") {
  FakeCgroup c;
  CHECK(*cg::is_frozen(c.fd.get()) == false);
  c.put("cgroup.events", "populated 1\nfrozen 1\n");
  CHECK(*cg::is_frozen(c.fd.get()) == true);
  c.put("cgroup.events", "populated 1\nfrozen 0\n");
  CHECK(*cg::is_frozen(c.fd.get()) == false);
  c.put("cgroup.events", "populated 1\n");
  c.put("cgroup.freeze", "1\n");
  CHECK(*cg::is_frozen(c.fd.get()) == true);
}

TEST_CASE("set_frozen on a file tree waits for cgroup.events and times out") {
  FakeCgroup c;
  c.put("cgroup.freeze", "");
  c.put("cgroup.events", "populated 0\nfrozen 1\n");
  REQUIRE(cg::set_frozen(c.fd.get(), true, 100).ok());
  CHECK(berth::test::slurp(c.dir / "cgroup.freeze") == "1");
  // The fixture never changes, so a thaw cannot complete.
  auto st = cg::set_frozen(c.fd.get(), false, 50);
  REQUIRE(!st.ok());
  CHECK(st.error().message() == "cgroup did not become thawed within 50 ms: Connection timed out");
}

TEST_CASE("set_frozen undoes a freeze that does not complete in time") {
  FakeCgroup c;
  c.put("cgroup.freeze", "");
  c.put("cgroup.events", "populated 1\nfrozen 0\n");
  auto st = cg::set_frozen(c.fd.get(), true, 30);
  REQUIRE(!st.ok());
  CHECK(st.error().code() == ETIMEDOUT);
  CHECK(berth::test::slurp(c.dir / "cgroup.freeze") == "0");
}

TEST_CASE("without cgroup.freeze thawing is a no-op and freezing an error") {
  FakeCgroup c;
  CHECK(cg::set_frozen(c.fd.get(), false, 10).ok());
  auto st = cg::set_frozen(c.fd.get(), true, 10);
  REQUIRE(!st.ok());
  CHECK(st.error().message() ==
        "freeze cgroup: cgroup.freeze does not exist (the cgroup v2 freezer needs Linux 5.2): No such file or directory");
}
