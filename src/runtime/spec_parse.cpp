// config.json -> Spec. The only place in berth-runtime that touches JSON for
// the config. Type errors name the exact field; unknown fields are ignored,
// as the runtime-spec requires.
#include <limits>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

namespace {

using json = nlohmann::json;

// Thrown inside this file only; parse_spec turns it into an Error.
struct FieldError {
  std::string path;
  std::string what;
};

const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "number";
    case json::value_t::number_float: return "number";
    default: return "value";
  }
}

[[noreturn]] void fail(const std::string& path, std::string what) { throw FieldError{path, std::move(what)}; }

std::string sub(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
std::string idx(const std::string& path, size_t i) { return cat(path, "[", i, "]"); }

// Fields may be absent or null; both mean "not set".
const json* find(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void expect_object(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, cat("expected object, got ", type_name(j)));
}

std::string as_string(const json& j, const std::string& path) {
  if (!j.is_string()) fail(path, cat("expected string, got ", type_name(j)));
  return j.get<std::string>();
}

bool as_bool(const json& j, const std::string& path) {
  if (!j.is_boolean()) fail(path, cat("expected boolean, got ", type_name(j)));
  return j.get<bool>();
}

template <class T>
T as_int(const json& j, const std::string& path) {
  if (j.is_number_float()) {
    double d = j.get<double>();
    // Checked before any conversion: casting an out-of-range double is undefined.
    if (!(d >= -9.2e18 && d <= 9.2e18)) fail(path, cat("value is out of range"));
    if (d != static_cast<double>(static_cast<long long>(d))) fail(path, "expected integer, got fraction");
  } else if (!j.is_number_integer()) {
    fail(path, cat("expected integer, got ", type_name(j)));
  }
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) fail(path, cat("value ", v, " is out of range"));
    return static_cast<T>(v);
  }
  int64_t v = j.is_number_float() ? static_cast<int64_t>(j.get<double>()) : j.get<int64_t>();
  if constexpr (std::is_unsigned_v<T>) {
    if (v < 0) fail(path, cat("value ", v, " must not be negative"));
    if (static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      fail(path, cat("value ", v, " is out of range"));
  } else {
    if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) || v > static_cast<int64_t>(std::numeric_limits<T>::max()))
      fail(path, cat("value ", v, " is out of range"));
  }
  return static_cast<T>(v);
}

std::vector<std::string> as_string_array(const json& j, const std::string& path) {
  if (!j.is_array()) fail(path, cat("expected array of strings, got ", type_name(j)));
  std::vector<std::string> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) out.push_back(as_string(j[i], idx(path, i)));
  return out;
}

std::map<std::string, std::string> as_string_map(const json& j, const std::string& path) {
  expect_object(j, path);
  std::map<std::string, std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = as_string(it.value(), cat(path, "[", quote(it.key()), "]"));
  return out;
}

// Typed optional getters: leave `out` untouched when the field is absent.
void get(const json& o, const char* key, const std::string& path, std::string& out) {
  if (auto* v = find(o, key)) out = as_string(*v, sub(path, key));
}
void get(const json& o, const char* key, const std::string& path, bool& out) {
  if (auto* v = find(o, key)) out = as_bool(*v, sub(path, key));
}
void get(const json& o, const char* key, const std::string& path, std::vector<std::string>& out) {
  if (auto* v = find(o, key)) out = as_string_array(*v, sub(path, key));
}
template <class T>
  requires std::is_integral_v<T>
void get(const json& o, const char* key, const std::string& path, T& out) {
  if (auto* v = find(o, key)) out = as_int<T>(*v, sub(path, key));
}
template <class T>
void get(const json& o, const char* key, const std::string& path, std::optional<T>& out) {
  if (auto* v = find(o, key)) {
    if constexpr (std::is_integral_v<T>) {
      out = as_int<T>(*v, sub(path, key));
    } else {
      out = as_string(*v, sub(path, key));
    }
  }
}

