// cgroups/cgroup.hpp without a real cgroup hierarchy: path resolution,
// controller checks against a fixture cgroup.controllers file, and the
// create/destroy bookkeeping in a plain temporary directory.
#include "cgroups/cgroup.hpp"
#include "runtime/resources.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "test_support.hpp"

namespace {

using berth::cgroups::Cgroup;
using berth::cgroups::resolve_cgroup_path;
using berth::test::TempDir;

// A directory that looks like a cgroup v2 root offering `controllers`.
struct FakeHierarchy {
  TempDir dir{"berth-cgroup"};
  explicit FakeHierarchy(const std::string& controllers) {
    auto st = berth::write_file(dir / "cgroup.controllers", controllers, true);
    REQUIRE(st.ok());
  }
};

// A spec resources object asking for one value in each named group.
berth::runtime::Resources asking(const std::vector<std::string>& groups) {
  berth::runtime::Resources r;
  for (const auto& g : groups) {
    if (g == "memory") r.memory = berth::runtime::MemoryResources{.limit = 1 << 20};
    if (g == "cpu") r.cpu = berth::runtime::CpuResources{.shares = 512};
    if (g == "pids") r.pids_limit = 100;
    if (g == "blockIO") r.block_io = berth::runtime::BlockIoResources{.weight = 500};
    if (g == "hugepageLimits") r.hugepage_limits.push_back({"2MB", 1 << 21});
    if (g == "network") r.has_network = true;
    if (g == "unified") r.unified["cgroup.max.depth"] = "5";
  }
  return r;
}

std::string check_resources(const std::string& controllers, const berth::runtime::Resources& r) {
  FakeHierarchy h(controllers);
  auto st = berth::runtime::check_resources_available(h.dir.path(), r, berth::runtime::to_cgroup_resources(r));
  return st.ok() ? "" : st.error().message();
}

std::string check(const std::string& controllers, const std::vector<std::string>& groups) {
  return check_resources(controllers, asking(groups));
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

// --- resolve_cgroup_path ------------------------------------------------

TEST_CASE("an absolute cgroupsPath is taken as is, cleaned") {
  CHECK(resolve_cgroup_path("/berth/c1", "c1", "/user.slice/session-1.scope") == "/berth/c1");
  CHECK(resolve_cgroup_path("/a//b/", "c1", "/own") == "/a/b");
}

TEST_CASE("a relative cgroupsPath is nested under the caller's own cgroup") {
  CHECK(resolve_cgroup_path("pods/p1", "c1", "/user.slice/me") == "/user.slice/me/pods/p1");
  CHECK(resolve_cgroup_path("./x/", "c1", "/own") == "/own/x");
}

TEST_CASE("the default cgroup path is the container id under the caller's cgroup") {
  CHECK(resolve_cgroup_path("", "c1", "/user.slice/me") == "/user.slice/me/c1");
  CHECK(resolve_cgroup_path("", "c1", "/") == "/c1");
  CHECK(resolve_cgroup_path("", "c1", "") == "/c1");
}

TEST_CASE("a relative path with .. cannot climb out of the caller's cgroup") {
  CHECK(resolve_cgroup_path("../../../etc", "c1", "/own/deep") == "/own/deep/etc");
  CHECK(resolve_cgroup_path("a/../../..", "c1", "/own") == "/own");
  CHECK(resolve_cgroup_path("..", "c1", "/") == "/");
}

TEST_CASE("an absolute path with .. cannot climb above the hierarchy root") {
  CHECK(resolve_cgroup_path("/../../x", "c1", "/own") == "/x");
  CHECK(resolve_cgroup_path("/a/../../..", "c1", "/own") == "/");
}

TEST_CASE("a relative cgroup path never starts with ..") {
  for (const char* p : {"..", "../..", "x/../..", "./../y"}) {
    CAPTURE(p);
    std::string r = resolve_cgroup_path(p, "c1", "/");
    CHECK(r.front() == '/');
    CHECK(r.find("..") == std::string::npos);
  }
}

// --- controllers --------------------------------------------------------

TEST_CASE("check_controllers fails for a controller the hierarchy lacks") {
  CHECK(check("hugetlb\n", {"memory"}) ==
        "linux.resources.memory: cgroup v2 controller \"memory\" is not available on this host");
}

TEST_CASE("check_controllers names the spec field and the v2 controller") {
  CHECK(check("cpu memory pids\n", {"blockIO"}) ==
        "linux.resources.blockIO: cgroup v2 controller \"io\" is not available on this host");
  CHECK(check("cpu memory\n", {"hugepageLimits"}) ==
        "linux.resources.hugepageLimits: cgroup v2 controller \"hugetlb\" is not available on this host");
}

TEST_CASE("check_controllers accepts groups whose controllers are present") {
  CHECK(check("cpuset cpu io memory hugetlb pids rdma misc\n", {"memory", "cpu", "pids", "blockIO", "hugepageLimits"})
            .empty());
  CHECK(check("hugetlb\n", {"hugepageLimits"}).empty());
}

TEST_CASE("check_controllers matches whole controller names only") {
  // "cpuset" must not satisfy "cpu".
  CHECK(check("cpuset memory\n", {"cpu"}) ==
        "linux.resources.cpu: cgroup v2 controller \"cpu\" is not available on this host");
}

TEST_CASE("check_controllers rejects network: there is no v2 controller for it") {
  CHECK(check("cpu io memory pids\n", {"network"}) ==
        "linux.resources.network: net_cls and net_prio do not exist in cgroup v2");
}

TEST_CASE("check_controllers reports the first missing group in the order of the spec's resources") {
  CHECK(check("hugetlb\n", {"hugepageLimits", "pids", "memory"}) ==
        "linux.resources.memory: cgroup v2 controller \"memory\" is not available on this host");
  CHECK(check("hugetlb memory\n", {"hugepageLimits", "pids", "memory"}) ==
        "linux.resources.pids: cgroup v2 controller \"pids\" is not available on this host");
}

TEST_CASE("check_controllers: unified keys of the core cgroup files need no controller") {
  CHECK(check("\n", {"unified"}).empty());
}

TEST_CASE("check_controllers: a unified key names its own controller and field") {
  berth::runtime::Resources r;
  r.unified["memory.high"] = "1G";
  CHECK(check_resources("cpu\n", r) ==
        "linux.resources.unified[\"memory.high\"]: cgroup v2 controller \"memory\" is not available on this host");
}

TEST_CASE("check_controllers: values runc reads as unset need no controller (callers' \"no limit\")") {
  berth::runtime::Resources r;
  r.pids_limit = 0;                                                // podman --pids-limit -1
  r.cpu = berth::runtime::CpuResources{.shares = 0, .quota = 0};   // ctr --cpu-shares 0
  r.memory = berth::runtime::MemoryResources{.limit = 0};
  r.block_io = berth::runtime::BlockIoResources{.weight = 0};
  CHECK(check_resources("hugetlb\n", r).empty());
  auto c = berth::runtime::to_cgroup_resources(r);
  CHECK_FALSE(c.pids_limit.has_value());
  CHECK_FALSE(c.cpu.has_value());
  CHECK_FALSE(c.memory.has_value());
  CHECK_FALSE(c.io.has_value());
}

TEST_CASE("check_controllers with nothing requested does not read the hierarchy") {
  TempDir empty;  // no cgroup.controllers
  berth::runtime::Resources none;
  CHECK(berth::runtime::check_resources_available(empty.path(), none, berth::runtime::to_cgroup_resources(none)).ok());
}

TEST_CASE("check_controllers fails clearly when cgroup.controllers cannot be read") {
  TempDir empty;
  auto r = asking({"memory"});
  auto st = berth::runtime::check_resources_available(empty.path(), r, berth::runtime::to_cgroup_resources(r));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ENOENT);
  CHECK(st.error().message().rfind("linux.resources.memory: read cgroup v2 controllers: ", 0) == 0);
}

// --- Cgroup create / destroy --------------------------------------------

TEST_CASE("Cgroup::at places the directory under the mount point") {
  Cgroup cg = Cgroup::at("/sys/fs/cgroup", "/berth/c1");
  CHECK(cg.dir() == "/sys/fs/cgroup/berth/c1");
  CHECK(cg.path() == "/berth/c1");
  CHECK(Cgroup::at("/sys/fs/cgroup", "/").dir() == "/sys/fs/cgroup");
}

TEST_CASE("Cgroup::create makes missing parents and lists exactly what it made") {
  TempDir mount;
  REQUIRE(::mkdir((mount / "existing").c_str(), 0755) == 0);
  auto cg = Cgroup::create(mount.path(), "/existing/pod/c1");
  REQUIRE_MESSAGE(cg.ok(), cg.error().message());
  CHECK(cg->dir() == mount / "existing/pod/c1");
  CHECK(cg->path() == "/existing/pod/c1");
  CHECK(cg->created() == std::vector<std::string>{mount / "existing/pod", mount / "existing/pod/c1"});
  CHECK(is_dir(mount / "existing/pod/c1"));
  CHECK(cg->exists());
}

TEST_CASE("Cgroup::create reuses an existing directory and claims nothing") {
  TempDir mount;
  REQUIRE(berth::mkdir_all(mount / "pre/made", 0755).ok());
  auto cg = Cgroup::create(mount.path(), "/pre/made");
  REQUIRE(cg.ok());
  CHECK(cg->created().empty());
  REQUIRE(cg->destroy(true).ok());
  CHECK(is_dir(mount / "pre/made"));
}

TEST_CASE("destroy(true) removes only the directories create made") {
  TempDir mount;
  REQUIRE(::mkdir((mount / "existing").c_str(), 0755) == 0);
  auto cg = Cgroup::create(mount.path(), "/existing/pod/c1");
  REQUIRE(cg.ok());
  auto st = cg->destroy(true);
  REQUIRE_MESSAGE(st.ok(), st.error().message());
  CHECK_FALSE(berth::path_exists(mount / "existing/pod"));
  CHECK(is_dir(mount / "existing"));
  CHECK(cg->created().empty());
}

TEST_CASE("destroy(false) removes the container directory but not its parents") {
  TempDir mount;
  auto cg = Cgroup::create(mount.path(), "/pod/c1");
  REQUIRE(cg.ok());
  REQUIRE(cg->destroy(false).ok());
  CHECK_FALSE(berth::path_exists(mount / "pod/c1"));
  CHECK(is_dir(mount / "pod"));
}

TEST_CASE("destroy of a cgroup that is already gone succeeds") {
  TempDir mount;
  Cgroup cg = Cgroup::at(mount.path(), "/never/made");
  CHECK_FALSE(cg.exists());
  CHECK(cg.destroy(false).ok());
  CHECK(cg.destroy(true).ok());
}

TEST_CASE("Cgroup::create fails when a file is in the way and leaves nothing behind") {
  TempDir mount;
  REQUIRE(berth::write_file(mount / "file", "x", true).ok());
  auto bad = Cgroup::create(mount.path(), "/file/c1");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == ENOTDIR);
  CHECK(bad.error().message().rfind("create cgroup /file/c1: ", 0) == 0);
  CHECK(berth::test::count_entries(mount.path()) == 1);
}

