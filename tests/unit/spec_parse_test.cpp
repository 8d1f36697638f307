// parse_spec: JSON text -> typed Spec. Covers where every field lands, the
// runtime-spec rules for unknown and null fields, and the type errors, each
// of which must name the offending field first.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/spec.hpp"
#include "runtime/spec_default.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using berth::runtime::parse_spec;
using berth::runtime::Spec;

json base_config() { return json::parse(berth::runtime::default_spec_json(false, 0, 0)); }

// Parses `j`; fails the test (with the error text) when parsing fails.
Spec parse_ok(const json& j) {
  auto r = parse_spec(j.dump());
  INFO("parse error: ", r ? std::string() : r.error().message());
  REQUIRE(r.ok());
  return std::move(r).value();
}

// The parse error for `j`, or "<parsed>" when it parses.
std::string parse_error(const std::string& text) {
  auto r = parse_spec(text);
  return r ? std::string("<parsed>") : r.error().message();
}

struct MalformedCase {
  const char* what;
  std::function<void(json&)> mutate;
  std::string expected;  // the whole error message
};

}  // namespace

TEST_CASE("parse_spec: the default config parses into the expected values") {
  Spec s = parse_ok(base_config());
  CHECK(s.oci_version == berth::runtime::kOciVersion);
  REQUIRE(s.root.has_value());
  CHECK(s.root->path == "rootfs");
  CHECK(s.root->readonly);
  CHECK(s.hostname == "berth");
  CHECK_FALSE(s.domainname.has_value());
  REQUIRE(s.process.has_value());
  CHECK(s.process->terminal);
  CHECK(s.process->args == std::vector<std::string>{"sh"});
  CHECK(s.process->cwd == "/");
  CHECK(s.process->env.size() == 2);
  CHECK(s.process->no_new_privileges);
  CHECK(s.process->user.uid == 0);
  CHECK(s.process->user.gid == 0);
  CHECK_FALSE(s.process->user.umask.has_value());
  CHECK(s.mounts.size() == 7);
  CHECK(s.hooks.empty());
  CHECK(s.other_platforms.empty());
  REQUIRE(s.linux_.has_value());
  CHECK_FALSE(s.linux_->seccomp.has_value());
  CHECK(s.linux_->masked_paths.size() == 10);
  CHECK(s.linux_->readonly_paths.size() == 5);
}

TEST_CASE("parse_spec: rlimits land in typed structs, including RLIM_INFINITY") {
  json j = base_config();
  j["process"]["rlimits"] = json::array({
      {{"type", "RLIMIT_NOFILE"}, {"soft", 512}, {"hard", 4096}},
      {{"type", "RLIMIT_CORE"}, {"soft", UINT64_MAX}, {"hard", UINT64_MAX}},
  });
  Spec s = parse_ok(j);
  REQUIRE(s.process->rlimits.size() == 2);
  CHECK(s.process->rlimits[0].type == "RLIMIT_NOFILE");
  CHECK(s.process->rlimits[0].soft == 512);
  CHECK(s.process->rlimits[0].hard == 4096);
  CHECK(s.process->rlimits[1].type == "RLIMIT_CORE");
  CHECK(s.process->rlimits[1].soft == UINT64_MAX);
  CHECK(s.process->rlimits[1].hard == UINT64_MAX);
}

