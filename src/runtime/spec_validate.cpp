// Semantic checks on a parsed Spec. Every message starts with the field it
// is about, so a user can find the line in config.json.
#include <set>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/mount_options.hpp"
#include "runtime/resources.hpp"
#include "runtime/sched.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

namespace {

bool is_abs(const std::string& p) { return !p.empty() && p.front() == '/'; }

Status check_version(const std::string& v) {
  if (v.empty()) return make_error("ociVersion: required");
  auto parts = split(v, '.');
  auto major = parts.empty() ? std::nullopt : parse_int<int>(parts[0]);
  std::optional<int> minor;
  if (parts.size() >= 2) {
    // "1.0.2-dev": only major.minor decide compatibility.
    std::string_view m = parts[1];
    minor = parse_int<int>(m.substr(0, m.find_first_not_of("0123456789")));
  }
  if (!major || !minor || parts.size() < 2) return make_error("ociVersion: invalid version ", quote(v));
  if (*major != 1 || *minor > 3)
    return make_error("ociVersion: unsupported version ", quote(v), " (berth supports 1.0.0 to 1.3.x)");
  return {};
}

Status check_mappings(const std::vector<IdMapping>& maps, const std::string& field) {
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].size == 0) return make_error(field, "[", i, "].size: must be greater than 0");
    uint64_t end_c = uint64_t{maps[i].container_id} + maps[i].size;
    uint64_t end_h = uint64_t{maps[i].host_id} + maps[i].size;
    if (end_c > (uint64_t{1} << 32) || end_h > (uint64_t{1} << 32))
      return make_error(field, "[", i, "]: range exceeds the 32-bit id space");
    // The kernel refuses a map whose ranges overlap on either side.
    for (size_t k = 0; k < i; ++k) {
      uint64_t c0 = maps[k].container_id, c1 = c0 + maps[k].size;
      if (maps[i].container_id < c1 && c0 < end_c)
        return make_error(field, "[", i, "]: container ids overlap ", field, "[", k, "]");
      uint64_t h0 = maps[k].host_id, h1 = h0 + maps[k].size;
      if (maps[i].host_id < h1 && h0 < end_h)
        return make_error(field, "[", i, "]: host ids overlap ", field, "[", k, "]");
    }
  }
  if (maps.size() > 340) return make_error(field, ": at most 340 mappings are allowed, got ", maps.size());
  return {};
}

Status check_caps(const Capabilities& caps) {
  const std::pair<const char*, const std::vector<std::string>*> sets[] = {
      {"bounding", &caps.bounding},       {"effective", &caps.effective}, {"inheritable", &caps.inheritable},
      {"permitted", &caps.permitted},     {"ambient", &caps.ambient},
  };
  for (auto& [name, list] : sets)
    for (size_t i = 0; i < list->size(); ++i)
      if (!capability_number((*list)[i]))
        return make_error("process.capabilities.", name, "[", i, "]: unknown capability ", quote((*list)[i]));
  return {};
}

