#include "cgroups/stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

using Json = nlohmann::ordered_json;

// A file's content, or nullopt when the file does not exist.
Result<std::optional<std::string>> read_optional(int dirfd, const std::string& name) {
  auto text = read_file_at(dirfd, name);
  if (text) return std::optional<std::string>(std::move(*text));
  if (text.error().code() == ENOENT) return std::optional<std::string>();
  return std::move(text).error();
}

Error parse_error(const std::string& name, std::string_view what) {
  return make_error("parse ", name, ": invalid content ", quote(what));
}

// A single-value file: a number, or "max".
Result<uint64_t> parse_value(const std::string& name, std::string_view text) {
  auto v = trim(text);
  if (v == "max") return kUnlimited;
  if (auto n = parse_int<uint64_t>(v)) return *n;
  return parse_error(name, v);
}

// A flat-keyed file ("key value" per line) into a map, in key order.
Result<std::map<std::string, uint64_t>> parse_keyed(const std::string& name, std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (const auto& line : split(text, '\n')) {
    if (trim(line).empty()) continue;
    auto sp = line.find(' ');
    if (sp == std::string::npos) return parse_error(name, line);
    auto v = parse_value(name, std::string_view(line).substr(sp + 1));
    if (!v) return std::move(v).error();
    out[line.substr(0, sp)] = *v;
  }
  return out;
}

// Reads `name` as one value into `out`; sets `found` if the file exists.
Status read_value(int dirfd, const std::string& name, uint64_t& out, bool& found) {
  auto text = read_optional(dirfd, name);
  if (!text) return std::move(text).error();
  if (!*text) return {};
  found = true;
  auto v = parse_value(name, **text);
  if (!v) return std::move(v).error();
  out = *v;
  return {};
}

Result<std::optional<std::map<std::string, uint64_t>>> read_keyed(int dirfd, const std::string& name) {
  using Map = std::optional<std::map<std::string, uint64_t>>;
  auto text = read_optional(dirfd, name);
  if (!text) return std::move(text).error();
  if (!*text) return Map();
  auto kv = parse_keyed(name, **text);
  if (!kv) return std::move(kv).error();
  return Map(std::move(*kv));
}