TEST_CASE("parse_spec: capability sets are kept apart") {
  json j = base_config();
  j["process"]["capabilities"] = {
      {"bounding", {"CAP_CHOWN", "CAP_KILL"}},
      {"effective", {"CAP_KILL"}},
      {"inheritable", json::array()},
      {"permitted", {"CAP_CHOWN"}},
      {"ambient", {"CAP_NET_RAW"}},
  };
  Spec s = parse_ok(j);
  REQUIRE(s.process->capabilities.has_value());
  const auto& c = *s.process->capabilities;
  CHECK(c.bounding == std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"});
  CHECK(c.effective == std::vector<std::string>{"CAP_KILL"});
  CHECK(c.inheritable.empty());
  CHECK(c.permitted == std::vector<std::string>{"CAP_CHOWN"});
  CHECK(c.ambient == std::vector<std::string>{"CAP_NET_RAW"});
}

TEST_CASE("parse_spec: process user, console size and oomScoreAdj") {
  json j = base_config();
  j["process"]["user"] = {{"uid", 1000}, {"gid", 100}, {"umask", 18}, {"additionalGids", {5, 6, 4294967295u}}};
  j["process"]["consoleSize"] = {{"height", 24}, {"width", 80}};
  j["process"]["oomScoreAdj"] = -500;
  Spec s = parse_ok(j);
  const auto& p = *s.process;
  CHECK(p.user.uid == 1000);
  CHECK(p.user.gid == 100);
  REQUIRE(p.user.umask.has_value());
  CHECK(*p.user.umask == 18);
  CHECK(p.user.additional_gids == std::vector<uint32_t>{5, 6, 4294967295u});
  REQUIRE(p.console_size.has_value());
  CHECK(p.console_size->height == 24);
  CHECK(p.console_size->width == 80);
  REQUIRE(p.oom_score_adj.has_value());
  CHECK(*p.oom_score_adj == -500);
}

TEST_CASE("parse_spec: an integral number written as a float is accepted") {
  // Some generators emit 1024.0; the value is still an exact integer.
  json j = base_config();
  j["process"]["user"]["uid"] = 1000.0;
  Spec s = parse_ok(j);
  CHECK(s.process->user.uid == 1000);
}

TEST_CASE("parse_spec: mounts keep destination, type, source and options in order") {
  Spec s = parse_ok(base_config());
  const auto& m = s.mounts[1];
  CHECK(m.destination == "/dev");
  CHECK(m.type == "tmpfs");
  CHECK(m.source == "tmpfs");
  CHECK(m.options == std::vector<std::string>{"nosuid", "strictatime", "mode=755", "size=65536k"});
  CHECK(s.mounts[0].options.empty());
  CHECK(s.mounts[0].uid_mappings.empty());
}

TEST_CASE("parse_spec: idmapped mount mappings are parsed") {
  json j = base_config();
  j["mounts"].push_back({{"destination", "/data"},
                         {"type", "bind"},
                         {"source", "/srv"},
                         {"uidMappings", {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}}},
                         {"gidMappings", {{{"containerID", 1}, {"hostID", 200000}, {"size", 10}}}}});
  Spec s = parse_ok(j);
  const auto& m = s.mounts.back();
  REQUIRE(m.uid_mappings.size() == 1);
  CHECK(m.uid_mappings[0].container_id == 0);
  CHECK(m.uid_mappings[0].host_id == 100000);
  CHECK(m.uid_mappings[0].size == 65536);
  REQUIRE(m.gid_mappings.size() == 1);
  CHECK(m.gid_mappings[0].container_id == 1);
  CHECK(m.gid_mappings[0].host_id == 200000);
  CHECK(m.gid_mappings[0].size == 10);
}

TEST_CASE("parse_spec: namespaces keep their order and join paths") {
  json j = base_config();
  j["linux"]["namespaces"] = json::array({{{"type", "pid"}},
                                          {{"type", "network"}, {"path", "/var/run/netns/n1"}},
                                          {{"type", "mount"}}});
  Spec s = parse_ok(j);
  const auto& ns = s.linux_->namespaces;
  REQUIRE(ns.size() == 3);
  CHECK(ns[0].type == "pid");
  CHECK(ns[0].path.empty());
  CHECK(ns[1].type == "network");
  CHECK(ns[1].path == "/var/run/netns/n1");
  CHECK(ns[2].type == "mount");
}

TEST_CASE("parse_spec: linux uid and gid mappings") {
  Spec s = parse_ok(json::parse(berth::runtime::default_spec_json(true, 1234, 5678)));
  const auto& l = *s.linux_;
  REQUIRE(l.uid_mappings.size() == 1);
  CHECK(l.uid_mappings[0].container_id == 0);
  CHECK(l.uid_mappings[0].host_id == 1234);
  CHECK(l.uid_mappings[0].size == 1);
  REQUIRE(l.gid_mappings.size() == 1);
  CHECK(l.gid_mappings[0].host_id == 5678);
}