std::vector<IdMapping> parse_mappings(const json& j, const std::string& path) {
  if (!j.is_array()) fail(path, cat("expected array, got ", type_name(j)));
  std::vector<IdMapping> out;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string p = idx(path, i);
    expect_object(j[i], p);
    IdMapping m;
    for (const char* key : {"containerID", "hostID", "size"})
      if (!find(j[i], key)) fail(sub(p, key), "required");
    get(j[i], "containerID", p, m.container_id);
    get(j[i], "hostID", p, m.host_id);
    get(j[i], "size", p, m.size);
    out.push_back(m);
  }
  return out;
}

Mount parse_mount(const json& j, const std::string& path) {
  expect_object(j, path);
  Mount m;
  get(j, "destination", path, m.destination);
  get(j, "type", path, m.type);
  get(j, "source", path, m.source);
  get(j, "options", path, m.options);
  if (auto* v = find(j, "uidMappings")) m.uid_mappings = parse_mappings(*v, sub(path, "uidMappings"));
  if (auto* v = find(j, "gidMappings")) m.gid_mappings = parse_mappings(*v, sub(path, "gidMappings"));
  return m;
}

Capabilities parse_caps(const json& j, const std::string& path) {
  expect_object(j, path);
  Capabilities c;
  get(j, "bounding", path, c.bounding);
  get(j, "effective", path, c.effective);
  get(j, "inheritable", path, c.inheritable);
  get(j, "permitted", path, c.permitted);
  get(j, "ambient", path, c.ambient);
  return c;
}

Process parse_process(const json& j, const std::string& path) {
  expect_object(j, path);
  Process p;
  get(j, "terminal", path, p.terminal);
  if (auto* v = find(j, "consoleSize")) {
    std::string cp = sub(path, "consoleSize");
    expect_object(*v, cp);
    ConsoleSize cs;
    get(*v, "height", cp, cs.height);
    get(*v, "width", cp, cs.width);
    p.console_size = cs;
  }
  if (auto* v = find(j, "user")) {
    std::string up = sub(path, "user");
    expect_object(*v, up);
    get(*v, "uid", up, p.user.uid);
    get(*v, "gid", up, p.user.gid);
    get(*v, "umask", up, p.user.umask);
    get(*v, "username", up, p.user.username);
    if (auto* g = find(*v, "additionalGids")) {
      std::string gp = sub(up, "additionalGids");
      if (!g->is_array()) fail(gp, cat("expected array of integers, got ", type_name(*g)));
      for (size_t i = 0; i < g->size(); ++i) p.user.additional_gids.push_back(as_int<uint32_t>((*g)[i], idx(gp, i)));
    }
  }
  get(j, "args", path, p.args);
  get(j, "commandLine", path, p.command_line);
  get(j, "env", path, p.env);
  get(j, "cwd", path, p.cwd);
  if (auto* v = find(j, "capabilities")) p.capabilities = parse_caps(*v, sub(path, "capabilities"));
  if (auto* v = find(j, "rlimits")) {
    std::string rp = sub(path, "rlimits");
    if (!v->is_array()) fail(rp, cat("expected array, got ", type_name(*v)));
    for (size_t i = 0; i < v->size(); ++i) {
      std::string ip = idx(rp, i);
      expect_object((*v)[i], ip);
      Rlimit r;
      for (const char* key : {"type", "soft", "hard"})
        if (!find((*v)[i], key)) fail(sub(ip, key), "required");
      get((*v)[i], "type", ip, r.type);
      get((*v)[i], "soft", ip, r.soft);
      get((*v)[i], "hard", ip, r.hard);
      p.rlimits.push_back(r);
    }
  }
  get(j, "noNewPrivileges", path, p.no_new_privileges);
  get(j, "apparmorProfile", path, p.apparmor_profile);
  get(j, "oomScoreAdj", path, p.oom_score_adj);
  get(j, "selinuxLabel", path, p.selinux_label);
  if (auto* v = find(j, "scheduler")) {
    std::string sp = sub(path, "scheduler");
    expect_object(*v, sp);
    Scheduler sc;
    if (!find(*v, "policy")) fail(sub(sp, "policy"), "required");
    get(*v, "policy", sp, sc.policy);
    get(*v, "nice", sp, sc.nice);
    get(*v, "priority", sp, sc.priority);
    get(*v, "flags", sp, sc.flags);
    get(*v, "runtime", sp, sc.runtime);
    get(*v, "deadline", sp, sc.deadline);
    get(*v, "period", sp, sc.period);
    p.scheduler = sc;
  }
  if (auto* v = find(j, "ioPriority")) {
    std::string ip = sub(path, "ioPriority");
    expect_object(*v, ip);
    IoPriority io;
    if (!find(*v, "class")) fail(sub(ip, "class"), "required");
    get(*v, "class", ip, io.klass);
    get(*v, "priority", ip, io.priority);
    p.io_priority = io;
  }
  if (auto* v = find(j, "execCPUAffinity")) {
    std::string ap = sub(path, "execCPUAffinity");
    expect_object(*v, ap);
    CpuAffinity a;
    get(*v, "initial", ap, a.initial);
    get(*v, "final", ap, a.final);
    p.exec_cpu_affinity = a;
  }
  return p;
}

