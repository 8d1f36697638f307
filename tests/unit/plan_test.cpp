// make_plan (runtime/plan.hpp): every set-up decision is taken from the spec
// before clone(), so the plan is checked here field by field. Specs start
// from `berth-runtime spec`'s default, are changed as JSON and then go
// through parse_spec + validate_spec like a real config.json.
#include "runtime/plan.hpp"

#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/fs.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/spec_default.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace {

using berth::runtime::DeviceNode;
using berth::runtime::InitPlan;
using berth::runtime::MountOp;
using json = nlohmann::json;

const std::string kBundle = "/bundles/b1";

// All namespaces berth can create with clone() in the default spec.
constexpr int kDefaultCloneFlags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;

json default_config(bool rootless = false) {
  return json::parse(berth::runtime::default_spec_json(rootless, rootless ? 1000 : 0, rootless ? 1000 : 0));
}

InitPlan plan_for(const json& config, berth::runtime::PlanOptions opts = {}) {
  auto spec = berth::runtime::parse_spec(config.dump());
  REQUIRE_MESSAGE(spec.ok(), spec.error().message());
  auto valid = berth::runtime::validate_spec(*spec);
  REQUIRE_MESSAGE(valid.ok(), valid.error().message());
  auto plan = berth::runtime::make_plan(*spec, kBundle, opts);
  REQUIRE_MESSAGE(plan.ok(), plan.error().message());
  return std::move(plan).value();
}

InitPlan plan_with(const std::function<void(json&)>& mutate, bool rootless = false) {
  json config = default_config(rootless);
  mutate(config);
  return plan_for(config);
}

// Sets the path of one namespace of the config (adding it if missing).
void join_namespace(json& config, const std::string& type, const std::string& path) {
  auto& list = config["linux"]["namespaces"];
  for (auto& ns : list) {
    if (ns["type"] == type) {
      ns["path"] = path;
      return;
    }
  }
  list.push_back({{"type", type}, {"path", path}});
}

void add_namespace(json& config, const std::string& type) {
  config["linux"]["namespaces"].push_back({{"type", type}});
}