TEST_CASE("parse_spec: annotations and sysctl become string maps") {
  json j = base_config();
  j["annotations"] = {{"org.example.key", "value"}, {"empty", ""}};
  j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "1000"}};
  Spec s = parse_ok(j);
  CHECK(s.annotations.size() == 2);
  CHECK(s.annotations.at("org.example.key") == "value");
  CHECK(s.annotations.at("empty").empty());
  CHECK(s.linux_->sysctl.size() == 2);
  CHECK(s.linux_->sysctl.at("net.ipv4.ip_forward") == "1");
  CHECK(s.linux_->sysctl.at("kernel.shmmax") == "1000");
}

TEST_CASE("parse_spec: linux devices, time offsets, personality and simple strings") {
  json j = base_config();
  j["linux"]["devices"] = json::array(
      {{{"type", "c"}, {"path", "/dev/fuse"}, {"major", 10}, {"minor", 229}, {"fileMode", 438}, {"uid", 0}, {"gid", 5}},
       {{"type", "b"}, {"path", "/dev/sda"}, {"major", 8}, {"minor", 0}}});
  j["linux"]["timeOffsets"] = {{"monotonic", {{"secs", -30}, {"nanosecs", 5}}}, {"boottime", {{"secs", 7}}}};
  j["linux"]["personality"] = {{"domain", "LINUX32"}};
  j["linux"]["cgroupsPath"] = "/berth/c1";
  j["linux"]["rootfsPropagation"] = "rslave";
  j["linux"]["mountLabel"] = "label";
  Spec s = parse_ok(j);
  const auto& l = *s.linux_;
  REQUIRE(l.devices.size() == 2);
  CHECK(l.devices[0].type == "c");
  CHECK(l.devices[0].path == "/dev/fuse");
  CHECK(l.devices[0].major == 10);
  CHECK(l.devices[0].minor == 229);
  CHECK(l.devices[0].file_mode == std::optional<uint32_t>(438));
  CHECK(l.devices[0].uid == std::optional<uint32_t>(0));
  CHECK(l.devices[0].gid == std::optional<uint32_t>(5));
  CHECK_FALSE(l.devices[1].file_mode.has_value());
  CHECK_FALSE(l.devices[1].uid.has_value());
  REQUIRE(l.time_offsets.size() == 2);
  CHECK(l.time_offsets.at("monotonic").secs == -30);
  CHECK(l.time_offsets.at("monotonic").nanosecs == 5);
  CHECK(l.time_offsets.at("boottime").secs == 7);
  CHECK(l.time_offsets.at("boottime").nanosecs == 0);
  CHECK(l.personality_domain == std::optional<std::string>("LINUX32"));
  CHECK(l.cgroups_path == "/berth/c1");
  CHECK(l.rootfs_propagation == "rslave");
  CHECK(l.mount_label == "label");
}

TEST_CASE("parse_spec: device cgroup rules default the type and leave wildcards unset") {
  json j = base_config();
  j["linux"]["resources"]["devices"] = json::array({
      {{"allow", false}, {"access", "rwm"}},
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}},
  });
  Spec s = parse_ok(j);
  REQUIRE(s.linux_->resources.has_value());
  const auto& d = s.linux_->resources->devices;
  REQUIRE(d.size() == 2);
  CHECK_FALSE(d[0].allow);
  CHECK(d[0].type == "a");
  CHECK_FALSE(d[0].major.has_value());
  CHECK_FALSE(d[0].minor.has_value());
  CHECK(d[0].access == "rwm");
  CHECK(d[1].allow);
  CHECK(d[1].type == "c");
  CHECK(d[1].major == std::optional<int64_t>(1));
  CHECK(d[1].minor == std::optional<int64_t>(3));
  CHECK(d[1].access == "rw");
}