std::vector<Hook> parse_hook_list(const json& j, const std::string& path) {
  if (!j.is_array()) fail(path, cat("expected array, got ", type_name(j)));
  std::vector<Hook> out;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string hp = idx(path, i);
    expect_object(j[i], hp);
    Hook h;
    get(j[i], "path", hp, h.path);
    get(j[i], "args", hp, h.args);
    get(j[i], "env", hp, h.env);
    get(j[i], "timeout", hp, h.timeout);
    out.push_back(std::move(h));
  }
  return out;
}

Hooks parse_hooks(const json& j, const std::string& path) {
  expect_object(j, path);
  Hooks h;
  auto list = [&](const char* key, std::vector<Hook>& out) {
    if (auto* v = find(j, key)) out = parse_hook_list(*v, sub(path, key));
  };
  list("prestart", h.prestart);
  list("createRuntime", h.create_runtime);
  list("createContainer", h.create_container);
  list("startContainer", h.start_container);
  list("poststart", h.poststart);
  list("poststop", h.poststop);
  return h;
}

template <class T>
std::vector<T> parse_list(const json& j, const std::string& path, T (*one)(const json&, const std::string&)) {
  if (!j.is_array()) fail(path, cat("expected array, got ", type_name(j)));
  std::vector<T> out;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string ip = idx(path, i);
    expect_object(j[i], ip);
    out.push_back(one(j[i], ip));
  }
  return out;
}

DeviceRule parse_device_rule(const json& j, const std::string& path) {
  DeviceRule d;
  if (!find(j, "allow")) fail(sub(path, "allow"), "required");
  get(j, "allow", path, d.allow);
  get(j, "type", path, d.type);
  get(j, "major", path, d.major);
  get(j, "minor", path, d.minor);
  get(j, "access", path, d.access);
  if (d.type.empty()) d.type = "a";
  return d;
}

void get_opt_bool(const json& o, const char* key, const std::string& path, std::optional<bool>& out) {
  if (auto* v = find(o, key)) out = as_bool(*v, sub(path, key));
}

MemoryResources parse_memory(const json& j, const std::string& path) {
  MemoryResources m;
  get(j, "limit", path, m.limit);
  get(j, "reservation", path, m.reservation);
  get(j, "swap", path, m.swap);
  get(j, "kernel", path, m.kernel);
  get(j, "kernelTCP", path, m.kernel_tcp);
  get(j, "swappiness", path, m.swappiness);
  get_opt_bool(j, "disableOOMKiller", path, m.disable_oom_killer);
  get_opt_bool(j, "useHierarchy", path, m.use_hierarchy);
  get_opt_bool(j, "checkBeforeUpdate", path, m.check_before_update);
  return m;
}

CpuResources parse_cpu(const json& j, const std::string& path) {
  CpuResources c;
  get(j, "shares", path, c.shares);
  get(j, "quota", path, c.quota);
  get(j, "burst", path, c.burst);
  get(j, "period", path, c.period);
  get(j, "realtimeRuntime", path, c.realtime_runtime);
  get(j, "realtimePeriod", path, c.realtime_period);
  get(j, "cpus", path, c.cpus);
  get(j, "mems", path, c.mems);
  get(j, "idle", path, c.idle);
  return c;
}

