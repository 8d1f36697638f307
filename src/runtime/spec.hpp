// The OCI runtime-spec config.json as typed structs (runtime-spec 1.0 to 1.3).
// Parsed once by parse_spec() and validated by validate_spec(); nothing after
// that touches JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::runtime {

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;  // idmapped mounts (1.2)
  std::vector<IdMapping> gid_mappings;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::string command_line;  // Windows only; rejected on Linux
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int> oom_score_adj;
  std::string selinux_label;
  bool has_scheduler = false;       // process.scheduler (1.2)
  bool has_io_priority = false;     // process.ioPriority (1.2)
  bool has_exec_cpu_affinity = false;  // process.execCPUAffinity (1.2)
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
  bool empty() const {
    return prestart.empty() && create_runtime.empty() && create_container.empty() && start_container.empty() &&
           poststart.empty() && poststop.empty();
  }
};

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::string path;  // join this namespace instead of creating one
};

struct Device {
  std::string type;  // c b u p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct DeviceRule {
  bool allow = false;
  std::string type = "a";  // a c b
  std::optional<int64_t> major;  // unset = wildcard
  std::optional<int64_t> minor;
  std::string access = "rwm";
};

/// Resource requests. Only what berth acts on is typed; for the rest the
/// parser records which groups were requested so they are never silently
/// ignored (see validate_spec and the cgroup manager).
struct Resources {
  std::vector<DeviceRule> devices;
  std::vector<std::string> requested;  // e.g. "memory", "cpu", "pids", "blockIO", "hugepageLimits", "unified"
  std::vector<std::string> requested_hugepage_sizes;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Linux {
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::map<std::string, std::string> sysctl;
  std::optional<Resources> resources;
  std::string cgroups_path;
  std::vector<Namespace> namespaces;
  std::vector<Device> devices;
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string mount_label;
  std::optional<std::string> personality_domain;
  bool has_seccomp = false;
  bool has_intel_rdt = false;
  bool has_memory_policy = false;
  bool has_net_devices = false;
};

struct Spec {
  std::string oci_version;
  std::optional<Root> root;
  std::vector<Mount> mounts;
  std::optional<Process> process;
  std::string hostname;
  std::optional<std::string> domainname;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux_;
  std::vector<std::string> other_platforms;  // "windows", "solaris", "vm", "zos" when present
};

/// Parses config.json text. Errors name the field: `process.args[1]: expected string, got number`.
Result<Spec> parse_spec(std::string_view json_text);

/// Checks everything the schema cannot: required fields, absolute paths,
/// known names, consistency between namespaces and the settings that need
/// them. Also rejects valid features that berth does not implement with
/// `not supported: <field>` so nothing is silently ignored.
Status validate_spec(const Spec& spec);

/// Loads, parses and validates <bundle>/config.json.
Result<Spec> load_spec(const std::string& bundle);

}  // namespace berth::runtime
