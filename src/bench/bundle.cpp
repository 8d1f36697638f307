#include "bench/bundle.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::bench {

using json = nlohmann::json;

Result<bool> is_static_elf(const std::string& path) {
  auto data = read_file(path);
  if (!data) return std::move(data).error();
  const std::string& d = *data;
  Elf64_Ehdr eh{};
  if (d.size() < sizeof eh || std::memcmp(d.data(), ELFMAG, SELFMAG) != 0 || d[EI_CLASS] != ELFCLASS64)
    return make_error(path, ": not a 64-bit ELF file");
  std::memcpy(&eh, d.data(), sizeof eh);
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    size_t off = eh.e_phoff + i * eh.e_phentsize;
    Elf64_Phdr ph{};
    if (off + sizeof ph > d.size()) return make_error(path, ": truncated program headers");
    std::memcpy(&ph, d.data() + off, sizeof ph);
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

Status write_busybox_rootfs(const std::string& dir, const std::string& busybox, const std::vector<std::string>& applets) {
  auto is_static = is_static_elf(busybox);
  if (!is_static) return std::move(is_static).error().wrap("check busybox");
  if (!*is_static) return make_error(busybox, " is dynamically linked; the rootfs needs busybox-static");
  std::string root = dir + "/rootfs";
  for (const char* sub : {"", "/bin", "/dev", "/etc", "/proc", "/sys", "/tmp", "/root"})
    BERTH_TRY(mkdir_all(root + sub, 0755));
  if (::chmod((root + "/tmp").c_str(), 01777) < 0) return sys_error("chmod ", root, "/tmp");
  auto bin = read_file(busybox);
  if (!bin) return std::move(bin).error();
  BERTH_TRY(write_file(root + "/bin/busybox", *bin, true, 0755));
  for (const auto& a : applets) {
    if (a.empty() || a == "busybox" || a.find('/') != std::string::npos) continue;
    std::string link = cat(root, "/bin/", a);
    if (::symlink("busybox", link.c_str()) < 0 && errno != EEXIST) return sys_error("symlink ", link);
  }
  BERTH_TRY(write_file(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", true));
  BERTH_TRY(write_file(root + "/etc/group", "root:x:0:\n", true));
  BERTH_TRY(write_file(root + "/etc/hostname", "berth\n", true));
  return {};
}

json builtin_config(const std::vector<std::string>& args) {
  auto caps = json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  auto mnt = [](const char* dest, const char* type, const char* src, json opts) {
    json m = {{"destination", dest}, {"type", type}, {"source", src}};
    if (!opts.empty()) m["options"] = std::move(opts);
    return m;
  };
  json c;
  c["ociVersion"] = "1.2.0";
  c["process"] = {
      {"terminal", false},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", args},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true},
  };
  c["root"] = {{"path", "rootfs"}, {"readonly", true}};
  c["hostname"] = "berth";
  c["mounts"] = json::array({
      mnt("/proc", "proc", "proc", json::array()),
      mnt("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mnt("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mnt("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mnt("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mnt("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mnt("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      mnt("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}),
  });
  json ns = json::array();
  for (const char* t : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) ns.push_back({{"type", t}});
  c["linux"] = {
      {"resources", {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}}},
      {"namespaces", ns},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  return c;
}

Result<json> load_config(const std::string& bundle) {
  std::string path = bundle + "/config.json";
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(path, ": not a JSON object");
  return j;
}

json bench_config(const json& base, const std::string& bundle, const std::string& cgroups_path) {
  json c = base;
  std::string root = "rootfs";
  if (c.contains("root") && c["root"].is_object() && c["root"].contains("path") && c["root"]["path"].is_string())
    root = c["root"]["path"].get<std::string>();
  if (root.empty() || root[0] != '/') root = path_join(bundle, root);
  c["root"]["path"] = clean_path(root);
  c["ociVersion"] = "1.0.2";
  if (!c.contains("linux") || !c["linux"].is_object()) c["linux"] = json::object();
  c["linux"]["cgroupsPath"] = cgroups_path;
  return c;
}

Status write_bundle_config(const std::string& dir, const json& config) {
  BERTH_TRY(mkdir_all(dir, 0755));
  return write_file(dir + "/config.json", config.dump(2) + "\n", true);
}

}  // namespace berth::bench
