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

struct Scheduler {
  std::string policy;  // SCHED_OTHER SCHED_FIFO SCHED_RR SCHED_BATCH SCHED_ISO SCHED_IDLE SCHED_DEADLINE
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;  // SCHED_FLAG_*
  std::optional<uint64_t> runtime, deadline, period;
};

struct IoPriority {
  std::string klass;  // IOPRIO_CLASS_RT / _BE / _IDLE
  int32_t priority = 0;
};

struct CpuAffinity {
  std::string initial;  // cpu list, "0-3,7": before the process starts
  std::string final;    // after it started
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
  std::optional<Scheduler> scheduler;           // 1.2
  std::optional<IoPriority> io_priority;        // 1.2
  std::optional<CpuAffinity> exec_cpu_affinity; // 1.2
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

struct MemoryResources {
  std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus;  // cpuset
  std::string mems;
  std::optional<int64_t> idle;
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct BlockIoResources {
  std::optional<uint16_t> weight, leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps, throttle_write_bps, throttle_read_iops, throttle_write_iops;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB"
  uint64_t limit = 0;
};

struct RdmaLimit {
  std::optional<uint32_t> hca_handles, hca_objects;
};

/// linux.resources. The groups are optional so that "absent" and "empty"
/// stay apart; `requested` lists the groups that carry any value, so nothing
/// asked for is ever silently ignored.
struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<int64_t> pids_limit;
  std::optional<BlockIoResources> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  bool has_network = false;  // net_cls/net_prio: cgroup v1 only
  std::map<std::string, RdmaLimit> rdma;
  std::map<std::string, std::string> unified;
  std::vector<std::string> requested;  // "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_NE LT LE EQ GE GT MASKED_EQ
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SeccompSyscall> syscalls;
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
  std::optional<Seccomp> seccomp;
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

/// The checks of validate_spec that concern one process object.
Status validate_process(const Process& p);

/// Loads, parses and validates <bundle>/config.json; with `text`, also
/// returns the file's content (kept in the state directory for later verbs).
Result<Spec> load_spec(const std::string& bundle, std::string* text = nullptr);

/// Parses a runtime-spec process object on its own (`exec --process FILE`)
/// and validates it like process in config.json. Errors name the field as
/// `process.args: ...`.
Result<Process> parse_process_json(std::string_view json_text);

}  // namespace berth::runtime
