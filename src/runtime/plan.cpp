#include "runtime/plan.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <set>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/mount_options.hpp"

namespace berth::runtime {

namespace {

// The devices every container gets (the set runc and crun create).
const DeviceNode kDefaultDevices[] = {
    {"/dev/null", S_IFCHR | 0666, makedev(1, 3), 0, 0},    {"/dev/zero", S_IFCHR | 0666, makedev(1, 5), 0, 0},
    {"/dev/full", S_IFCHR | 0666, makedev(1, 7), 0, 0},    {"/dev/random", S_IFCHR | 0666, makedev(1, 8), 0, 0},
    {"/dev/urandom", S_IFCHR | 0666, makedev(1, 9), 0, 0}, {"/dev/tty", S_IFCHR | 0666, makedev(5, 0), 0, 0},
};

std::string id_map_text(const std::vector<IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) out += cat(m.container_id, " ", m.host_id, " ", m.size, "\n");
  return out;
}

MountOp plan_mount(const Mount& m, const std::string& bundle, const Linux& lx) {
  MountOptions o = parse_mount_options(m.options);
  MountOp op;
  op.destination = clean_path(cat("/", m.destination));
  op.fstype = m.type;
  op.flags = o.flags;
  op.cleared = o.cleared;
  op.propagation = o.propagation;
  op.attr_set = o.attr_set;
  op.attr_clr = o.attr_clr;
  op.data = o.data;
  op.tmpcopyup = o.tmpcopyup;
  if (o.idmap || !m.uid_mappings.empty()) {
    // Without mappings of its own, the mount takes the container's (runc).
    op.idmap_uid_map = id_map_text(m.uid_mappings.empty() ? lx.uid_mappings : m.uid_mappings);
    op.idmap_gid_map = id_map_text(m.gid_mappings.empty() ? lx.gid_mappings : m.gid_mappings);
    op.idmap_recursive = o.recursive_idmap;
  }
  if (o.bind || m.type == "bind") {
    op.kind = MountOp::Kind::bind;
    op.recursive = o.recursive_bind;
    // Relative bind sources are relative to the bundle, as in runc.
    op.source = m.source.front() == '/' ? clean_path(m.source) : clean_path(path_join(bundle, m.source));
  } else if (m.type == "cgroup" || m.type == "cgroup2") {
    op.kind = MountOp::Kind::cgroup;
    op.source = "cgroup2";
    op.fstype = "cgroup2";
  } else {
    op.source = m.source.empty() ? m.type : m.source;
  }
  return op;
}

}  // namespace

uint64_t capability_mask(const std::vector<std::string>& names) {
  uint64_t mask = 0;
  int last = kernel_last_capability();
  for (const auto& n : names) {
    auto num = capability_number(n);
    if (!num) continue;
    if (*num > last) {
      log::warn(cat("ignoring capability ", n, ": not known to the running kernel"));
      continue;
    }
    mask |= uint64_t{1} << *num;
  }
  return mask;
}

Result<ProcessPlan> make_process_plan(const Process& proc, const Linux& lx) {
  ProcessPlan pp;
  pp.args = proc.args;
  pp.env = proc.env;
  pp.cwd = clean_path(proc.cwd);
  pp.uid = proc.user.uid;
  pp.gid = proc.user.gid;
  pp.groups.assign(proc.user.additional_gids.begin(), proc.user.additional_gids.end());
  if (proc.user.umask) pp.umask = static_cast<mode_t>(*proc.user.umask);
  if (proc.capabilities) {
    CapabilitySets caps;
    caps.bounding = capability_mask(proc.capabilities->bounding);
    caps.effective = capability_mask(proc.capabilities->effective);
    caps.inheritable = capability_mask(proc.capabilities->inheritable);
    caps.permitted = capability_mask(proc.capabilities->permitted);
    caps.ambient = capability_mask(proc.capabilities->ambient);
    pp.caps = caps;
  }
  for (const auto& r : proc.rlimits) pp.rlimits.push_back({*rlimit_number(r.type), r.type, r.soft, r.hard});
  pp.no_new_privs = proc.no_new_privileges;
  pp.oom_score_adj = proc.oom_score_adj;
  pp.terminal = proc.terminal;
  pp.console_size = proc.console_size;
  if (lx.personality_domain) pp.personality = *lx.personality_domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
  if (proc.scheduler) {
    auto attr = make_sched_attr(*proc.scheduler);
    if (!attr) return std::move(attr).error();
    pp.sched = *attr;
  }
  if (proc.io_priority) {
    auto io = make_io_priority(*proc.io_priority);
    if (!io) return std::move(io).error();
    pp.io_priority = *io;
  }
  if (proc.exec_cpu_affinity) {
    const auto& a = *proc.exec_cpu_affinity;
    if (!a.initial.empty()) {
      auto set = parse_cpu_list(a.initial, "process.execCPUAffinity.initial");
      if (!set) return std::move(set).error();
      pp.affinity_initial = *set;
    }
    if (!a.final.empty()) {
      auto set = parse_cpu_list(a.final, "process.execCPUAffinity.final");
      if (!set) return std::move(set).error();
      pp.affinity_final = *set;
    } else if (pp.affinity_initial) {
      // Without a final list the process may use every CPU its cgroup allows.
      cpu_set_t all;
      CPU_ZERO(&all);
      for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
      pp.affinity_final = all;
    }
  }
  return pp;
}