Status check_process(const Process& p) {
  if (p.args.empty()) return make_error("process.args: must not be empty");
  if (p.args[0].empty()) return make_error("process.args[0]: must not be empty");
  if (!p.command_line.empty()) return make_error("process.commandLine: only supported on Windows");
  if (p.cwd.empty()) return make_error("process.cwd: required");
  if (!is_abs(p.cwd)) return make_error("process.cwd: must be an absolute path, got ", quote(p.cwd));
  for (size_t i = 0; i < p.env.size(); ++i) {
    const auto& e = p.env[i];
    auto eq = e.find('=');
    if (eq == std::string::npos) return make_error("process.env[", i, "]: expected NAME=value, got ", quote(e));
    if (eq == 0) return make_error("process.env[", i, "]: empty variable name");
    if (e.find('\0') != std::string::npos) return make_error("process.env[", i, "]: contains a NUL byte");
  }
  for (size_t i = 0; i < p.args.size(); ++i)
    if (p.args[i].find('\0') != std::string::npos) return make_error("process.args[", i, "]: contains a NUL byte");
  if (p.console_size && !p.terminal) return make_error("process.consoleSize: only valid with process.terminal");
  if (p.user.umask && *p.user.umask > 0777)
    return make_error("process.user.umask: must be at most 0777, got ", *p.user.umask);
  if (!p.user.username.empty()) return make_error("process.user.username: only supported on Windows");
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000))
    return make_error("process.oomScoreAdj: must be between -1000 and 1000, got ", *p.oom_score_adj);
  std::set<std::string> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const auto& r = p.rlimits[i];
    std::string f = cat("process.rlimits[", i, "]");
    if (!rlimit_number(r.type)) return make_error(f, ".type: unknown rlimit ", quote(r.type));
    if (!seen.insert(r.type).second) return make_error(f, ".type: duplicate rlimit ", quote(r.type));
    if (r.soft > r.hard) return make_error(f, ": soft limit ", r.soft, " exceeds hard limit ", r.hard);
  }
  if (p.capabilities) BERTH_TRY(check_caps(*p.capabilities));
  if (p.scheduler) BERTH_TRY(make_sched_attr(*p.scheduler));
  if (p.io_priority) BERTH_TRY(make_io_priority(*p.io_priority));
  if (p.exec_cpu_affinity) {
    if (!p.exec_cpu_affinity->initial.empty())
      BERTH_TRY(parse_cpu_list(p.exec_cpu_affinity->initial, "process.execCPUAffinity.initial"));
    if (!p.exec_cpu_affinity->final.empty())
      BERTH_TRY(parse_cpu_list(p.exec_cpu_affinity->final, "process.execCPUAffinity.final"));
  }
  return {};
}

Status check_mounts(const std::vector<Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const auto& m = mounts[i];
    std::string f = cat("mounts[", i, "]");
    if (m.destination.empty()) return make_error(f, ".destination: required");
    if (clean_path(cat("/", m.destination)) == "/") return make_error(f, ".destination: cannot mount over the root filesystem");
    auto opts = parse_mount_options(m.options);
    bool bind = opts.bind || m.type == "bind";
    if (m.type.empty() && !bind) return make_error(f, ".type: required unless the options hold bind or rbind");
    if (bind && m.source.empty()) return make_error(f, ".source: required for a bind mount");
    if (opts.tmpcopyup && m.type != "tmpfs") return make_error(f, ".options: tmpcopyup is only valid for tmpfs");
    if (opts.flags & 0x20 /* MS_REMOUNT */) return make_error(f, ".options: remount is not valid in a config");
    bool idmapped = !m.uid_mappings.empty() || !m.gid_mappings.empty() || opts.idmap;
    if (idmapped && !bind) return make_error(f, ".options: idmapped mounts must be bind mounts");
    if (m.uid_mappings.empty() != m.gid_mappings.empty())
      return make_error(f, m.uid_mappings.empty() ? ".uidMappings" : ".gidMappings",
                        ": required with ", m.uid_mappings.empty() ? "gidMappings" : "uidMappings");
    BERTH_TRY(check_mappings(m.uid_mappings, f + ".uidMappings"));
    BERTH_TRY(check_mappings(m.gid_mappings, f + ".gidMappings"));
    if (m.type == "cgroup" && bind) return make_error(f, ".options: a cgroup mount cannot be a bind mount");
  }
  return {};
}

bool namespaced_sysctl(const std::string& key, const std::set<std::string>& ns) {
  static const std::set<std::string> ipc_keys = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
  };
  if (ipc_keys.count(key) || starts_with(key, "fs.mqueue.")) return ns.count("ipc") > 0;
  if (starts_with(key, "net.")) return ns.count("network") > 0;
  if (key == "kernel.hostname" || key == "kernel.domainname") return ns.count("uts") > 0;
  return false;
}