TEST_CASE("pids reads cgroup.procs of the cgroup and every descendant") {
  TempDir mount;
  REQUIRE(berth::mkdir_all(mount / "c1/sub/deeper", 0755).ok());
  REQUIRE(berth::write_file(mount / "c1/cgroup.procs", "10\n11\n", true).ok());
  REQUIRE(berth::write_file(mount / "c1/sub/deeper/cgroup.procs", "12\n", true).ok());
  Cgroup cg = Cgroup::at(mount.path(), "/c1");
  auto pids = cg.pids();
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<pid_t>{10, 11, 12});
}

TEST_CASE("populated follows cgroup.events") {
  TempDir mount;
  REQUIRE(::mkdir((mount / "c1").c_str(), 0755) == 0);
  Cgroup cg = Cgroup::at(mount.path(), "/c1");
  REQUIRE(berth::write_file(mount / "c1/cgroup.events", "populated 1\nfrozen 0\n", true).ok());
  CHECK(cg.populated());
  REQUIRE(berth::write_file(mount / "c1/cgroup.events", "populated 0\nfrozen 0\n").ok());
  CHECK_FALSE(cg.populated());
}

TEST_CASE("Cgroup::create removes the parents it made when a later mkdir fails") {
  TempDir mount;
  // A component longer than NAME_MAX fails after "made" was created.
  std::string rel = "/made/also-made/" + std::string(300, 'x');
  auto cg = Cgroup::create(mount.path(), rel);
  REQUIRE_FALSE(cg.ok());
  CHECK(cg.error().code() == ENAMETOOLONG);
  CHECK_FALSE(berth::path_exists(mount / "made"));
  CHECK(berth::test::count_entries(mount.path()) == 0);
}