void add_user_namespace(json& config) {
  add_namespace(config, "user");
  config["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
  config["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
}

const MountOp& mount_at(const InitPlan& plan, const std::string& destination) {
  auto it = std::find_if(plan.rootfs.mounts.begin(), plan.rootfs.mounts.end(),
                         [&](const MountOp& m) { return m.destination == destination; });
  REQUIRE_MESSAGE(it != plan.rootfs.mounts.end(), "no mount at ", destination);
  return *it;
}

std::vector<std::string> device_paths(const InitPlan& plan) {
  std::vector<std::string> out;
  for (const auto& d : plan.rootfs.devices) out.push_back(d.path);
  return out;
}

const DeviceNode* device_at(const InitPlan& plan, const std::string& path) {
  for (const auto& d : plan.rootfs.devices)
    if (d.path == path) return &d;
  return nullptr;
}

std::vector<std::string> join_types(const InitPlan& plan) {
  std::vector<std::string> out;
  for (const auto& j : plan.ns.joins) out.push_back(j.type);
  return out;
}

uint64_t bit(const char* cap) { return uint64_t{1} << *berth::runtime::capability_number(cap); }

}  // namespace

// --- namespaces ---------------------------------------------------------

TEST_CASE("new namespaces become clone flags") {
  InitPlan plan = plan_for(default_config());
  CHECK(plan.ns.clone_flags == kDefaultCloneFlags);
  CHECK(plan.ns.joins.empty());
  CHECK(plan.ns.pid_new);
  CHECK_FALSE(plan.ns.user_new);
  CHECK_FALSE(plan.ns.time_new);
  CHECK_FALSE(plan.ns.intermediate);
}

TEST_CASE("a new cgroup namespace is unshared by the init, not cloned") {
  InitPlan plan = plan_for(default_config());
  CHECK((plan.ns.clone_flags & CLONE_NEWCGROUP) == 0);
  CHECK(plan.ns.unshare_flags == CLONE_NEWCGROUP);
  CHECK(plan.rootfs.cgroup_ns);
}

TEST_CASE("without a cgroup namespace nothing is unshared") {
  InitPlan plan = plan_with([](json& c) {
    auto& list = c["linux"]["namespaces"];
    list.erase(std::remove_if(list.begin(), list.end(), [](const json& n) { return n["type"] == "cgroup"; }),
               list.end());
  });
  CHECK(plan.ns.unshare_flags == 0);
  CHECK_FALSE(plan.rootfs.cgroup_ns);
}

TEST_CASE("a new time namespace is flagged with its offsets text") {
  InitPlan plan = plan_with([](json& c) {
    add_namespace(c, "time");
    c["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 10}, {"nanosecs", 5}}},
                                 {"boottime", {{"secs", -3}, {"nanosecs", 0}}}};
  });
  CHECK(plan.ns.time_new);
  CHECK((plan.ns.clone_flags & CLONE_NEWTIME) == 0);
  CHECK(plan.ns.time_offsets == "boottime -3 0\nmonotonic 10 5\n");
}

TEST_CASE("a new user namespace is cloned and its id maps rendered one line each") {
  InitPlan plan = plan_with([](json& c) {
    add_namespace(c, "user");
    c["linux"]["uidMappings"] = json::array(
        {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}, {{"containerID", 1}, {"hostID", 100000}, {"size", 65536}}});
    c["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 2000}, {"size", 10}}});
  });
  CHECK(plan.ns.user_new);
  CHECK((plan.ns.clone_flags & CLONE_NEWUSER) != 0);
  CHECK_FALSE(plan.ns.intermediate);
  CHECK(plan.ns.uid_map == "0 1000 1\n1 100000 65536\n");
  CHECK(plan.ns.gid_map == "0 2000 10\n");
}

TEST_CASE("joined namespaces carry their path and are not cloned") {
  InitPlan plan = plan_with([](json& c) { join_namespace(c, "network", "/var/run/netns/n1"); });
  REQUIRE(plan.ns.joins.size() == 1);
  CHECK(plan.ns.joins[0].type == "network");
  CHECK(plan.ns.joins[0].flag == CLONE_NEWNET);
  CHECK(plan.ns.joins[0].path == "/var/run/netns/n1");
  CHECK((plan.ns.clone_flags & CLONE_NEWNET) == 0);
  CHECK(plan.ns.clone_flags == (kDefaultCloneFlags & ~CLONE_NEWNET));
}

TEST_CASE("joined namespaces are ordered user first and mount last") {
  InitPlan plan = plan_with([](json& c) {
    // Listed in an order that differs from the join order on purpose.
    join_namespace(c, "mount", "/proc/1/ns/mnt");
    join_namespace(c, "pid", "/proc/1/ns/pid");
    join_namespace(c, "network", "/proc/1/ns/net");
    join_namespace(c, "ipc", "/proc/1/ns/ipc");
    join_namespace(c, "user", "/proc/1/ns/user");
    join_namespace(c, "uts", "/proc/1/ns/uts");
  });
  auto types = join_types(plan);
  REQUIRE(types.size() == 6);
  CHECK(types.front() == "user");
  CHECK(types.back() == "mount");
  CHECK(types == std::vector<std::string>{"user", "ipc", "uts", "network", "pid", "mount"});
  CHECK(plan.ns.joins.back().path == "/proc/1/ns/mnt");
}

TEST_CASE("intermediate: a joined user namespace needs one") {
  InitPlan plan = plan_with([](json& c) { join_namespace(c, "user", "/proc/1/ns/user"); });
  CHECK(plan.ns.intermediate);
  CHECK_FALSE(plan.ns.user_new);
}

TEST_CASE("intermediate: a new user namespace with another joined namespace needs one") {
  InitPlan plan = plan_with([](json& c) {
    add_user_namespace(c);
    join_namespace(c, "network", "/var/run/netns/n1");
  });
  CHECK(plan.ns.user_new);
  CHECK(plan.ns.intermediate);
}

TEST_CASE("intermediate: a new user namespace alone does not need one") {
  InitPlan plan = plan_with([](json& c) { add_user_namespace(c); });
  CHECK_FALSE(plan.ns.intermediate);
}

TEST_CASE("intermediate: joined namespaces without a user namespace do not need one") {
  InitPlan plan = plan_with([](json& c) {
    join_namespace(c, "network", "/var/run/netns/n1");
    join_namespace(c, "ipc", "/proc/1/ns/ipc");
  });
  CHECK_FALSE(plan.ns.intermediate);
}

TEST_CASE("with an intermediate process every new namespace is unshared, none cloned") {
  InitPlan plan = plan_with([](json& c) {
    add_user_namespace(c);
    join_namespace(c, "network", "/var/run/netns/n1");
  });
  REQUIRE(plan.ns.intermediate);
  CHECK(plan.ns.clone_flags == 0);
  int expected = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWCGROUP;
  CHECK(plan.ns.unshare_flags == expected);
}

// --- mounts -------------------------------------------------------------

TEST_CASE("default mounts keep their order and become filesystem and cgroup ops") {
  InitPlan plan = plan_for(default_config());
  std::vector<std::string> dests;
  for (const auto& m : plan.rootfs.mounts) dests.push_back(m.destination);
  CHECK(dests ==
        std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"});
  const MountOp& proc = mount_at(plan, "/proc");
  CHECK(proc.kind == MountOp::Kind::filesystem);
  CHECK(proc.source == "proc");
  CHECK(proc.fstype == "proc");
  CHECK(proc.flags == 0);
  const MountOp& dev = mount_at(plan, "/dev");
  CHECK(dev.kind == MountOp::Kind::filesystem);
  CHECK(dev.fstype == "tmpfs");
  CHECK(dev.flags == (MS_NOSUID | MS_STRICTATIME));
  CHECK(dev.data == "mode=755,size=65536k");
}

TEST_CASE("a mount of type cgroup becomes a cgroup2 op") {
  InitPlan plan = plan_for(default_config());
  const MountOp& cg = mount_at(plan, "/sys/fs/cgroup");
  CHECK(cg.kind == MountOp::Kind::cgroup);
  CHECK(cg.fstype == "cgroup2");
  CHECK(cg.source == "cgroup2");
  CHECK(cg.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY));
}

TEST_CASE("bind and rbind options make bind ops, rbind recursive") {
  InitPlan plan = plan_with([](json& c) {
    c["mounts"].push_back({{"destination", "/a"}, {"type", "none"}, {"source", "/srv/a"}, {"options", {"bind"}}});
    c["mounts"].push_back({{"destination", "/b"}, {"source", "/srv/b"}, {"options", {"rbind", "ro"}}});
  });
  const MountOp& a = mount_at(plan, "/a");
  CHECK(a.kind == MountOp::Kind::bind);
  CHECK_FALSE(a.recursive);
  CHECK(a.source == "/srv/a");
  const MountOp& b = mount_at(plan, "/b");
  CHECK(b.kind == MountOp::Kind::bind);
  CHECK(b.recursive);
  CHECK(b.flags == MS_RDONLY);
  CHECK(b.data.empty());
}

TEST_CASE("type bind makes a bind op without any bind option") {
  InitPlan plan = plan_with([](json& c) {
    c["mounts"].push_back({{"destination", "/c"}, {"type", "bind"}, {"source", "/srv/c"}, {"options", {"rw"}}});
  });
  const MountOp& m = mount_at(plan, "/c");
  CHECK(m.kind == MountOp::Kind::bind);
  CHECK_FALSE(m.recursive);
  CHECK(m.cleared == MS_RDONLY);
}

TEST_CASE("relative bind sources are resolved against the bundle") {
  InitPlan plan = plan_with([](json& c) {
    c["mounts"].push_back({{"destination", "/d1"}, {"type", "bind"}, {"source", "data"}});
    c["mounts"].push_back({{"destination", "/d2"}, {"type", "bind"}, {"source", "./x/../y/"}});
    c["mounts"].push_back({{"destination", "/d3"}, {"type", "bind"}, {"source", "/srv//abs/"}});
  });
  CHECK(mount_at(plan, "/d1").source == "/bundles/b1/data");
  CHECK(mount_at(plan, "/d2").source == "/bundles/b1/y");
  CHECK(mount_at(plan, "/d3").source == "/srv/abs");
}

TEST_CASE("mount destinations are cleaned and made absolute") {
  InitPlan plan = plan_with([](json& c) {
    c["mounts"].push_back({{"destination", "/mnt//a/../b/"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    c["mounts"].push_back({{"destination", "rel/dir"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    c["mounts"].push_back({{"destination", "/../../escape"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  });
  const auto& mounts = plan.rootfs.mounts;
  REQUIRE(mounts.size() == 10);
  CHECK(mounts[7].destination == "/mnt/b");
  CHECK(mounts[8].destination == "/rel/dir");
  CHECK(mounts[9].destination == "/escape");
}

TEST_CASE("mount options split into flags, propagation and data") {
  InitPlan plan = plan_with([](json& c) {
    c["mounts"].push_back({{"destination", "/t"},
                           {"type", "tmpfs"},
                           {"source", "tmpfs"},
                           {"options", {"nosuid", "rprivate", "size=1m", "rro", "mode=700"}}});
  });
  const MountOp& m = mount_at(plan, "/t");
  CHECK(m.kind == MountOp::Kind::filesystem);
  CHECK(m.flags == MS_NOSUID);
  CHECK(m.propagation == (MS_PRIVATE | MS_REC));
  CHECK(m.attr_set != 0);
  CHECK(m.data == "size=1m,mode=700");
}

TEST_CASE("a filesystem mount without source uses its type as source") {
  InitPlan plan = plan_with([](json& c) {
    c["mounts"].push_back({{"destination", "/run"}, {"type", "tmpfs"}});
  });
  CHECK(mount_at(plan, "/run").source == "tmpfs");
}

// --- devices ------------------------------------------------------------

TEST_CASE("the default devices are planned when none are configured") {
  InitPlan plan = plan_for(default_config());
  CHECK(plan.rootfs.setup_dev);
  CHECK(device_paths(plan) ==
        std::vector<std::string>{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"});
  const DeviceNode* null = device_at(plan, "/dev/null");
  REQUIRE(null != nullptr);
  CHECK(null->mode == (S_IFCHR | 0666));
  CHECK(null->dev == makedev(1, 3));
  CHECK(device_at(plan, "/dev/urandom")->dev == makedev(1, 9));
  CHECK(device_at(plan, "/dev/tty")->dev == makedev(5, 0));
}

TEST_CASE("a configured device replaces the default of the same path") {
  InitPlan plan = plan_with([](json& c) {
    c["linux"]["devices"] = json::array({{{"type", "c"},
                                          {"path", "/dev/null"},
                                          {"major", 1},
                                          {"minor", 3},
                                          {"fileMode", 0600},
                                          {"uid", 5},
                                          {"gid", 6}}});
  });
  auto paths = device_paths(plan);
  CHECK(std::count(paths.begin(), paths.end(), "/dev/null") == 1);
  CHECK(paths.size() == 6);
  const DeviceNode* null = device_at(plan, "/dev/null");
  REQUIRE(null != nullptr);
  CHECK(null->mode == (S_IFCHR | 0600));
  CHECK(null->uid == 5);
  CHECK(null->gid == 6);
}

TEST_CASE("configured devices get their type, numbers and a default mode") {
  InitPlan plan = plan_with([](json& c) {
    c["linux"]["devices"] = json::array({{{"type", "b"}, {"path", "/dev/sda"}, {"major", 8}, {"minor", 0}},
                                         {{"type", "p"}, {"path", "/dev/fifo"}},
                                         {{"type", "u"}, {"path", "/dev//raw/x"}, {"major", 10}, {"minor", 1}}});
  });
  const DeviceNode* sda = device_at(plan, "/dev/sda");
  REQUIRE(sda != nullptr);
  CHECK(sda->mode == (S_IFBLK | 0666));
  CHECK(sda->dev == makedev(8, 0));
  CHECK(sda->uid == 0);
  const DeviceNode* fifo = device_at(plan, "/dev/fifo");
  REQUIRE(fifo != nullptr);
  CHECK((fifo->mode & S_IFMT) == S_IFIFO);
  const DeviceNode* raw = device_at(plan, "/dev/raw/x");
  REQUIRE(raw != nullptr);
  CHECK((raw->mode & S_IFMT) == S_IFCHR);
}

TEST_CASE("devices are bind-mounted in a user namespace and made with mknod otherwise") {
  CHECK_FALSE(plan_for(default_config()).rootfs.bind_devices);
  CHECK(plan_for(default_config(true)).rootfs.bind_devices);
  CHECK(plan_with([](json& c) { join_namespace(c, "user", "/proc/1/ns/user"); }).rootfs.bind_devices);
}

TEST_CASE("a bind-mounted /dev is not populated") {
  InitPlan plan = plan_with([](json& c) {
    auto& mounts = c["mounts"];
    for (auto& m : mounts)
      if (m["destination"] == "/dev") m = {{"destination", "/dev"}, {"type", "bind"}, {"source", "/dev"}, {"options", {"rbind"}}};
  });
  CHECK_FALSE(plan.rootfs.setup_dev);
  CHECK(plan.rootfs.devices.empty());
  CHECK(plan.rootfs.dev_symlinks.empty());
  CHECK_FALSE(plan.rootfs.console);
}

TEST_CASE("a tmpfs /dev is populated with the standard symlinks") {
  InitPlan plan = plan_for(default_config());
  const auto& links = plan.rootfs.dev_symlinks;
  using Link = std::pair<std::string, std::string>;
  for (const Link& l : {Link{"/proc/self/fd", "/dev/fd"}, Link{"/proc/self/fd/0", "/dev/stdin"},
                        Link{"/proc/self/fd/1", "/dev/stdout"}, Link{"/proc/self/fd/2", "/dev/stderr"},
                        Link{"pts/ptmx", "/dev/ptmx"}}) {
    CAPTURE(l.second);
    CHECK(std::find(links.begin(), links.end(), l) != links.end());
  }
  bool has_core = std::find(links.begin(), links.end(), Link{"/proc/kcore", "/dev/core"}) != links.end();
  CHECK(has_core == berth::path_exists("/proc/kcore"));
}

TEST_CASE("the console follows process.terminal") {
  CHECK(plan_for(default_config()).rootfs.console);
  CHECK_FALSE(plan_with([](json& c) { c["process"]["terminal"] = false; }).rootfs.console);
}

// --- sysctl, root, process ----------------------------------------------

TEST_CASE("sysctl keys become /proc/sys paths with dots turned into slashes") {
  InitPlan plan = plan_with([](json& c) {
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shm_rmid_forced", "1"}};
  });
  using Entry = std::pair<std::string, std::string>;
  const auto& s = plan.rootfs.sysctl;
  CHECK(s.size() == 2);
  CHECK(std::find(s.begin(), s.end(), Entry{"/proc/sys/net/ipv4/ip_forward", "1"}) != s.end());
  CHECK(std::find(s.begin(), s.end(), Entry{"/proc/sys/kernel/shm_rmid_forced", "1"}) != s.end());
}

TEST_CASE("the rootfs is resolved against the bundle and cleaned") {
  CHECK(plan_for(default_config()).rootfs.rootfs == "/bundles/b1/rootfs");
  CHECK(plan_with([](json& c) { c["root"]["path"] = "./images/../r/"; }).rootfs.rootfs == "/bundles/b1/r");
  CHECK(plan_with([](json& c) { c["root"]["path"] = "/var/lib//r/"; }).rootfs.rootfs == "/var/lib/r");
}

TEST_CASE("root.readonly is carried into the plan") {
  CHECK(plan_for(default_config()).rootfs.readonly);
  CHECK_FALSE(plan_with([](json& c) { c["root"]["readonly"] = false; }).rootfs.readonly);
}

TEST_CASE("root propagation defaults to rslave and follows rootfsPropagation") {
  CHECK(plan_for(default_config()).rootfs.root_propagation == (MS_SLAVE | MS_REC));
  CHECK(plan_with([](json& c) { c["linux"]["rootfsPropagation"] = "private"; }).rootfs.root_propagation ==
        MS_PRIVATE);
  CHECK(plan_with([](json& c) { c["linux"]["rootfsPropagation"] = "rshared"; }).rootfs.root_propagation ==
        (MS_SHARED | MS_REC));
}

TEST_CASE("no_pivot comes from the plan options") {
  CHECK_FALSE(plan_for(default_config()).rootfs.no_pivot);
  berth::runtime::PlanOptions opts;
  opts.no_pivot = true;
  CHECK(plan_for(default_config(), opts).rootfs.no_pivot);
}

TEST_CASE("masked and read-only paths are cleaned") {
  InitPlan plan = plan_with([](json& c) {
    c["linux"]["maskedPaths"] = {"/proc//kcore/", "/sys/./firmware"};
    c["linux"]["readonlyPaths"] = {"/proc/sys/../bus"};
  });
  CHECK(plan.rootfs.masked_paths == std::vector<std::string>{"/proc/kcore", "/sys/firmware"});
  CHECK(plan.rootfs.readonly_paths == std::vector<std::string>{"/proc/bus"});
}

TEST_CASE("capability names become bit masks per set") {
  InitPlan plan = plan_with([](json& c) {
    c["process"]["capabilities"]["inheritable"] = {"CAP_CHOWN"};
    c["process"]["capabilities"]["ambient"] = json::array();
  });
  REQUIRE(plan.process.caps.has_value());
  uint64_t defaults = bit("CAP_AUDIT_WRITE") | bit("CAP_KILL") | bit("CAP_NET_BIND_SERVICE");
  CHECK(defaults == ((uint64_t{1} << 29) | (uint64_t{1} << 5) | (uint64_t{1} << 10)));
  CHECK(plan.process.caps->bounding == defaults);
  CHECK(plan.process.caps->effective == defaults);
  CHECK(plan.process.caps->permitted == defaults);
  CHECK(plan.process.caps->inheritable == 1);
  CHECK(plan.process.caps->ambient == 0);
}

TEST_CASE("without process.capabilities the plan keeps the current capabilities") {
  InitPlan plan = plan_with([](json& c) { c["process"].erase("capabilities"); });
  CHECK_FALSE(plan.process.caps.has_value());
}

TEST_CASE("capability_mask ORs known names and skips unknown ones") {
  CHECK(berth::runtime::capability_mask({"CAP_CHOWN", "CAP_SYS_ADMIN"}) == ((uint64_t{1} << 0) | (uint64_t{1} << 21)));
  CHECK(berth::runtime::capability_mask({}) == 0);
  CHECK(berth::runtime::capability_mask({"CAP_NOT_A_CAP", "CAP_KILL"}) == (uint64_t{1} << 5));
}

TEST_CASE("rlimits keep their order, names, numbers and values") {
  InitPlan plan = plan_with([](json& c) {
    c["process"]["rlimits"].push_back({{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 100}});
  });
  const auto& r = plan.process.rlimits;
  REQUIRE(r.size() == 2);
  CHECK(r[0].resource == RLIMIT_NOFILE);
  CHECK(r[0].name == "RLIMIT_NOFILE");
  CHECK(r[0].soft == 1024);
  CHECK(r[0].hard == 1024);
  CHECK(r[1].resource == RLIMIT_CORE);
  CHECK(r[1].soft == 0);
  CHECK(r[1].hard == 100);
}

TEST_CASE("process settings are carried into the plan") {
  InitPlan plan = plan_with([](json& c) {
    c["process"]["cwd"] = "/home//tester/";
    c["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"umask", 077}, {"additionalGids", {5, 6}}};
    c["process"]["args"] = {"/bin/echo", "hi"};
    c["process"]["oomScoreAdj"] = 100;
    c["linux"]["personality"] = {{"domain", "LINUX32"}};
    c["domainname"] = "example.org";
  });
  CHECK(plan.process.cwd == "/home/tester");
  CHECK(plan.process.uid == 1000);
  CHECK(plan.process.gid == 1001);
  CHECK(plan.process.umask == 077);
  CHECK(plan.process.groups == std::vector<gid_t>{5, 6});
  CHECK(plan.process.args == std::vector<std::string>{"/bin/echo", "hi"});
  CHECK(plan.process.no_new_privs);
  CHECK(plan.process.oom_score_adj == 100);
  CHECK(plan.process.personality == static_cast<unsigned long>(PER_LINUX32));
  CHECK(plan.hostname == "berth");
  CHECK(plan.domainname == "example.org");
}

TEST_CASE("the umask defaults to 022") {
  CHECK(plan_for(default_config()).process.umask == 022);
}