Status check_linux(const Spec& s, const Linux& l) {
  std::set<std::string> types;       // all namespaces
  std::set<std::string> created;     // namespaces without a path
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const auto& ns = l.namespaces[i];
    std::string f = cat("linux.namespaces[", i, "]");
    if (!namespace_kind(ns.type)) return make_error(f, ".type: unknown ", quote(ns.type));
    if (!types.insert(ns.type).second) return make_error(f, ".type: duplicate namespace ", quote(ns.type));
    if (!ns.path.empty() && !is_abs(ns.path)) return make_error(f, ".path: must be an absolute path, got ", quote(ns.path));
    if (ns.path.empty()) created.insert(ns.type);
  }
  if (!types.count("mount")) return make_error("linux.namespaces: a mount namespace is required");
  bool user_new = created.count("user") > 0;
  bool user_any = types.count("user") > 0;
  BERTH_TRY(check_mappings(l.uid_mappings, "linux.uidMappings"));
  BERTH_TRY(check_mappings(l.gid_mappings, "linux.gidMappings"));
  const char* mapped = !l.uid_mappings.empty() ? "linux.uidMappings" : "linux.gidMappings";
  bool any_mapping = !l.uid_mappings.empty() || !l.gid_mappings.empty();
  if (!user_any && any_mapping) return make_error(mapped, ": mappings need a user namespace in linux.namespaces");
  if (user_any && !user_new && any_mapping)
    return make_error(mapped, ": cannot be set when joining an existing user namespace");
  if (user_new && (l.uid_mappings.empty() || l.gid_mappings.empty()))
    return make_error(l.uid_mappings.empty() ? "linux.uidMappings" : "linux.gidMappings",
                      ": required with a new user namespace");
  for (const auto& [clock, off] : l.time_offsets) {
    if (clock != "monotonic" && clock != "boottime")
      return make_error("linux.timeOffsets.", clock, ": unknown clock (expected monotonic or boottime)");
    if (off.nanosecs >= 1000000000)
      return make_error("linux.timeOffsets.", clock, ".nanosecs: must be less than 1000000000");
  }
  if (!l.time_offsets.empty() && !created.count("time"))
    return make_error("linux.timeOffsets: requires a new time namespace");
  for (const auto& [key, value] : l.sysctl) {
    (void)value;
    if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos)
      return make_error("linux.sysctl[", quote(key), "]: invalid name");
    if (!namespaced_sysctl(key, types))
      return make_error("linux.sysctl[", quote(key), "]: not in a separate kernel namespace of the container");
  }
  if (!s.hostname.empty() && !types.count("uts"))
    return make_error("hostname: requires a UTS namespace in linux.namespaces");
  if (s.domainname && !types.count("uts"))
    return make_error("domainname: requires a UTS namespace in linux.namespaces");
  static const std::set<std::string> propagations = {"",      "private", "rprivate",   "slave",      "rslave",
                                                     "shared", "rshared", "unbindable", "runbindable"};
  if (!propagations.count(l.rootfs_propagation))
    return make_error("linux.rootfsPropagation: unknown value ", quote(l.rootfs_propagation));
  for (size_t i = 0; i < l.masked_paths.size(); ++i)
    if (!is_abs(l.masked_paths[i]))
      return make_error("linux.maskedPaths[", i, "]: must be an absolute path, got ", quote(l.masked_paths[i]));
  for (size_t i = 0; i < l.readonly_paths.size(); ++i)
    if (!is_abs(l.readonly_paths[i]))
      return make_error("linux.readonlyPaths[", i, "]: must be an absolute path, got ", quote(l.readonly_paths[i]));
  std::set<std::string> device_paths;
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const auto& d = l.devices[i];
    std::string f = cat("linux.devices[", i, "]");
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
      return make_error(f, ".type: unknown device type ", quote(d.type), " (expected c, b, u or p)");
    if (!is_abs(d.path)) return make_error(f, ".path: must be an absolute path, got ", quote(d.path));
    if (!starts_with(clean_path(d.path), "/dev/")) return make_error(f, ".path: must be under /dev, got ", quote(d.path));
    if (!device_paths.insert(clean_path(d.path)).second) return make_error(f, ".path: duplicate device ", quote(d.path));
    if (d.major < 0 || d.minor < 0) return make_error(f, ": major and minor must not be negative");
    if (d.file_mode && *d.file_mode > 07777) return make_error(f, ".fileMode: must be at most 07777");
  }
  if (l.resources) {
    for (size_t i = 0; i < l.resources->devices.size(); ++i) {
      const auto& r = l.resources->devices[i];
      std::string f = cat("linux.resources.devices[", i, "]");
      if (r.type != "a" && r.type != "c" && r.type != "b")
        return make_error(f, ".type: unknown device type ", quote(r.type), " (expected a, c or b)");
      if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos)
        return make_error(f, ".access: must be a combination of r, w and m, got ", quote(r.access));
      // -1 is the wildcard some callers write instead of leaving the field out.
      if ((r.major && *r.major < -1) || (r.minor && *r.minor < -1) || (r.major && *r.major > 0xffffffffLL) ||
          (r.minor && *r.minor > 0xffffffffLL))
        return make_error(f, ": major and minor must be device numbers, or -1 or absent for any");
    }
  }
  if (l.seccomp) BERTH_TRY(validate_seccomp(*l.seccomp));
  if (l.resources) BERTH_TRY(cgroups::validate(to_cgroup_resources(*l.resources)));
  if (l.personality_domain && *l.personality_domain != "LINUX" && *l.personality_domain != "LINUX32")
    return make_error("linux.personality.domain: unknown domain ", quote(*l.personality_domain),
                      " (expected LINUX or LINUX32)");
  return {};
}