TEST_CASE("parse_spec: resource groups count as requested only when they hold a value") {
  json j = base_config();
  j["linux"]["resources"]["memory"] = {{"limit", 1048576}};
  j["linux"]["resources"]["cpu"] = json::object();                    // empty: nothing asked
  j["linux"]["resources"]["pids"] = {{"limit", nullptr}};             // only nulls: nothing asked
  j["linux"]["resources"]["blockIO"] = {{"weightDevice", json::array()}};  // empty list: nothing asked
  j["linux"]["resources"]["unified"] = {{"memory.high", "1G"}};
  j["linux"]["resources"]["hugepageLimits"] = json::array({{{"pageSize", "2MB"}, {"limit", 0}}});
  Spec s = parse_ok(j);
  const auto& r = *s.linux_->resources;
  CHECK(r.requested == std::vector<std::string>{"memory", "unified", "hugepageLimits"});
  REQUIRE(r.hugepage_limits.size() == 1);
  CHECK(r.hugepage_limits[0].page_size == "2MB");
  CHECK(r.memory->limit == 1048576);
}

TEST_CASE("parse_spec: hooks are parsed into typed lists") {
  json j = base_config();
  j["hooks"] = {
      {"prestart", {{{"path", "/bin/pre"}, {"args", {"pre", "-x"}}, {"env", {"A=1"}}, {"timeout", 5}}}},
      {"poststop", {{{"path", "/bin/post"}}, {{"path", "/bin/post2"}}}},
  };
  Spec s = parse_ok(j);
  REQUIRE(s.hooks.prestart.size() == 1);
  const auto& h = s.hooks.prestart[0];
  CHECK(h.path == "/bin/pre");
  CHECK(h.args == std::vector<std::string>{"pre", "-x"});
  CHECK(h.env == std::vector<std::string>{"A=1"});
  CHECK(h.timeout == std::optional<int>(5));
  REQUIRE(s.hooks.poststop.size() == 2);
  CHECK(s.hooks.poststop[1].path == "/bin/post2");
  CHECK_FALSE(s.hooks.poststop[0].timeout.has_value());
  CHECK(s.hooks.create_runtime.empty());
  CHECK_FALSE(s.hooks.empty());
}