WeightDevice parse_weight_device(const json& j, const std::string& path) {
  WeightDevice w;
  for (const char* key : {"major", "minor"})
    if (!find(j, key)) fail(sub(path, key), "required");
  get(j, "major", path, w.major);
  get(j, "minor", path, w.minor);
  get(j, "weight", path, w.weight);
  get(j, "leafWeight", path, w.leaf_weight);
  return w;
}

ThrottleDevice parse_throttle_device(const json& j, const std::string& path) {
  ThrottleDevice t;
  for (const char* key : {"major", "minor", "rate"})
    if (!find(j, key)) fail(sub(path, key), "required");
  get(j, "major", path, t.major);
  get(j, "minor", path, t.minor);
  get(j, "rate", path, t.rate);
  return t;
}

BlockIoResources parse_block_io(const json& j, const std::string& path) {
  BlockIoResources b;
  get(j, "weight", path, b.weight);
  get(j, "leafWeight", path, b.leaf_weight);
  if (auto* v = find(j, "weightDevice")) b.weight_device = parse_list(*v, sub(path, "weightDevice"), parse_weight_device);
  const std::pair<const char*, std::vector<ThrottleDevice>*> lists[] = {
      {"throttleReadBpsDevice", &b.throttle_read_bps},
      {"throttleWriteBpsDevice", &b.throttle_write_bps},
      {"throttleReadIOPSDevice", &b.throttle_read_iops},
      {"throttleWriteIOPSDevice", &b.throttle_write_iops},
  };
  for (auto& [key, out] : lists)
    if (auto* v = find(j, key)) *out = parse_list(*v, sub(path, key), parse_throttle_device);
  return b;
}

HugepageLimit parse_hugepage(const json& j, const std::string& path) {
  HugepageLimit h;
  for (const char* key : {"pageSize", "limit"})
    if (!find(j, key)) fail(sub(path, key), "required");
  get(j, "pageSize", path, h.page_size);
  get(j, "limit", path, h.limit);
  return h;
}

// A group counts as requested when any of its fields carries a value.
bool has_any_value(const json& j) {
  if (j.is_null()) return false;
  if (j.is_object()) {
    for (auto& [k, v] : j.items())
      if (has_any_value(v)) return true;
    return false;
  }
  if (j.is_array()) return !j.empty();
  return true;
}

Resources parse_resources(const json& j, const std::string& path) {
  expect_object(j, path);
  Resources r;
  if (auto* v = find(j, "devices")) r.devices = parse_list(*v, sub(path, "devices"), parse_device_rule);
  auto group = [&](const char* key) -> const json* {
    auto* v = find(j, key);
    if (!v) return nullptr;
    if (!v->is_object()) fail(sub(path, key), cat("expected object, got ", type_name(*v)));
    if (has_any_value(*v)) r.requested.push_back(key);
    return v;
  };
  if (auto* v = group("memory")) r.memory = parse_memory(*v, sub(path, "memory"));
  if (auto* v = group("cpu")) r.cpu = parse_cpu(*v, sub(path, "cpu"));
  if (auto* v = group("pids")) {
    // A pids object whose limit is absent or null asks for nothing.
    get(*v, "limit", sub(path, "pids"), r.pids_limit);
  }
  if (auto* v = group("blockIO")) r.block_io = parse_block_io(*v, sub(path, "blockIO"));
  if (group("network")) r.has_network = true;
  if (auto* v = group("rdma")) {
    std::string rp = sub(path, "rdma");
    for (auto& [dev, lim] : v->items()) {
      std::string dp = cat(rp, "[", quote(dev), "]");
      expect_object(lim, dp);
      RdmaLimit l;
      get(lim, "hcaHandles", dp, l.hca_handles);
      get(lim, "hcaObjects", dp, l.hca_objects);
      r.rdma[dev] = l;
    }
  }
  if (auto* v = group("unified")) r.unified = as_string_map(*v, sub(path, "unified"));
  if (auto* v = find(j, "hugepageLimits")) {
    r.hugepage_limits = parse_list(*v, sub(path, "hugepageLimits"), parse_hugepage);
    if (!r.hugepage_limits.empty()) r.requested.push_back("hugepageLimits");
  }
  return r;
}

