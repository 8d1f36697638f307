// Spec -> InitPlan: every decision about a container's set-up is taken here,
// in the runtime process, before clone(). The init process then only walks
// the plan, so it allocates little and can be tested without root (the plan
// is plain data; see tests/unit/plan_test.cpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "runtime/sched.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

struct MountOp {
  enum class Kind { bind, filesystem, cgroup };
  Kind kind = Kind::filesystem;
  std::string source;        // absolute host path (bind) or filesystem source name
  std::string destination;   // absolute, cleaned, resolved inside the rootfs at apply time
  std::string fstype;
  unsigned long flags = 0;   // MS_* for mount(2), without propagation
  unsigned long cleared = 0; // MS_* the options turned off ("rw"): cleared on bind mounts
  unsigned long propagation = 0;
  uint64_t attr_set = 0;     // recursive MOUNT_ATTR_* ("rro", ...)
  uint64_t attr_clr = 0;
  std::string data;
  bool recursive = false;    // rbind
  bool tmpcopyup = false;
  // Idmapped mount: the mappings (uid_map/gid_map text) of the user
  // namespace the mount is idmapped with; the runtime makes the detached,
  // idmapped tree before clone and puts its fd in tree_fd.
  std::string idmap_uid_map, idmap_gid_map;
  bool idmap_recursive = false;
  int tree_fd = -1;
};

struct DeviceNode {
  std::string path;  // absolute inside the container
  mode_t mode = 0;   // S_IFCHR/S_IFBLK/S_IFIFO | permissions
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct RootfsPlan {
  std::string rootfs;                 // absolute host path
  unsigned long root_propagation = 0; // applied to "/" first (default rslave)
  bool readonly = false;
  bool no_pivot = false;
  std::vector<MountOp> mounts;
  bool setup_dev = false;             // /dev is ours to populate (not bind-mounted from the host)
  bool bind_devices = false;          // user namespace: mknod is not allowed, bind from the host
  std::vector<DeviceNode> devices;
  std::vector<std::pair<std::string, std::string>> dev_symlinks;  // (target, link)
  bool console = false;               // bind the pty over /dev/console
  std::string cgroup_dir;             // host path of the container cgroup (bind fallback for "cgroup" mounts)
  bool cgroup_ns = false;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<std::pair<std::string, std::string>> sysctl;  // (/proc/sys/... path, value)
};

struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

struct RlimitOp {
  int resource = 0;
  std::string name;
  uint64_t soft = 0, hard = 0;
};

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  mode_t umask = 022;
  std::optional<CapabilitySets> caps;  // unset: keep what the process has
  std::vector<RlimitOp> rlimits;
  bool no_new_privs = false;
  std::optional<int> oom_score_adj;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  std::optional<unsigned long> personality;
  std::optional<SchedAttr> sched;
  std::optional<int> io_priority;
  // execCPUAffinity, which the runtime-spec defines for processes started
  // by exec only (never the container's init):
  std::optional<cpu_set_t> affinity_initial;  // set on the runtime before it clones the process
  std::optional<cpu_set_t> affinity_final;    // set by the process just before execve
  std::optional<SeccompProgram> seccomp;       // compiled by the runtime (compile_seccomp)
};

struct NamespaceJoin {
  int flag = 0;      // CLONE_NEW*
  std::string type;  // spec name, for messages
  std::string path;
};

struct NamespacePlan {
  int clone_flags = 0;     // namespaces created by clone3() (fast path)
  int unshare_flags = 0;   // created by the init itself after clone (cgroup; slow path: all)
  std::vector<NamespaceJoin> joins;
  bool user_new = false;
  std::string uid_map, gid_map;  // /proc/<pid>/{uid,gid}_map contents
  bool time_new = false;
  std::string time_offsets;      // /proc/self/timens_offsets contents
  bool pid_new = false;
  /// An intermediate process is needed when a user namespace must be joined,
  /// or created while other namespaces are joined: those must be entered in
  /// order (joined ones first, then unshare), and a new pid namespace only
  /// applies to children, so the init is forked from the intermediate.
  bool intermediate = false;
};

struct InitPlan {
  NamespacePlan ns;
  RootfsPlan rootfs;
  ProcessPlan process;
  std::string hostname;
  std::optional<std::string> domainname;
  std::string session_keyring;  // join a new session keyring of this name; empty: keep the caller's
  bool runtime_hooks = false;    // prestart/createRuntime: the runtime runs them when the init asks
  std::vector<Hook> create_container_hooks;  // run by the init before pivot_root
  std::vector<Hook> start_container_hooks;   // run by the init just before exec
};

struct PlanOptions {
  bool no_pivot = false;
  bool no_new_keyring = false;
  std::string id;  // names the session keyring
};

/// The process part of a plan (also used for `exec`, whose process is not the
/// container's init). `lx` supplies the container-wide personality.
Result<ProcessPlan> make_process_plan(const Process& proc, const Linux& lx);

/// Builds the plan for a validated spec. `bundle` is absolute.
Result<InitPlan> make_plan(const Spec& spec, const std::string& bundle, const PlanOptions& opts);

/// Capability names -> bit mask (names must be valid; capabilities the
/// kernel does not know are dropped).
uint64_t capability_mask(const std::vector<std::string>& names);

}  // namespace berth::runtime
