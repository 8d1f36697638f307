#include "bench/vm.hpp"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "bench/bundle.hpp"
#include "bench/runner.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::bench {

namespace {

std::string hex8(unsigned long v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08lX", v & 0xffffffffUL);
  return buf;
}

void pad4(std::string& s) {
  while (s.size() % 4) s.push_back('\0');
}

void add_entry(std::string& out, unsigned long ino, const std::string& name, unsigned mode, const std::string& data,
               unsigned rmaj, unsigned rmin) {
  // newc header: magic and 13 eight-digit hex fields; name and data are
  // each padded to a multiple of four bytes.
  out += "070701";
  out += hex8(ino);
  out += hex8(mode);
  out += hex8(0);  // uid
  out += hex8(0);  // gid
  out += hex8(1);  // nlink
  out += hex8(0);  // mtime
  out += hex8(data.size());
  out += hex8(0);  // devmajor
  out += hex8(0);  // devminor
  out += hex8(rmaj);
  out += hex8(rmin);
  out += hex8(name.size() + 1);
  out += hex8(0);  // check
  out += name;
  out.push_back('\0');
  pad4(out);
  out += data;
  pad4(out);
}

// The newest directory entry of `dir` by version order (strverscmp).
std::string newest_subdir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return ::strverscmp(a.c_str(), b.c_str()) < 0; });
  return names.empty() ? "" : names.back();
}

// The uid of a user in /etc/passwd (getpwnam would need NSS modules, which a
// static binary cannot load).
std::optional<uid_t> passwd_uid(const std::string& user) {
  auto text = read_file("/etc/passwd");
  if (!text) return std::nullopt;
  for (const auto& line : split(*text, '\n')) {
    auto f = split(line, ':');
    if (f.size() > 2 && f[0] == user) return parse_int<uid_t>(f[2]);
  }
  return std::nullopt;
}

Result<std::string> kernel_package() {
  auto deps = capture({"apt-cache", "depends", "linux-image-cloud-amd64"}, 60000);
  if (!deps) return std::move(deps).error();
  for (const auto& line : split(deps->output, '\n')) {
    std::string_view l = trim(line);
    if (!starts_with(l, "Depends: linux-image-")) continue;
    std::string pkg(trim(l.substr(9)));
    if (pkg.size() > 12 && pkg[12] >= '0' && pkg[12] <= '9') return pkg;
  }
  return make_error("apt-cache depends linux-image-cloud-amd64 names no kernel package (apt-get update?)");
}

Result<Kernel> download_kernel(const std::string& cache) {
  auto pkg = kernel_package();
  if (!pkg) return std::move(pkg).error();
  std::string kdir = cat(cache, "/kernel/", *pkg);
  BERTH_TRY(mkdir_all(cache + "/kernel", 0755));
  std::string tmpl = cache + "/download.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return sys_error("mkdtemp in ", cache);
  std::string tmp = buf.data();
  // apt-get download drops to the _apt user, which must be able to write here.
  if (auto uid = passwd_uid("_apt")) (void)::chown(tmp.c_str(), *uid, 0);
  auto fail = [&](Error e) -> Result<Kernel> {
    (void)remove_all(tmp);
    return std::move(e).wrap(cat("download ", *pkg));
  };
  std::string cwd_before(4096, '\0');
  if (!::getcwd(cwd_before.data(), cwd_before.size())) return fail(sys_error("getcwd"));
  cwd_before.resize(std::strlen(cwd_before.c_str()));
  if (::chdir(tmp.c_str()) < 0) return fail(sys_error("chdir ", tmp));
  auto dl = capture({"apt-get", "download", "-q", *pkg}, 600000);
  (void)::chdir(cwd_before.c_str());
  if (!dl) return fail(std::move(dl).error());
  if (dl->exit_code != 0) return fail(make_error("apt-get download failed: ", trim(dl->output)));
  std::string deb;
  if (DIR* d = ::opendir(tmp.c_str())) {
    while (dirent* e = ::readdir(d))
      if (ends_with(e->d_name, ".deb")) deb = tmp + "/" + e->d_name;
    ::closedir(d);
  }
  if (deb.empty()) return fail(make_error("apt-get download left no .deb"));
  auto x = capture({"dpkg", "-x", deb, tmp + "/x"}, 600000);
  if (!x) return fail(std::move(x).error());
  if (x->exit_code != 0) return fail(make_error("dpkg -x failed: ", trim(x->output)));
  std::string boot = tmp + "/x/boot", vmlinuz;
  if (DIR* d = ::opendir(boot.c_str())) {
    while (dirent* e = ::readdir(d))
      if (starts_with(e->d_name, "vmlinuz-")) vmlinuz = boot + "/" + e->d_name;
    ::closedir(d);
  }
  if (vmlinuz.empty()) return fail(make_error("the package has no /boot/vmlinuz-*"));
  auto img = read_file(vmlinuz);
  if (!img) return fail(std::move(img).error());
  std::string staged = tmp + "/kernel";
  if (auto st = mkdir_all(staged, 0755); !st) return fail(st.error());
  if (auto st = write_file(staged + "/vmlinuz", *img, true, 0644); !st) return fail(st.error());
  (void)remove_all(kdir);
  if (::rename(staged.c_str(), kdir.c_str()) < 0) return fail(sys_error("rename ", staged, " to ", kdir));
  (void)remove_all(tmp);
  return Kernel{kdir + "/vmlinuz", *pkg, cat("downloaded ", *pkg, " (apt-get download) into ", kdir)};
}

}  // namespace

