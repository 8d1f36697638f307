// validate_spec: the semantic checks on a parsed config. Every case starts
// from the valid default config and breaks one thing; the error must name
// the field first so a user can find the line in config.json.
#include <doctest/doctest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/strings.hpp"
#include "runtime/spec.hpp"
#include "runtime/spec_default.hpp"

namespace {

using nlohmann::json;

json base_config() { return json::parse(berth::runtime::default_spec_json(false, 0, 0)); }

// "" when `j` parses and validates; the validation error otherwise. A parse
// failure is reported as such so a case cannot pass by failing too early.
std::string validate_error(const json& j) {
  auto spec = berth::runtime::parse_spec(j.dump());
  if (!spec) return "<parse failed> " + spec.error().message();
  auto st = berth::runtime::validate_spec(*spec);
  return st ? std::string() : st.error().message();
}

json mapping(uint32_t container_id, uint32_t host_id, uint32_t size) {
  return {{"containerID", container_id}, {"hostID", host_id}, {"size", size}};
}

// A new user namespace with the one-id mappings it needs.
void add_user_ns(json& j) {
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  j["linux"]["uidMappings"] = json::array({mapping(0, 1000, 1)});
  j["linux"]["gidMappings"] = json::array({mapping(0, 1000, 1)});
}

void remove_namespace(json& j, const std::string& type) {
  auto& ns = j["linux"]["namespaces"];
  for (auto it = ns.begin(); it != ns.end(); ++it) {
    if ((*it)["type"] == type) {
      ns.erase(it);
      return;
    }
  }
  FAIL("namespace not in the base config: ", type);
}

// The default config has mounts[0..6]; extra mounts land at index 7.
void add_mount(json& j, json m) { j["mounts"].push_back(std::move(m)); }

struct InvalidCase {
  const char* what;
  std::function<void(json&)> mutate;
  std::string expected;  // the whole error message
};

void run_cases(const InvalidCase* begin, const InvalidCase* end) {
  for (const InvalidCase* c = begin; c != end; ++c) {
    json j = base_config();
    c->mutate(j);
    INFO("case: ", c->what);
    CHECK(validate_error(j) == c->expected);
  }
}

}  // namespace

TEST_CASE("validate_spec: the default configs are valid") {
  CHECK(validate_error(base_config()).empty());
  CHECK(validate_error(json::parse(berth::runtime::default_spec_json(true, 1000, 1000))).empty());
}

TEST_CASE("validate_spec: accepted ociVersion spellings") {
  for (const char* v : {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0", "1.3.7", "1.2.0-rc.1", "1.0"}) {
    json j = base_config();
    j["ociVersion"] = v;
    INFO("version: ", v);
    CHECK(validate_error(j).empty());
  }
}

TEST_CASE("validate_spec: valid settings that need the right namespace are accepted") {
  json j = base_config();
  j["linux"]["namespaces"].push_back({{"type", "time"}});
  j["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 10}, {"nanosecs", 999999999}}}, {"boottime", {{"secs", -5}}}};
  j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"},
                          {"kernel.shmmax", "4096"},
                          {"kernel.msgmax", "8192"},
                          {"fs.mqueue.msg_max", "10"},
                          {"kernel.hostname", "h"}};
  j["domainname"] = "example.org";
  CHECK(validate_error(j).empty());
}

TEST_CASE("validate_spec: joining namespaces by absolute path is accepted") {
  json j = base_config();
  j["linux"]["namespaces"][1]["path"] = "/var/run/netns/n1";
  j["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}});
  CHECK(validate_error(j).empty());
}

TEST_CASE("validate_spec: bind mounts, tmpcopyup on tmpfs and device rules with wildcards are accepted") {
  json j = base_config();
  add_mount(j, {{"destination", "/data"}, {"source", "/srv"}, {"options", {"rbind", "ro"}}});
  add_mount(j, {{"destination", "/etc/x"}, {"type", "bind"}, {"source", "/etc/x"}});
  add_mount(j, {{"destination", "/run"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"tmpcopyup"}}});
  j["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", -1}, {"minor", -1}, {"access", "m"}});
  j["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "b"}, {"major", 8}, {"minor", 4294967295ll}, {"access", "rw"}});
  j["linux"]["devices"] = json::array({{{"type", "c"}, {"path", "/dev/fuse"}, {"major", 10}, {"minor", 229},
                                        {"fileMode", 07777}},
                                       {{"type", "p"}, {"path", "/dev/fifo"}}});
  j["linux"]["personality"] = {{"domain", "LINUX32"}};
  j["linux"]["rootfsPropagation"] = "rshared";
  CHECK(validate_error(j).empty());
}