Result<InitPlan> make_plan(const Spec& spec, const std::string& bundle, const PlanOptions& opts) {
  InitPlan plan;
  const Linux& lx = *spec.linux_;
  const Process& proc = *spec.process;

  // Namespaces.
  NamespacePlan& ns = plan.ns;
  bool user_joined = false, any_joined = false;
  for (const auto& n : lx.namespaces) {
    const NamespaceKind* kind = namespace_kind(n.type);
    if (!n.path.empty()) {
      ns.joins.push_back({kind->clone_flag, n.type, n.path});
      any_joined = true;
      user_joined = user_joined || kind->clone_flag == CLONE_NEWUSER;
      continue;
    }
    switch (kind->clone_flag) {
      case CLONE_NEWCGROUP:
        // Created by the init after it sits in its cgroup, so that the
        // namespace root is the container cgroup, not the runtime's.
        ns.unshare_flags |= CLONE_NEWCGROUP;
        break;
      case CLONE_NEWTIME:
        ns.time_new = true;
        break;
      default:
        ns.clone_flags |= kind->clone_flag;
    }
    if (kind->clone_flag == CLONE_NEWUSER) ns.user_new = true;
    if (kind->clone_flag == CLONE_NEWPID) ns.pid_new = true;
  }
  // Joined namespaces go in the fixed order of namespace_kinds(): user first, mount last.
  std::vector<NamespaceJoin> ordered;
  for (const auto& k : namespace_kinds())
    for (const auto& j : ns.joins)
      if (j.flag == k.clone_flag) ordered.push_back(j);
  ns.joins = std::move(ordered);
  ns.intermediate = user_joined || (ns.user_new && any_joined);
  if (ns.intermediate) {
    ns.unshare_flags |= ns.clone_flags;
    ns.clone_flags = 0;
  }
  if (ns.user_new) {
    ns.uid_map = id_map_text(lx.uid_mappings);
    ns.gid_map = id_map_text(lx.gid_mappings);
  }
  for (const auto& [clock, off] : lx.time_offsets) ns.time_offsets += cat(clock, " ", off.secs, " ", off.nanosecs, "\n");

  // Root filesystem.
  RootfsPlan& rf = plan.rootfs;
  rf.rootfs = spec.root->path.front() == '/' ? clean_path(spec.root->path) : clean_path(path_join(bundle, spec.root->path));
  rf.readonly = spec.root->readonly;
  rf.no_pivot = opts.no_pivot;
  unsigned long prop = MS_SLAVE | MS_REC;
  if (!lx.rootfs_propagation.empty()) prop = parse_mount_options({lx.rootfs_propagation}).propagation;
  rf.root_propagation = prop;
  bool dev_bound = false;
  for (const auto& m : spec.mounts) {
    MountOp op = plan_mount(m, bundle, lx);
    if (op.destination == "/dev" && op.kind == MountOp::Kind::bind) dev_bound = true;
    rf.mounts.push_back(std::move(op));
  }
  rf.setup_dev = !dev_bound;
  rf.bind_devices = ns.user_new || user_joined;
  rf.cgroup_ns = (ns.unshare_flags & CLONE_NEWCGROUP) != 0;
  if (rf.setup_dev) {
    std::set<std::string> configured;
    for (const auto& d : lx.devices) configured.insert(clean_path(d.path));
    for (const auto& d : kDefaultDevices)
      if (!configured.count(d.path)) rf.devices.push_back(d);
    rf.dev_symlinks = {{"/proc/self/fd", "/dev/fd"},
                       {"/proc/self/fd/0", "/dev/stdin"},
                       {"/proc/self/fd/1", "/dev/stdout"},
                       {"/proc/self/fd/2", "/dev/stderr"},
                       {"pts/ptmx", "/dev/ptmx"}};
    if (path_exists("/proc/kcore")) rf.dev_symlinks.push_back({"/proc/kcore", "/dev/core"});
    rf.console = proc.terminal;
  }
  for (const auto& d : lx.devices) {
    DeviceNode node;
    node.path = clean_path(d.path);
    mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
    node.mode = type | (d.file_mode ? *d.file_mode & 07777 : 0666);
    node.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    node.uid = d.uid.value_or(0);
    node.gid = d.gid.value_or(0);
    rf.devices.push_back(std::move(node));
  }
  for (const auto& p : lx.masked_paths) rf.masked_paths.push_back(clean_path(p));
  for (const auto& p : lx.readonly_paths) rf.readonly_paths.push_back(clean_path(p));
  for (const auto& [key, value] : lx.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    rf.sysctl.emplace_back(path, value);
  }

  auto process = make_process_plan(proc, lx);
  if (!process) return std::move(process).error();
  plan.process = std::move(*process);

  plan.hostname = spec.hostname;
  plan.domainname = spec.domainname;
  // A keyring of its own keeps the container out of the caller's session keys.
  if (!opts.no_new_keyring) plan.session_keyring = "_ses." + opts.id;
  plan.runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
  plan.create_container_hooks = spec.hooks.create_container;
  plan.start_container_hooks = spec.hooks.start_container;
  return plan;
}

}  // namespace berth::runtime