std::string cpio_newc(const std::vector<CpioEntry>& entries) {
  std::string out;
  unsigned long ino = 1;
  for (const auto& e : entries) add_entry(out, ino++, e.name, e.mode, e.data, e.rdev_major, e.rdev_minor);
  add_entry(out, 0, "TRAILER!!!", 0, "", 0, 0);
  return out;
}

std::string vm_init_script() {
  return cat("#!/bin/busybox sh\n",
             "# /init of berth-bench's VM baseline: run /bin/true, say so, power off.\n",
             "/bin/true\n",
             "echo \"berth-bench-vm: /bin/true exited $?\"\n",
             "/bin/busybox poweroff -f\n");
}

Status write_initramfs(const std::string& path, const std::string& busybox) {
  auto is_static = is_static_elf(busybox);
  if (!is_static) return std::move(is_static).error().wrap("initramfs");
  if (!*is_static) return make_error("initramfs: ", busybox, " is dynamically linked; it needs busybox-static");
  auto bin = read_file(busybox);
  if (!bin) return std::move(bin).error().wrap("initramfs");
  std::vector<CpioEntry> e = {
      {"bin", S_IFDIR | 0755, "", 0, 0},
      {"bin/busybox", S_IFREG | 0755, std::move(*bin), 0, 0},
      {"bin/true", S_IFLNK | 0777, "busybox", 0, 0},
      {"bin/sh", S_IFLNK | 0777, "busybox", 0, 0},
      {"dev", S_IFDIR | 0755, "", 0, 0},
      {"dev/console", S_IFCHR | 0600, "", 5, 1},
      {"proc", S_IFDIR | 0755, "", 0, 0},
      {"init", S_IFREG | 0755, vm_init_script(), 0, 0},
  };
  return write_file(path, cpio_newc(e), true, 0644);
}

Result<Kernel> find_kernel(const std::string& explicit_path, const std::vector<std::string>& caches,
                           const std::string& download_cache) {
  if (!explicit_path.empty()) {
    if (::access(explicit_path.c_str(), R_OK) < 0) return sys_error("kernel ", explicit_path);
    return Kernel{explicit_path, "", "--kernel"};
  }
  for (const auto& c : caches) {
    std::string dir = c + "/kernel";
    std::string pkg = newest_subdir(dir);
    if (pkg.empty()) continue;
    std::string v = cat(dir, "/", pkg, "/vmlinuz");
    struct stat st{};
    if (::stat(v.c_str(), &st) == 0 && st.st_size > 0) return Kernel{v, pkg, cat("cache ", dir)};
  }
  return download_kernel(download_cache);
}

std::vector<std::string> qemu_argv(const VmConfig& c) {
  return {c.qemu,
          "-M", "pc",
          "-accel", c.accel,
          "-m", cat(c.memory_mib, "M"),
          "-smp", cat(c.cpus),
          "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot",
          "-serial", cat("file:", c.serial_log),
          "-kernel", c.kernel,
          "-initrd", c.initramfs,
          "-append", "console=ttyS0 quiet panic=-1"};
}

bool vm_booted_ok(const std::string& serial_log_text) { return serial_log_text.find(kVmMarker) != std::string::npos; }

}  // namespace berth::bench