SeccompArg parse_seccomp_arg(const json& j, const std::string& path) {
  SeccompArg a;
  for (const char* key : {"index", "value", "op"})
    if (!find(j, key)) fail(sub(path, key), "required");
  get(j, "index", path, a.index);
  get(j, "value", path, a.value);
  get(j, "valueTwo", path, a.value_two);
  get(j, "op", path, a.op);
  return a;
}

SeccompSyscall parse_seccomp_syscall(const json& j, const std::string& path) {
  SeccompSyscall sc;
  if (!find(j, "names")) fail(sub(path, "names"), "required");
  if (!find(j, "action")) fail(sub(path, "action"), "required");
  get(j, "names", path, sc.names);
  get(j, "action", path, sc.action);
  get(j, "errnoRet", path, sc.errno_ret);
  if (auto* v = find(j, "args")) sc.args = parse_list(*v, sub(path, "args"), parse_seccomp_arg);
  return sc;
}

Seccomp parse_seccomp(const json& j, const std::string& path) {
  expect_object(j, path);
  Seccomp s;
  if (!find(j, "defaultAction")) fail(sub(path, "defaultAction"), "required");
  get(j, "defaultAction", path, s.default_action);
  get(j, "defaultErrnoRet", path, s.default_errno_ret);
  get(j, "architectures", path, s.architectures);
  get(j, "flags", path, s.flags);
  get(j, "listenerPath", path, s.listener_path);
  get(j, "listenerMetadata", path, s.listener_metadata);
  if (auto* v = find(j, "syscalls")) s.syscalls = parse_list(*v, sub(path, "syscalls"), parse_seccomp_syscall);
  return s;
}

Linux parse_linux(const json& j, const std::string& path) {
  expect_object(j, path);
  Linux l;
  if (auto* v = find(j, "uidMappings")) l.uid_mappings = parse_mappings(*v, sub(path, "uidMappings"));
  if (auto* v = find(j, "gidMappings")) l.gid_mappings = parse_mappings(*v, sub(path, "gidMappings"));
  if (auto* v = find(j, "timeOffsets")) {
    std::string tp = sub(path, "timeOffsets");
    expect_object(*v, tp);
    for (auto& [clock, off] : v->items()) {
      std::string cp = sub(tp, clock.c_str());
      expect_object(off, cp);
      TimeOffset t;
      get(off, "secs", cp, t.secs);
      get(off, "nanosecs", cp, t.nanosecs);
      l.time_offsets[clock] = t;
    }
  }
  if (auto* v = find(j, "sysctl")) l.sysctl = as_string_map(*v, sub(path, "sysctl"));
  if (auto* v = find(j, "resources")) l.resources = parse_resources(*v, sub(path, "resources"));
  get(j, "cgroupsPath", path, l.cgroups_path);
  if (auto* v = find(j, "namespaces")) {
    std::string np = sub(path, "namespaces");
    if (!v->is_array()) fail(np, cat("expected array, got ", type_name(*v)));
    for (size_t i = 0; i < v->size(); ++i) {
      std::string ip = idx(np, i);
      expect_object((*v)[i], ip);
      Namespace ns;
      if (!find((*v)[i], "type")) fail(sub(ip, "type"), "required");
      get((*v)[i], "type", ip, ns.type);
      get((*v)[i], "path", ip, ns.path);
      l.namespaces.push_back(std::move(ns));
    }
  }
  if (auto* v = find(j, "devices")) {
    std::string dp = sub(path, "devices");
    if (!v->is_array()) fail(dp, cat("expected array, got ", type_name(*v)));
    for (size_t i = 0; i < v->size(); ++i) {
      std::string ip = idx(dp, i);
      expect_object((*v)[i], ip);
      Device d;
      get((*v)[i], "type", ip, d.type);
      get((*v)[i], "path", ip, d.path);
      get((*v)[i], "major", ip, d.major);
      get((*v)[i], "minor", ip, d.minor);
      get((*v)[i], "fileMode", ip, d.file_mode);
      get((*v)[i], "uid", ip, d.uid);
      get((*v)[i], "gid", ip, d.gid);
      l.devices.push_back(std::move(d));
    }
  }
  get(j, "rootfsPropagation", path, l.rootfs_propagation);
  get(j, "maskedPaths", path, l.masked_paths);
  get(j, "readonlyPaths", path, l.readonly_paths);
  get(j, "mountLabel", path, l.mount_label);
  if (auto* v = find(j, "personality")) {
    std::string pp = sub(path, "personality");
    expect_object(*v, pp);
    std::string domain;
    get(*v, "domain", pp, domain);
    l.personality_domain = domain;
  }
  auto present = [&](const char* key) {
    auto* v = find(j, key);
    if (v && !v->is_object()) fail(sub(path, key), cat("expected object, got ", type_name(*v)));
    return v != nullptr;
  };
  if (auto* v = find(j, "seccomp")) l.seccomp = parse_seccomp(*v, sub(path, "seccomp"));
  l.has_intel_rdt = present("intelRdt");
  l.has_memory_policy = present("memoryPolicy");
  l.has_net_devices = present("netDevices");
  return l;
}