TEST_CASE("parse_spec: unsupported features are recorded, not dropped") {
  // The parser only notes their presence; validate_spec refuses them by name.
  json j = base_config();
  j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}};
  j["linux"]["intelRdt"] = {{"closID", "x"}};
  j["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}};
  j["linux"]["netDevices"] = {{"eth0", json::object()}};
  j["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}};
  j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_IDLE"}};
  j["process"]["execCPUAffinity"] = {{"initial", "0"}};
  j["process"]["apparmorProfile"] = "profile";
  j["process"]["selinuxLabel"] = "label";
  j["windows"] = json::object();
  j["vm"] = json::object();
  Spec s = parse_ok(j);
  CHECK(s.linux_->seccomp.has_value());
  CHECK(s.linux_->has_intel_rdt);
  CHECK(s.linux_->has_memory_policy);
  CHECK(s.linux_->has_net_devices);
  CHECK(s.process->scheduler.has_value());
  CHECK(s.process->io_priority.has_value());
  CHECK(s.process->exec_cpu_affinity.has_value());
  CHECK(s.process->apparmor_profile == "profile");
  CHECK(s.process->selinux_label == "label");
  CHECK(s.other_platforms == std::vector<std::string>{"windows", "vm"});
}

TEST_CASE("parse_spec: unknown fields are ignored at every level") {
  // runtime-spec: "Runtimes MUST ignore unknown properties".
  json j = base_config();
  j["org.example.extension"] = {{"anything", {1, 2, 3}}};
  j["process"]["futureField"] = "x";
  j["process"]["user"]["futureField"] = 5;
  j["root"]["futureField"] = true;
  j["mounts"][0]["futureField"] = json::array();
  j["linux"]["futureField"] = {{"nested", nullptr}};
  j["linux"]["namespaces"][0]["futureField"] = 1;
  j["linux"]["resources"]["futureField"] = "x";
  Spec s = parse_ok(j);
  CHECK(s.process->args == std::vector<std::string>{"sh"});
  CHECK(s.mounts[0].destination == "/proc");
  CHECK(s.linux_->namespaces[0].type == "pid");
}

TEST_CASE("parse_spec: null fields mean unset") {
  json j = base_config();
  j["hostname"] = nullptr;
  j["domainname"] = nullptr;
  j["annotations"] = nullptr;
  j["hooks"] = nullptr;
  j["process"]["capabilities"] = nullptr;
  j["process"]["rlimits"] = nullptr;
  j["process"]["user"]["umask"] = nullptr;
  j["process"]["oomScoreAdj"] = nullptr;
  j["process"]["consoleSize"] = nullptr;
  j["process"]["scheduler"] = nullptr;
  j["mounts"][1]["options"] = nullptr;
  j["linux"]["seccomp"] = nullptr;
  j["linux"]["resources"] = nullptr;
  j["linux"]["personality"] = nullptr;
  j["linux"]["sysctl"] = nullptr;
  Spec s = parse_ok(j);
  CHECK(s.hostname.empty());
  CHECK_FALSE(s.domainname.has_value());
  CHECK(s.annotations.empty());
  CHECK(s.hooks.empty());
  CHECK_FALSE(s.process->capabilities.has_value());
  CHECK(s.process->rlimits.empty());
  CHECK_FALSE(s.process->user.umask.has_value());
  CHECK_FALSE(s.process->oom_score_adj.has_value());
  CHECK_FALSE(s.process->console_size.has_value());
  CHECK_FALSE(s.process->scheduler.has_value());
  CHECK(s.mounts[1].options.empty());
  CHECK_FALSE(s.linux_->seccomp.has_value());
  CHECK_FALSE(s.linux_->resources.has_value());
  CHECK_FALSE(s.linux_->personality_domain.has_value());
  CHECK(s.linux_->sysctl.empty());
}

TEST_CASE("parse_spec: null top-level sections are unset") {
  json j = base_config();
  j["root"] = nullptr;
  j["process"] = nullptr;
  j["linux"] = nullptr;
  j["mounts"] = nullptr;
  Spec s = parse_ok(j);
  CHECK_FALSE(s.root.has_value());
  CHECK_FALSE(s.process.has_value());
  CHECK_FALSE(s.linux_.has_value());
  CHECK(s.mounts.empty());
}

TEST_CASE("parse_spec: an empty domainname is distinguished from an absent one") {
  json j = base_config();
  j["domainname"] = "";
  Spec s = parse_ok(j);
  CHECK(s.domainname == std::optional<std::string>(""));
}

TEST_CASE("parse_spec: malformed JSON text is reported as a config.json parse error") {
  const char* texts[] = {"", "{", "{\"ociVersion\": }", "{\"a\": 1,}", "{} trailing", "nul"};
  for (const char* t : texts) {
    INFO("text: ", t);
    std::string msg = parse_error(t);
    CHECK(berth::starts_with(msg, "parse config.json: "));
    // nlohmann's "[json.exception.parse_error.101] " tag is noise for users.
    CHECK(msg.find("[json.exception") == std::string::npos);
    CHECK(msg.size() > std::string("parse config.json: ").size());
  }
}

TEST_CASE("parse_spec: a config that is not an object is rejected") {
  CHECK(parse_error("[]") == "config: expected object, got array");
  CHECK(parse_error("null") == "config: expected object, got null");
  CHECK(parse_error("\"x\"") == "config: expected object, got string");
  CHECK(parse_error("42") == "config: expected object, got number");
}

TEST_CASE("parse_spec: each malformed field is named in the error") {
  const MalformedCase cases[] = {
      {"ociVersion number", [](json& j) { j["ociVersion"] = 1; }, "ociVersion: expected string, got number"},
      {"root string", [](json& j) { j["root"] = "rootfs"; }, "root: expected object, got string"},
      {"root.path number", [](json& j) { j["root"]["path"] = 5; }, "root.path: expected string, got number"},
      {"root.readonly string", [](json& j) { j["root"]["readonly"] = "yes"; },
       "root.readonly: expected boolean, got string"},
      {"mounts object", [](json& j) { j["mounts"] = json::object(); }, "mounts: expected array, got object"},
      {"mounts[1] string", [](json& j) { j["mounts"][1] = "/dev"; }, "mounts[1]: expected object, got string"},
      {"mounts[0].destination bool", [](json& j) { j["mounts"][0]["destination"] = true; },
       "mounts[0].destination: expected string, got boolean"},
      {"mounts[3].source array", [](json& j) { j["mounts"][3]["source"] = json::array(); },
       "mounts[3].source: expected string, got array"},
      {"mounts[2].options string", [](json& j) { j["mounts"][2]["options"] = "nosuid,noexec"; },
       "mounts[2].options: expected array of strings, got string"},
      {"mounts[1].options[2] number", [](json& j) { j["mounts"][1]["options"][2] = 755; },
       "mounts[1].options[2]: expected string, got number"},
      {"mount uidMappings missing hostID",
       [](json& j) { j["mounts"][0]["uidMappings"] = {{{"containerID", 0}, {"size", 1}}}; },
       "mounts[0].uidMappings[0].hostID: required"},
      {"process array", [](json& j) { j["process"] = json::array(); }, "process: expected object, got array"},
      {"process.terminal string", [](json& j) { j["process"]["terminal"] = "true"; },
       "process.terminal: expected boolean, got string"},
      {"process.args string", [](json& j) { j["process"]["args"] = "sh -c true"; },
       "process.args: expected array of strings, got string"},
      {"process.args[1] number", [](json& j) { j["process"]["args"] = {"sleep", 10}; },
       "process.args[1]: expected string, got number"},
      {"process.env[0] null", [](json& j) { j["process"]["env"][0] = nullptr; },
       "process.env[0]: expected string, got null"},
      {"process.cwd number", [](json& j) { j["process"]["cwd"] = 0; }, "process.cwd: expected string, got number"},
      {"process.user string", [](json& j) { j["process"]["user"] = "root"; },
       "process.user: expected object, got string"},
      {"process.user.uid negative", [](json& j) { j["process"]["user"]["uid"] = -1; },
       "process.user.uid: value -1 must not be negative"},
      {"process.user.gid too large", [](json& j) { j["process"]["user"]["gid"] = 4294967296ull; },
       "process.user.gid: value 4294967296 is out of range"},
      {"process.user.uid fraction", [](json& j) { j["process"]["user"]["uid"] = 1.5; },
       "process.user.uid: expected integer, got fraction"},
      {"process.user.umask string", [](json& j) { j["process"]["user"]["umask"] = "022"; },
       "process.user.umask: expected integer, got string"},
      {"process.user.additionalGids string", [](json& j) { j["process"]["user"]["additionalGids"] = "5"; },
       "process.user.additionalGids: expected array of integers, got string"},
      {"process.user.additionalGids[1] string",
       [](json& j) { j["process"]["user"]["additionalGids"] = json::array({5, "wheel"}); },
       "process.user.additionalGids[1]: expected integer, got string"},
      {"process.consoleSize array", [](json& j) { j["process"]["consoleSize"] = {24, 80}; },
       "process.consoleSize: expected object, got array"},
      {"process.consoleSize.height string",
       [](json& j) { j["process"]["consoleSize"] = {{"height", "24"}, {"width", 80}}; },
       "process.consoleSize.height: expected integer, got string"},
      {"process.capabilities string", [](json& j) { j["process"]["capabilities"] = "all"; },
       "process.capabilities: expected object, got string"},
      {"process.capabilities.bounding[0] number", [](json& j) { j["process"]["capabilities"]["bounding"][0] = 21; },
       "process.capabilities.bounding[0]: expected string, got number"},
      {"process.capabilities.ambient object", [](json& j) { j["process"]["capabilities"]["ambient"] = json::object(); },
       "process.capabilities.ambient: expected array of strings, got object"},
      {"process.rlimits object", [](json& j) { j["process"]["rlimits"] = json::object(); },
       "process.rlimits: expected array, got object"},
      {"process.rlimits[0] string", [](json& j) { j["process"]["rlimits"][0] = "RLIMIT_NOFILE"; },
       "process.rlimits[0]: expected object, got string"},
      {"process.rlimits[0] missing soft", [](json& j) { j["process"]["rlimits"][0].erase("soft"); },
       "process.rlimits[0].soft: required"},
      {"process.rlimits[0] null type", [](json& j) { j["process"]["rlimits"][0]["type"] = nullptr; },
       "process.rlimits[0].type: required"},
      {"process.rlimits[0].hard negative", [](json& j) { j["process"]["rlimits"][0]["hard"] = -1; },
       "process.rlimits[0].hard: value -1 must not be negative"},
      {"process.rlimits[0].type number", [](json& j) { j["process"]["rlimits"][0]["type"] = 7; },
       "process.rlimits[0].type: expected string, got number"},
      {"process.noNewPrivileges number", [](json& j) { j["process"]["noNewPrivileges"] = 1; },
       "process.noNewPrivileges: expected boolean, got number"},
      {"process.oomScoreAdj string", [](json& j) { j["process"]["oomScoreAdj"] = "5"; },
       "process.oomScoreAdj: expected integer, got string"},
      {"process.oomScoreAdj beyond int", [](json& j) { j["process"]["oomScoreAdj"] = 3000000000ll; },
       "process.oomScoreAdj: value 3000000000 is out of range"},
      {"process.scheduler string", [](json& j) { j["process"]["scheduler"] = "SCHED_FIFO"; },
       "process.scheduler: expected object, got string"},
      {"hostname number", [](json& j) { j["hostname"] = 5; }, "hostname: expected string, got number"},
      {"domainname array", [](json& j) { j["domainname"] = json::array(); }, "domainname: expected string, got array"},
      {"hooks array", [](json& j) { j["hooks"] = json::array(); }, "hooks: expected object, got array"},
      {"hooks.prestart object", [](json& j) { j["hooks"] = {{"prestart", {{"path", "/bin/true"}}}}; },
       "hooks.prestart: expected array, got object"},
      {"hooks.poststop[0].path number", [](json& j) { j["hooks"] = {{"poststop", {{{"path", 1}}}}}; },
       "hooks.poststop[0].path: expected string, got number"},
      {"hooks.createRuntime[0].timeout string",
       [](json& j) { j["hooks"] = {{"createRuntime", {{{"path", "/x"}, {"timeout", "5"}}}}}; },
       "hooks.createRuntime[0].timeout: expected integer, got string"},
      {"annotations array", [](json& j) { j["annotations"] = json::array(); },
       "annotations: expected object, got array"},
      {"annotation value number", [](json& j) { j["annotations"] = {{"a", 1}}; },
       "annotations[\"a\"]: expected string, got number"},
      {"linux string", [](json& j) { j["linux"] = "yes"; }, "linux: expected object, got string"},
      {"linux.namespaces object", [](json& j) { j["linux"]["namespaces"] = json::object(); },
       "linux.namespaces: expected array, got object"},
      {"linux.namespaces[2] missing type", [](json& j) { j["linux"]["namespaces"][2] = {{"path", "/proc/1/ns/ipc"}}; },
       "linux.namespaces[2].type: required"},
      {"linux.namespaces[0].path number", [](json& j) { j["linux"]["namespaces"][0]["path"] = 1; },
       "linux.namespaces[0].path: expected string, got number"},
      {"linux.namespaces[1] string", [](json& j) { j["linux"]["namespaces"][1] = "network"; },
       "linux.namespaces[1]: expected object, got string"},
      {"linux.uidMappings object", [](json& j) { j["linux"]["uidMappings"] = json::object(); },
       "linux.uidMappings: expected array, got object"},
      {"linux.uidMappings[0] missing containerID",
       [](json& j) { j["linux"]["uidMappings"] = {{{"hostID", 1000}, {"size", 1}}}; },
       "linux.uidMappings[0].containerID: required"},
      {"linux.gidMappings[1].size negative",
       [](json& j) {
         j["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}},
                                      {{"containerID", 1}, {"hostID", 2000}, {"size", -1}}};
       },
       "linux.gidMappings[1].size: value -1 must not be negative"},
      {"linux.sysctl value number", [](json& j) { j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", 1}}; },
       "linux.sysctl[\"net.ipv4.ip_forward\"]: expected string, got number"},
      {"linux.sysctl array", [](json& j) { j["linux"]["sysctl"] = json::array(); },
       "linux.sysctl: expected object, got array"},
      {"linux.resources array", [](json& j) { j["linux"]["resources"] = json::array(); },
       "linux.resources: expected object, got array"},
      {"linux.resources.devices[0] missing allow",
       [](json& j) { j["linux"]["resources"]["devices"][0].erase("allow"); },
       "linux.resources.devices[0].allow: required"},
      {"linux.resources.devices[0].major string",
       [](json& j) { j["linux"]["resources"]["devices"][0]["major"] = "8"; },
       "linux.resources.devices[0].major: expected integer, got string"},
      {"linux.resources.memory number", [](json& j) { j["linux"]["resources"]["memory"] = 5; },
       "linux.resources.memory: expected object, got number"},
      {"linux.resources.hugepageLimits object",
       [](json& j) { j["linux"]["resources"]["hugepageLimits"] = json::object(); },
       "linux.resources.hugepageLimits: expected array, got object"},
      {"linux.devices object", [](json& j) { j["linux"]["devices"] = json::object(); },
       "linux.devices: expected array, got object"},
      {"linux.devices[0].fileMode string",
       [](json& j) { j["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/x"}, {"fileMode", "0666"}}}; },
       "linux.devices[0].fileMode: expected integer, got string"},
      {"linux.devices[0].uid negative",
       [](json& j) { j["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/x"}, {"uid", -1}}}; },
       "linux.devices[0].uid: value -1 must not be negative"},
      {"linux.timeOffsets.monotonic.secs string",
       [](json& j) { j["linux"]["timeOffsets"] = {{"monotonic", {{"secs", "1"}}}}; },
       "linux.timeOffsets.monotonic.secs: expected integer, got string"},
      {"linux.timeOffsets.boottime number", [](json& j) { j["linux"]["timeOffsets"] = {{"boottime", 5}}; },
       "linux.timeOffsets.boottime: expected object, got number"},
      {"linux.maskedPaths[1] number", [](json& j) { j["linux"]["maskedPaths"][1] = 1; },
       "linux.maskedPaths[1]: expected string, got number"},
      {"linux.readonlyPaths string", [](json& j) { j["linux"]["readonlyPaths"] = "/proc/sys"; },
       "linux.readonlyPaths: expected array of strings, got string"},
      {"linux.cgroupsPath number", [](json& j) { j["linux"]["cgroupsPath"] = 5; },
       "linux.cgroupsPath: expected string, got number"},
      {"linux.rootfsPropagation boolean", [](json& j) { j["linux"]["rootfsPropagation"] = true; },
       "linux.rootfsPropagation: expected string, got boolean"},
      {"linux.seccomp string", [](json& j) { j["linux"]["seccomp"] = "default"; },
       "linux.seccomp: expected object, got string"},
      {"linux.personality string", [](json& j) { j["linux"]["personality"] = "LINUX"; },
       "linux.personality: expected object, got string"},
  };
  for (const auto& c : cases) {
    json j = base_config();
    c.mutate(j);
    INFO("case: ", c.what);
    CHECK(parse_error(j.dump()) == c.expected);
  }
}

TEST_CASE("load_spec: a bundle without config.json names the bundle") {
  berth::test::TempDir dir("berth-spec-test");
  auto r = berth::runtime::load_spec(dir.path());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "JSON specification file config.json not found in bundle " + dir.path());
}