uint64_t get(const std::map<std::string, uint64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

Status read_cpu(int dirfd, Stats& s) {
  auto kv = read_keyed(dirfd, "cpu.stat");
  if (!kv) return std::move(kv).error();
  if (!*kv) return {};
  const auto& m = **kv;
  s.cpu = CpuStats{get(m, "usage_usec"), get(m, "user_usec"), get(m, "system_usec"),
                   get(m, "nr_periods"), get(m, "nr_throttled"), get(m, "throttled_usec")};
  return {};
}

Status read_memory(int dirfd, Stats& s) {
  MemoryStats m;
  bool found = false;
  BERTH_TRY(read_value(dirfd, "memory.current", m.current, found));
  BERTH_TRY(read_value(dirfd, "memory.max", m.max, found));
  BERTH_TRY(read_value(dirfd, "memory.peak", m.peak, found));  // Linux 5.19+
  // Without swap accounting these do not exist; the values stay 0.
  BERTH_TRY(read_value(dirfd, "memory.swap.current", m.swap_current, found));
  BERTH_TRY(read_value(dirfd, "memory.swap.max", m.swap_max, found));
  auto stat = read_keyed(dirfd, "memory.stat");
  if (!stat) return std::move(stat).error();
  if (*stat) {
    found = true;
    m.stat = std::move(**stat);
  }
  auto events = read_keyed(dirfd, "memory.events");
  if (!events) return std::move(events).error();
  if (*events) {
    found = true;
    m.oom = get(**events, "oom");
    m.oom_kill = get(**events, "oom_kill");
  }
  if (found) s.memory = std::move(m);
  return {};
}

Status read_pids(int dirfd, Stats& s) {
  PidsStats p;
  bool found = false;
  BERTH_TRY(read_value(dirfd, "pids.current", p.current, found));
  if (found) {
    BERTH_TRY(read_value(dirfd, "pids.max", p.max, found));
    s.pids = p;
    return {};
  }
  // Without the pids controller, count the processes instead (no limit).
  auto procs = read_optional(dirfd, "cgroup.procs");
  if (!procs) return std::move(procs).error();
  if (!*procs) return {};
  for (const auto& line : split(**procs, '\n'))
    if (!trim(line).empty()) ++p.current;
  s.pids = p;
  return {};
}

Status read_io(int dirfd, Stats& s) {
  auto text = read_optional(dirfd, "io.stat");
  if (!text) return std::move(text).error();
  if (!*text) return {};
  // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device.
  for (const auto& line : split(**text, '\n')) {
    auto fields = split(trim(line), ' ');
    if (fields.empty() || fields[0].empty()) continue;
    IoDeviceStats d;
    auto colon = fields[0].find(':');
    auto major = parse_int<uint64_t>(std::string_view(fields[0]).substr(0, colon));
    auto minor = colon == std::string::npos ? std::nullopt : parse_int<uint64_t>(fields[0].substr(colon + 1));
    if (!major || !minor) return parse_error("io.stat", line);
    d.major = *major;
    d.minor = *minor;
    for (size_t i = 1; i < fields.size(); ++i) {
      auto eq = fields[i].find('=');
      if (eq == std::string::npos) continue;
      std::string key = fields[i].substr(0, eq);
      auto v = parse_int<uint64_t>(fields[i].substr(eq + 1));
      if (!v) return parse_error("io.stat", line);
      if (key == "rbytes") d.rbytes = *v;
      if (key == "wbytes") d.wbytes = *v;
      if (key == "rios") d.rios = *v;
      if (key == "wios") d.wios = *v;
    }
    s.io.push_back(d);
  }
  return {};
}

// Page sizes are found from the cgroup's own hugetlb.<size>.current files,
// so only sizes the controller actually exposes here are reported.
Status read_hugetlb(int dirfd, Stats& s) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return sys_error("open cgroup directory");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return sys_error("list cgroup directory");
  }
  std::vector<std::string> sizes;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (!starts_with(name, "hugetlb.") || !ends_with(name, ".current")) continue;
    auto size = name.substr(8, name.size() - 8 - 8);
    if (!size.empty() && size.find('.') == std::string_view::npos) sizes.emplace_back(size);  // not ".rsvd"
  }
  ::closedir(d);
  for (const auto& size : sizes) {
    HugetlbStats h;
    bool found = false;
    std::string prefix = "hugetlb." + size;
    BERTH_TRY(read_value(dirfd, prefix + ".current", h.current, found));
    BERTH_TRY(read_value(dirfd, prefix + ".max", h.max, found));
    auto events = read_keyed(dirfd, prefix + ".events");
    if (!events) return std::move(events).error();
    if (*events) h.failcnt = get(**events, "max");
    s.hugetlb[size] = h;
  }
  return {};
}

// --- JSON ---------------------------------------------------------------------
// runc's types.Stats through Go's encoding/json: fields tagged omitempty are
// left out when zero, the others are always there, map keys come sorted.

void put_nonzero(Json& j, const char* key, uint64_t v) {
  if (v != 0) j[key] = v;
}

uint64_t add_saturating(uint64_t a, uint64_t b) { return a > kUnlimited - b ? kUnlimited : a + b; }

Json memory_entry(uint64_t limit, uint64_t usage, uint64_t max) {
  Json j;
  j["limit"] = limit;
  put_nonzero(j, "usage", usage);
  put_nonzero(j, "max", max);
  j["failcnt"] = 0;  // cgroup v2 has no failure counter for these
  return j;
}

Json cpu_json(const CpuStats& c) {
  Json usage;
  put_nonzero(usage, "total", c.usage_usec * 1000);  // runc reports nanoseconds
  usage["kernel"] = c.system_usec * 1000;
  usage["user"] = c.user_usec * 1000;
  Json throttling = Json::object();
  put_nonzero(throttling, "periods", c.nr_periods);
  put_nonzero(throttling, "throttledPeriods", c.nr_throttled);
  put_nonzero(throttling, "throttledTime", c.throttled_usec * 1000);
  return Json{{"usage", usage}, {"throttling", throttling}};
}