Spec parse_root(const json& j) {
  expect_object(j, "config");
  Spec s;
  get(j, "ociVersion", "", s.oci_version);
  if (auto* v = find(j, "root")) {
    expect_object(*v, "root");
    Root r;
    get(*v, "path", "root", r.path);
    get(*v, "readonly", "root", r.readonly);
    s.root = r;
  }
  if (auto* v = find(j, "mounts")) {
    if (!v->is_array()) fail("mounts", cat("expected array, got ", type_name(*v)));
    for (size_t i = 0; i < v->size(); ++i) s.mounts.push_back(parse_mount((*v)[i], idx("mounts", i)));
  }
  if (auto* v = find(j, "process")) s.process = parse_process(*v, "process");
  get(j, "hostname", "", s.hostname);
  get(j, "domainname", "", s.domainname);
  if (auto* v = find(j, "hooks")) s.hooks = parse_hooks(*v, "hooks");
  if (auto* v = find(j, "annotations")) s.annotations = as_string_map(*v, "annotations");
  if (auto* v = find(j, "linux")) s.linux_ = parse_linux(*v, "linux");
  for (const char* other : {"windows", "solaris", "vm", "zos"})
    if (find(j, other)) s.other_platforms.push_back(other);
  return s;
}

}  // namespace

Result<Spec> parse_spec(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    // nlohmann's text starts with "[json.exception.parse_error.101] "; keep the readable part.
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return make_error("parse config.json: ", what);
  }
  try {
    return parse_root(doc);
  } catch (const FieldError& e) {
    return make_error(e.path, ": ", e.what);
  } catch (const json::exception& e) {
    return make_error("parse config.json: ", e.what());
  }
}

Result<Process> parse_process_json(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return make_error("parse process.json: ", what);
  }
  try {
    Process p = parse_process(doc, "process");
    BERTH_TRY(validate_process(p));
    return p;
  } catch (const FieldError& e) {
    return make_error(e.path, ": ", e.what);
  } catch (const json::exception& e) {
    return make_error("parse process.json: ", e.what());
  }
}

Result<Spec> load_spec(const std::string& bundle, std::string* text_out) {
  std::string path = path_join(bundle, "config.json");
  auto text = read_file(path);
  if (!text) {
    if (text.error().code() == ENOENT) return make_error("JSON specification file config.json not found in bundle ", bundle);
    return std::move(text).error();
  }
  auto spec = parse_spec(*text);
  if (!spec) return std::move(spec).error();
  BERTH_TRY(validate_spec(*spec));
  if (text_out) *text_out = std::move(*text);
  return spec;
}

}  // namespace berth::runtime