TEST_CASE("validate_spec: edge values that are still valid") {
  json j = base_config();
  j["process"]["oomScoreAdj"] = -1000;
  j["process"]["user"]["umask"] = 0777;
  j["process"]["rlimits"] = json::array({{{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}},
                                         {{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 1024}}});
  j["process"]["env"].push_back("EMPTY=");
  j["hooks"] = {{"prestart", json::array()}};  // empty lists ask for nothing
  j["linux"]["seccomp"] = nullptr;
  CHECK(validate_error(j).empty());
}

TEST_CASE("validate_spec: 340 id mappings are the kernel limit and accepted") {
  json j = base_config();
  add_user_ns(j);
  json maps = json::array();
  for (uint32_t i = 0; i < 340; ++i) maps.push_back(mapping(i, 100000 + i, 1));
  j["linux"]["uidMappings"] = maps;
  CHECK(validate_error(j).empty());
}

TEST_CASE("validate_spec: version, root, process and linux sections") {
  const InvalidCase cases[] = {
      {"ociVersion missing", [](json& j) { j.erase("ociVersion"); }, "ociVersion: required"},
      {"ociVersion 2.0.0", [](json& j) { j["ociVersion"] = "2.0.0"; },
       "ociVersion: unsupported version \"2.0.0\" (berth supports 1.0.0 to 1.3.x)"},
      {"ociVersion 1.4.0", [](json& j) { j["ociVersion"] = "1.4.0"; },
       "ociVersion: unsupported version \"1.4.0\" (berth supports 1.0.0 to 1.3.x)"},
      {"ociVersion 0.6.0", [](json& j) { j["ociVersion"] = "0.6.0"; },
       "ociVersion: unsupported version \"0.6.0\" (berth supports 1.0.0 to 1.3.x)"},
      {"ociVersion without minor", [](json& j) { j["ociVersion"] = "1"; }, "ociVersion: invalid version \"1\""},
      {"ociVersion with v prefix", [](json& j) { j["ociVersion"] = "v1.0.0"; },
       "ociVersion: invalid version \"v1.0.0\""},
      {"ociVersion non-numeric minor", [](json& j) { j["ociVersion"] = "1.x"; }, "ociVersion: invalid version \"1.x\""},
      {"root missing", [](json& j) { j.erase("root"); }, "root.path: required"},
      {"root.path empty", [](json& j) { j["root"]["path"] = ""; }, "root.path: required"},
      {"linux missing", [](json& j) { j.erase("linux"); }, "linux: required for a Linux container"},
      {"process missing", [](json& j) { j.erase("process"); }, "process: required"},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: process fields") {
  const InvalidCase cases[] = {
      {"args empty", [](json& j) { j["process"]["args"] = json::array(); }, "process.args: must not be empty"},
      {"args missing", [](json& j) { j["process"].erase("args"); }, "process.args: must not be empty"},
      {"args[0] empty", [](json& j) { j["process"]["args"] = {"", "x"}; }, "process.args[0]: must not be empty"},
      {"args[1] with NUL", [](json& j) { j["process"]["args"] = {"echo", std::string("a\0b", 3)}; },
       "process.args[1]: contains a NUL byte"},
      {"commandLine", [](json& j) { j["process"]["commandLine"] = "cmd.exe /c dir"; },
       "process.commandLine: only supported on Windows"},
      {"cwd missing", [](json& j) { j["process"].erase("cwd"); }, "process.cwd: required"},
      {"cwd relative", [](json& j) { j["process"]["cwd"] = "home/user"; },
       "process.cwd: must be an absolute path, got \"home/user\""},
      {"env without =", [](json& j) { j["process"]["env"][1] = "TERM"; },
       "process.env[1]: expected NAME=value, got \"TERM\""},
      {"env empty name", [](json& j) { j["process"]["env"][0] = "=value"; }, "process.env[0]: empty variable name"},
      {"env with NUL", [](json& j) { j["process"]["env"][1] = std::string("TERM=x\0y", 8); },
       "process.env[1]: contains a NUL byte"},
      {"consoleSize without terminal",
       [](json& j) {
         j["process"]["terminal"] = false;
         j["process"]["consoleSize"] = {{"height", 24}, {"width", 80}};
       },
       "process.consoleSize: only valid with process.terminal"},
      {"umask above 0777", [](json& j) { j["process"]["user"]["umask"] = 01000; },
       "process.user.umask: must be at most 0777, got 512"},
      {"username", [](json& j) { j["process"]["user"]["username"] = "root"; },
       "process.user.username: only supported on Windows"},
      {"oomScoreAdj above 1000", [](json& j) { j["process"]["oomScoreAdj"] = 1001; },
       "process.oomScoreAdj: must be between -1000 and 1000, got 1001"},
      {"oomScoreAdj below -1000", [](json& j) { j["process"]["oomScoreAdj"] = -1001; },
       "process.oomScoreAdj: must be between -1000 and 1000, got -1001"},
      {"rlimit unknown type", [](json& j) { j["process"]["rlimits"][0]["type"] = "RLIMIT_FOO"; },
       "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
      {"rlimit lower-case type", [](json& j) { j["process"]["rlimits"][0]["type"] = "rlimit_nofile"; },
       "process.rlimits[0].type: unknown rlimit \"rlimit_nofile\""},
      {"rlimit duplicate",
       [](json& j) {
         j["process"]["rlimits"].push_back({{"type", "RLIMIT_NPROC"}, {"soft", 1}, {"hard", 1}});
         j["process"]["rlimits"].push_back({{"type", "RLIMIT_NOFILE"}, {"soft", 1}, {"hard", 1}});
       },
       "process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\""},
      {"rlimit soft above hard", [](json& j) { j["process"]["rlimits"][0]["soft"] = 2048; },
       "process.rlimits[0]: soft limit 2048 exceeds hard limit 1024"},
      {"capability unknown", [](json& j) { j["process"]["capabilities"]["effective"][1] = "CAP_FOO"; },
       "process.capabilities.effective[1]: unknown capability \"CAP_FOO\""},
      {"capability without CAP_ prefix", [](json& j) { j["process"]["capabilities"]["bounding"][0] = "KILL"; },
       "process.capabilities.bounding[0]: unknown capability \"KILL\""},
      {"ambient capability lower case", [](json& j) { j["process"]["capabilities"]["ambient"] = {"cap_kill"}; },
       "process.capabilities.ambient[0]: unknown capability \"cap_kill\""},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: mounts") {
  const InvalidCase cases[] = {
      {"destination missing", [](json& j) { j["mounts"][1].erase("destination"); }, "mounts[1].destination: required"},
      {"destination is /", [](json& j) { j["mounts"][0]["destination"] = "/"; },
       "mounts[0].destination: cannot mount over the root filesystem"},
      {"destination resolves to /", [](json& j) { j["mounts"][2]["destination"] = "/dev/.."; },
       "mounts[2].destination: cannot mount over the root filesystem"},
      {"type missing without bind", [](json& j) { j["mounts"][3].erase("type"); },
       "mounts[3].type: required unless the options hold bind or rbind"},
      {"bind without source", [](json& j) { add_mount(j, {{"destination", "/data"}, {"options", {"bind"}}}); },
       "mounts[7].source: required for a bind mount"},
      {"bind type without source", [](json& j) { add_mount(j, {{"destination", "/data"}, {"type", "bind"}}); },
       "mounts[7].source: required for a bind mount"},
      {"tmpcopyup on a bind mount",
       [](json& j) {
         add_mount(j, {{"destination", "/data"}, {"source", "/srv"}, {"options", {"rbind", "tmpcopyup"}}});
       },
       "mounts[7].options: tmpcopyup is only valid for tmpfs"},
      {"remount", [](json& j) { j["mounts"][0]["options"] = {"remount", "ro"}; },
       "mounts[0].options: remount is not valid in a config"},
      {"idmap option",
       [](json& j) { add_mount(j, {{"destination", "/data"}, {"source", "/srv"}, {"options", {"rbind", "idmap"}}}); },
       "mounts[7].options: idmap without its own uidMappings needs linux.uidMappings"},
      {"idmap on tmpfs",
       [](json& j) { add_mount(j, {{"destination", "/t"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"idmap"}}}); },
       "mounts[7].options: idmapped mounts must be bind mounts"},
      {"mount uidMappings",
       [](json& j) {
         add_mount(j, {{"destination", "/data"},
                       {"type", "bind"},
                       {"source", "/srv"},
                       {"uidMappings", json::array({mapping(0, 1000, 1)})}});
       },
       "mounts[7].gidMappings: required with uidMappings"},
      {"mount mappings of size 0",
       [](json& j) {
         add_mount(j, {{"destination", "/data"},
                       {"type", "bind"},
                       {"source", "/srv"},
                       {"uidMappings", json::array({mapping(0, 1000, 0)})},
                       {"gidMappings", json::array({mapping(0, 1000, 1)})}});
       },
       "mounts[7].uidMappings[0].size: must be greater than 0"},
      {"cgroup bind mount", [](json& j) { j["mounts"][6]["options"].push_back("rbind"); },
       "mounts[6].options: a cgroup mount cannot be a bind mount"},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: namespaces and id mappings") {
  const InvalidCase cases[] = {
      {"unknown namespace", [](json& j) { j["linux"]["namespaces"][2]["type"] = "foo"; },
       "linux.namespaces[2].type: unknown \"foo\""},
      {"proc name instead of spec name", [](json& j) { j["linux"]["namespaces"][1]["type"] = "net"; },
       "linux.namespaces[1].type: unknown \"net\""},
      {"duplicate namespace", [](json& j) { j["linux"]["namespaces"].push_back({{"type", "pid"}}); },
       "linux.namespaces[6].type: duplicate namespace \"pid\""},
      {"relative namespace path", [](json& j) { j["linux"]["namespaces"][1]["path"] = "netns/n1"; },
       "linux.namespaces[1].path: must be an absolute path, got \"netns/n1\""},
      {"no mount namespace", [](json& j) { remove_namespace(j, "mount"); },
       "linux.namespaces: a mount namespace is required"},
      {"uid mappings without user namespace",
       [](json& j) { j["linux"]["uidMappings"] = json::array({mapping(0, 1000, 1)}); },
       "linux.uidMappings: mappings need a user namespace in linux.namespaces"},
      {"new user namespace without mappings", [](json& j) { j["linux"]["namespaces"].push_back({{"type", "user"}}); },
       "linux.uidMappings: required with a new user namespace"},
      {"new user namespace without gid mappings",
       [](json& j) {
         add_user_ns(j);
         j["linux"].erase("gidMappings");
       },
       "linux.gidMappings: required with a new user namespace"},
      {"mappings while joining a user namespace",
       [](json& j) {
         add_user_ns(j);
         j["linux"]["namespaces"].back()["path"] = "/proc/1/ns/user";
       },
       "linux.uidMappings: cannot be set when joining an existing user namespace"},
      {"mapping of size 0",
       [](json& j) {
         add_user_ns(j);
         j["linux"]["uidMappings"][0]["size"] = 0;
       },
       "linux.uidMappings[0].size: must be greater than 0"},
      {"overlapping container ids",
       [](json& j) {
         add_user_ns(j);
         j["linux"]["uidMappings"] = json::array({mapping(0, 1000, 10), mapping(5, 5000, 10)});
       },
       "linux.uidMappings[1]: container ids overlap linux.uidMappings[0]"},
      {"range beyond 32 bits",
       [](json& j) {
         add_user_ns(j);
         j["linux"]["gidMappings"] = json::array({mapping(0, 4294967295u, 2)});
       },
       "linux.gidMappings[0]: range exceeds the 32-bit id space"},
      {"341 mappings",
       [](json& j) {
         add_user_ns(j);
         json maps = json::array();
         for (uint32_t i = 0; i < 341; ++i) maps.push_back(mapping(i, 100000 + i, 1));
         j["linux"]["uidMappings"] = maps;
       },
       "linux.uidMappings: at most 340 mappings are allowed, got 341"},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: time offsets, sysctl, hostname and paths") {
  const InvalidCase cases[] = {
      {"unknown clock",
       [](json& j) {
         j["linux"]["namespaces"].push_back({{"type", "time"}});
         j["linux"]["timeOffsets"] = {{"realtime", {{"secs", 1}}}};
       },
       "linux.timeOffsets.realtime: unknown clock (expected monotonic or boottime)"},
      {"nanosecs of a full second",
       [](json& j) {
         j["linux"]["namespaces"].push_back({{"type", "time"}});
         j["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 1}, {"nanosecs", 1000000000}}}};
       },
       "linux.timeOffsets.monotonic.nanosecs: must be less than 1000000000"},
      {"time offsets without time namespace",
       [](json& j) { j["linux"]["timeOffsets"] = {{"boottime", {{"secs", 1}}}}; },
       "linux.timeOffsets: requires a new time namespace"},
      {"time offsets with a joined time namespace",
       [](json& j) {
         j["linux"]["namespaces"].push_back({{"type", "time"}, {"path", "/proc/1/ns/time"}});
         j["linux"]["timeOffsets"] = {{"boottime", {{"secs", 1}}}};
       },
       "linux.timeOffsets: requires a new time namespace"},
      {"sysctl of the host", [](json& j) { j["linux"]["sysctl"] = {{"vm.swappiness", "10"}}; },
       "linux.sysctl[\"vm.swappiness\"]: not in a separate kernel namespace of the container"},
      {"net sysctl without network namespace",
       [](json& j) {
         remove_namespace(j, "network");
         j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
       },
       "linux.sysctl[\"net.ipv4.ip_forward\"]: not in a separate kernel namespace of the container"},
      {"ipc sysctl without ipc namespace",
       [](json& j) {
         remove_namespace(j, "ipc");
         j["linux"]["sysctl"] = {{"kernel.shmmax", "1"}};
       },
       "linux.sysctl[\"kernel.shmmax\"]: not in a separate kernel namespace of the container"},
      {"sysctl name with a slash", [](json& j) { j["linux"]["sysctl"] = {{"net/ipv4/ip_forward", "1"}}; },
       "linux.sysctl[\"net/ipv4/ip_forward\"]: invalid name"},
      {"sysctl name with ..", [](json& j) { j["linux"]["sysctl"] = {{"net..x", "1"}}; },
       "linux.sysctl[\"net..x\"]: invalid name"},
      {"empty sysctl name", [](json& j) { j["linux"]["sysctl"] = {{"", "1"}}; }, "linux.sysctl[\"\"]: invalid name"},
      {"hostname without uts namespace", [](json& j) { remove_namespace(j, "uts"); },
       "hostname: requires a UTS namespace in linux.namespaces"},
      {"domainname without uts namespace",
       [](json& j) {
         remove_namespace(j, "uts");
         j.erase("hostname");
         j["domainname"] = "example.org";
       },
       "domainname: requires a UTS namespace in linux.namespaces"},
      {"unknown rootfsPropagation", [](json& j) { j["linux"]["rootfsPropagation"] = "bogus"; },
       "linux.rootfsPropagation: unknown value \"bogus\""},
      {"relative masked path", [](json& j) { j["linux"]["maskedPaths"][1] = "proc/asound"; },
       "linux.maskedPaths[1]: must be an absolute path, got \"proc/asound\""},
      {"relative readonly path", [](json& j) { j["linux"]["readonlyPaths"][0] = "proc/bus"; },
       "linux.readonlyPaths[0]: must be an absolute path, got \"proc/bus\""},
      {"unknown personality",
       [](json& j) { j["linux"]["personality"] = {{"domain", "LINUX64"}}; },
       "linux.personality.domain: unknown domain \"LINUX64\" (expected LINUX or LINUX32)"},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: devices and the device cgroup") {
  auto dev = [](const char* type, const char* path) {
    return json{{"type", type}, {"path", path}, {"major", 1}, {"minor", 3}};
  };
  const InvalidCase cases[] = {
      {"unknown device type", [&](json& j) { j["linux"]["devices"] = json::array({dev("x", "/dev/x")}); },
       "linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)"},
      {"device type missing",
       [&](json& j) {
         j["linux"]["devices"] = json::array({dev("c", "/dev/x")});
         j["linux"]["devices"][0].erase("type");
       },
       "linux.devices[0].type: unknown device type \"\" (expected c, b, u or p)"},
      {"relative device path", [&](json& j) { j["linux"]["devices"] = json::array({dev("c", "dev/null")}); },
       "linux.devices[0].path: must be an absolute path, got \"dev/null\""},
      {"device outside /dev", [&](json& j) { j["linux"]["devices"] = json::array({dev("c", "/tmp/null")}); },
       "linux.devices[0].path: must be under /dev, got \"/tmp/null\""},
      {"device escaping /dev", [&](json& j) { j["linux"]["devices"] = json::array({dev("c", "/dev/../etc/x")}); },
       "linux.devices[0].path: must be under /dev, got \"/dev/../etc/x\""},
      {"duplicate device",
       [&](json& j) { j["linux"]["devices"] = json::array({dev("c", "/dev/fuse"), dev("c", "/dev//fuse")}); },
       "linux.devices[1].path: duplicate device \"/dev//fuse\""},
      {"negative major",
       [&](json& j) {
         j["linux"]["devices"] = json::array({dev("c", "/dev/x")});
         j["linux"]["devices"][0]["major"] = -1;
       },
       "linux.devices[0]: major and minor must not be negative"},
      {"fileMode beyond 07777",
       [&](json& j) {
         j["linux"]["devices"] = json::array({dev("c", "/dev/x")});
         j["linux"]["devices"][0]["fileMode"] = 010000;
       },
       "linux.devices[0].fileMode: must be at most 07777"},
      {"device rule unknown type", [](json& j) { j["linux"]["resources"]["devices"][0]["type"] = "x"; },
       "linux.resources.devices[0].type: unknown device type \"x\" (expected a, c or b)"},
      {"device rule bad access", [](json& j) { j["linux"]["resources"]["devices"][0]["access"] = "rwx"; },
       "linux.resources.devices[0].access: must be a combination of r, w and m, got \"rwx\""},
      {"device rule empty access", [](json& j) { j["linux"]["resources"]["devices"][0]["access"] = ""; },
       "linux.resources.devices[0].access: must be a combination of r, w and m, got \"\""},
      {"device rule major below -1", [](json& j) { j["linux"]["resources"]["devices"][0]["major"] = -2; },
       "linux.resources.devices[0]: major and minor must be device numbers, or -1 or absent for any"},
      {"device rule minor beyond 32 bits",
       [](json& j) { j["linux"]["resources"]["devices"][0]["minor"] = 4294967296ll; },
       "linux.resources.devices[0]: major and minor must be device numbers, or -1 or absent for any"},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: valid features berth does not implement are refused by name") {
  const InvalidCase cases[] = {
      {"windows section", [](json& j) { j["windows"] = json::object(); },
       "not supported: windows (berth runs Linux containers)"},
      {"solaris section", [](json& j) { j["solaris"] = json::object(); },
       "not supported: solaris (berth runs Linux containers)"},
      {"apparmor profile", [](json& j) { j["process"]["apparmorProfile"] = "docker-default"; },
       "not supported: process.apparmorProfile (AppArmor is not enabled on this host)"},
      {"selinux label", [](json& j) { j["process"]["selinuxLabel"] = "system_u:system_r:svirt_lxc_net_t:s0"; },
       "not supported: process.selinuxLabel (SELinux is not enabled on this host)"},
      {"intelRdt", [](json& j) { j["linux"]["intelRdt"] = {{"closID", "c1"}}; }, "not supported: linux.intelRdt"},
      {"memoryPolicy", [](json& j) { j["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}}; },
       "not supported: linux.memoryPolicy"},
      {"netDevices", [](json& j) { j["linux"]["netDevices"] = {{"eth0", json::object()}}; },
       "not supported: linux.netDevices"},
      {"mountLabel", [](json& j) { j["linux"]["mountLabel"] = "system_u:object_r:svirt_sandbox_file_t:s0"; },
       "not supported: linux.mountLabel (SELinux is not enabled on this host)"},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: hooks are checked field by field") {
  const InvalidCase cases[] = {
      {"relative path", [](json& j) { j["hooks"] = {{"prestart", {{{"path", "bin/hook"}}}}}; },
       "hooks.prestart[0].path: must be an absolute path, got \"bin/hook\""},
      {"missing path", [](json& j) { j["hooks"] = {{"poststop", {{{"args", {"x"}}}}}}; },
       "hooks.poststop[0].path: required"},
      {"zero timeout", [](json& j) {
         j["hooks"] = {{"createRuntime", {{{"path", "/bin/true"}}, {{"path", "/bin/true"}, {"timeout", 0}}}}};
       }, "hooks.createRuntime[1].timeout: must be greater than zero"},
      {"bad env", [](json& j) { j["hooks"] = {{"startContainer", {{{"path", "/bin/true"}, {"env", {"NOVALUE"}}}}}}; },
       "hooks.startContainer[0].env[0]: expected NAME=value, got \"NOVALUE\""},
      {"seccomp action", [](json& j) {
         j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_SOMETIMES"}}}}};
       }, "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_SOMETIMES\""},
  };
  run_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("validate_spec: scheduler, I/O priority and CPU affinity are checked field by field") {
  const InvalidCase cases[] = {
      {"unknown policy", [](json& j) { j["process"]["scheduler"] = {{"policy", "SCHED_FAST"}}; },
       "process.scheduler.policy: unknown policy \"SCHED_FAST\""},
      {"FIFO without priority", [](json& j) { j["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}}; },
       "process.scheduler.priority: required for SCHED_FIFO"},
      {"RR priority out of range", [](json& j) { j["process"]["scheduler"] = {{"policy", "SCHED_RR"}, {"priority", 100}}; },
       "process.scheduler.priority: must be between 1 and 99 for SCHED_RR, got 100"},
      {"nice out of range", [](json& j) { j["process"]["scheduler"] = {{"policy", "SCHED_OTHER"}, {"nice", 20}}; },
       "process.scheduler.nice: must be between -20 and 19, got 20"},
      {"unknown flag", [](json& j) {
         j["process"]["scheduler"] = {{"policy", "SCHED_OTHER"}, {"flags", {"SCHED_FLAG_NOPE"}}};
       }, "process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_NOPE\""},
      {"deadline without runtime", [](json& j) {
         j["process"]["scheduler"] = {{"policy", "SCHED_DEADLINE"}, {"deadline", 1000000}};
       }, "process.scheduler: runtime and deadline are required for SCHED_DEADLINE"},
      {"unknown io class", [](json& j) { j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_FAST"}}; },
       "process.ioPriority.class: unknown class \"IOPRIO_CLASS_FAST\""},
      {"io priority out of range", [](json& j) {
         j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 8}};
       }, "process.ioPriority.priority: must be between 0 and 7, got 8"},
      {"bad cpu list", [](json& j) { j["process"]["execCPUAffinity"] = {{"initial", "3-1"}}; },
       "process.execCPUAffinity.initial: invalid cpu list \"3-1\""},
  };
  run_cases(std::begin(cases), std::end(cases));
}

// The two checks below name the field actually at fault. With only
// gidMappings present, pointing the user at linux.uidMappings sends them to
// the wrong line of config.json.
TEST_CASE("validate_spec: gid mappings alone without a user namespace name linux.gidMappings") {
  json j = base_config();
  j["linux"]["gidMappings"] = json::array({mapping(0, 1000, 1)});
  CHECK(validate_error(j) == "linux.gidMappings: mappings need a user namespace in linux.namespaces");
}

TEST_CASE("validate_spec: gid mappings alone when joining a user namespace name linux.gidMappings") {
  json j = base_config();
  j["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}});
  j["linux"]["gidMappings"] = json::array({mapping(0, 1000, 1)});
  CHECK(validate_error(j) == "linux.gidMappings: cannot be set when joining an existing user namespace");
}

// The kernel refuses a uid_map/gid_map whose lines overlap on either side
// (the ids inside the namespace or the host ids), so a config with
// overlapping host ranges can never start; it must fail validation too.
TEST_CASE("validate_spec: overlapping host id ranges are rejected") {
  json j = base_config();
  add_user_ns(j);
  j["linux"]["uidMappings"] = json::array({mapping(0, 100000, 10), mapping(10, 100005, 10)});
  std::string msg = validate_error(j);
  INFO("message: ", msg);
  CHECK(berth::starts_with(msg, "linux.uidMappings[1]: "));
}