Json cpuset_json() {
  Json j;
  for (const char* k : {"cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                        "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level"})
    j[k] = 0;
  return j;
}

Json memory_json(const MemoryStats& m) {
  Json j = Json::object();
  put_nonzero(j, "cache", get(m.stat, "file"));
  j["usage"] = memory_entry(m.max, m.current, m.peak);
  // cgroup v1 reported swap as memory+swap; runc keeps that on v2.
  uint64_t swap_limit = m.swap_max == kUnlimited ? kUnlimited : add_saturating(m.swap_max, m.max);
  j["swap"] = memory_entry(swap_limit, add_saturating(m.swap_current, m.current), 0);
  j["kernel"] = memory_entry(0, 0, 0);
  j["kernelTCP"] = memory_entry(0, 0, 0);
  if (!m.stat.empty()) {
    Json raw = Json::object();
    for (const auto& [k, v] : m.stat) raw[k] = v;
    j["raw"] = raw;
  }
  // memory.events has no place in runc's shape; berth adds it, because an
  // OOM kill is the one memory event a user most needs to see.
  if (m.oom || m.oom_kill) j["events"] = {{"oom", m.oom}, {"oom_kill", m.oom_kill}};
  return j;
}

Json pids_json(const PidsStats& p) {
  Json j = Json::object();
  put_nonzero(j, "current", p.current);
  // runc shows "no limit" as 0 (omitted), never as 2^64-1.
  put_nonzero(j, "limit", p.max == kUnlimited ? 0 : p.max);
  return j;
}

Json blkio_entry(const IoDeviceStats& d, const char* op, uint64_t value) {
  Json e = Json::object();
  put_nonzero(e, "major", d.major);
  put_nonzero(e, "minor", d.minor);
  e["op"] = op;
  put_nonzero(e, "value", value);
  return e;
}

Json blkio_json(const std::vector<IoDeviceStats>& io) {
  Json bytes = Json::array(), ios = Json::array();
  for (const auto& d : io) {
    bytes.push_back(blkio_entry(d, "Read", d.rbytes));
    bytes.push_back(blkio_entry(d, "Write", d.wbytes));
    ios.push_back(blkio_entry(d, "Read", d.rios));
    ios.push_back(blkio_entry(d, "Write", d.wios));
  }
  Json j = Json::object();
  if (!bytes.empty()) j["ioServiceBytesRecursive"] = bytes;
  if (!ios.empty()) j["ioServicedRecursive"] = ios;
  return j;
}

Json hugetlb_json(const std::map<std::string, HugetlbStats>& pages) {
  Json j = Json::object();
  for (const auto& [size, h] : pages) {
    Json e = Json::object();
    put_nonzero(e, "usage", h.current);
    // runc's "max" is the highest usage seen, which cgroup v2 does not keep.
    e["failcnt"] = h.failcnt;
    j[size] = e;
  }
  return j;
}

}  // namespace

std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key) {
  for (const auto& line : split(text, '\n')) {
    auto sp = line.find(' ');
    if (sp == std::string::npos || std::string_view(line).substr(0, sp) != key) continue;
    return parse_int<uint64_t>(trim(std::string_view(line).substr(sp + 1)));
  }
  return std::nullopt;
}

Result<Stats> read_stats(int cgroup_dirfd) {
  Stats s;
  BERTH_TRY(read_cpu(cgroup_dirfd, s));
  BERTH_TRY(read_memory(cgroup_dirfd, s));
  BERTH_TRY(read_pids(cgroup_dirfd, s));
  BERTH_TRY(read_io(cgroup_dirfd, s));
  BERTH_TRY(read_hugetlb(cgroup_dirfd, s));
  return s;
}

std::string stats_json(const std::string& id, const Stats& s) {
  try {
    Json data;
    data["cpu"] = cpu_json(s.cpu.value_or(CpuStats{}));
    data["cpuset"] = cpuset_json();
    data["memory"] = memory_json(s.memory.value_or(MemoryStats{}));
    data["pids"] = pids_json(s.pids.value_or(PidsStats{}));
    data["blkio"] = blkio_json(s.io);
    data["hugetlb"] = hugetlb_json(s.hugetlb);
    data["intel_rdt"] = Json::object();
    data["network_interfaces"] = nullptr;
    Json event;
    event["type"] = "stats";
    event["id"] = id;
    event["data"] = std::move(data);
    // Replace rather than throw on an id that is not UTF-8.
    return event.dump(-1, ' ', false, Json::error_handler_t::replace);
  } catch (const std::exception&) {
    // Only allocation can fail here; an event line is all or nothing.
    return "";
  }
}

}  // namespace berth::cgroups