Status check_hooks(const Hooks& h) {
  const std::pair<const char*, const std::vector<Hook>*> lists[] = {
      {"prestart", &h.prestart},   {"createRuntime", &h.create_runtime}, {"createContainer", &h.create_container},
      {"startContainer", &h.start_container}, {"poststart", &h.poststart}, {"poststop", &h.poststop},
  };
  for (auto& [name, list] : lists)
    for (size_t i = 0; i < list->size(); ++i) {
      const Hook& hook = (*list)[i];
      std::string f = cat("hooks.", name, "[", i, "]");
      if (hook.path.empty()) return make_error(f, ".path: required");
      if (!is_abs(hook.path)) return make_error(f, ".path: must be an absolute path, got ", quote(hook.path));
      if (hook.timeout && *hook.timeout <= 0) return make_error(f, ".timeout: must be greater than zero");
      for (size_t k = 0; k < hook.env.size(); ++k)
        if (hook.env[k].find('=') == std::string::npos)
          return make_error(f, ".env[", k, "]: expected NAME=value, got ", quote(hook.env[k]));
    }
  return {};
}

// Valid configs that ask for something berth does not do yet: refuse them
// by name rather than run a container that lacks what was asked for.
Status check_supported(const Spec& s) {
  if (!s.other_platforms.empty()) return make_error("not supported: ", s.other_platforms.front(), " (berth runs Linux containers)");
  if (s.process) {
    const Process& p = *s.process;
    if (!p.apparmor_profile.empty()) return make_error("not supported: process.apparmorProfile (AppArmor is not enabled on this host)");
    if (!p.selinux_label.empty()) return make_error("not supported: process.selinuxLabel (SELinux is not enabled on this host)");
  }
  if (s.linux_) {
    const Linux& l = *s.linux_;
    if (l.has_intel_rdt) return make_error("not supported: linux.intelRdt");
    if (l.has_memory_policy) return make_error("not supported: linux.memoryPolicy");
    if (l.has_net_devices) return make_error("not supported: linux.netDevices");
    if (!l.mount_label.empty()) return make_error("not supported: linux.mountLabel (SELinux is not enabled on this host)");
  }
  return {};
}

}  // namespace

Status validate_process(const Process& p) { return check_process(p); }

Status validate_spec(const Spec& s) {
  BERTH_TRY(check_version(s.oci_version));
  if (!s.root || s.root->path.empty()) return make_error("root.path: required");
  if (!s.linux_) return make_error("linux: required for a Linux container");
  if (!s.process) return make_error("process: required");
  BERTH_TRY(check_process(*s.process));
  BERTH_TRY(check_mounts(s.mounts));
  for (size_t i = 0; i < s.mounts.size(); ++i)
    if (parse_mount_options(s.mounts[i].options).idmap && s.mounts[i].uid_mappings.empty() &&
        s.linux_->uid_mappings.empty())
      return make_error("mounts[", i, "].options: idmap without its own uidMappings needs linux.uidMappings");
  BERTH_TRY(check_linux(s, *s.linux_));
  BERTH_TRY(check_hooks(s.hooks));
  return check_supported(s);
}

}  // namespace berth::runtime
