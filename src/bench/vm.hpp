// The virtual-machine baseline: QEMU boots Debian's cloud kernel with an
// initramfs whose /init runs /bin/true (busybox-static) and powers off.
// Boot-to-exit is measured like a container run: spawn to reap of QEMU.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::bench {

/// One member of a newc cpio archive.
struct CpioEntry {
  std::string name;     // relative, no leading slash
  unsigned mode = 0;    // file type and permission bits (S_IFREG | 0755, ...)
  std::string data;     // file content, or a symlink's target
  unsigned rdev_major = 0, rdev_minor = 0;  // character and block devices
};

/// The archive in the "newc" format the kernel unpacks as initramfs,
/// owned by root, with the TRAILER!!! entry. Uncompressed: the kernel
/// reads it as is.
std::string cpio_newc(const std::vector<CpioEntry>& entries);

/// The /init script of the guest.
std::string vm_init_script();
/// The line /init prints on the console after /bin/true returned 0.
inline constexpr const char* kVmMarker = "berth-bench-vm: /bin/true exited 0";

/// Writes the initramfs: /init, /bin/busybox (`busybox`, static), /bin/true
/// and /bin/sh linked to it, /dev/console, /proc.
Status write_initramfs(const std::string& path, const std::string& busybox);

/// Where the guest kernel came from.
struct Kernel {
  std::string vmlinuz;
  std::string package;  // e.g. linux-image-6.1.0-41-cloud-amd64, or "" for --kernel
  std::string source;   // how it was found, for the report
};

/// Finds the kernel: `explicit_path` if given; else the newest
/// <dir>/kernel/*/vmlinuz in each of `caches` (tests/vm's cache first);
/// else downloads linux-image-cloud-amd64's kernel package with apt-get
/// download, extracts it with dpkg -x and keeps vmlinuz in
/// `download_cache`/kernel/<package>/ for next time.
Result<Kernel> find_kernel(const std::string& explicit_path, const std::vector<std::string>& caches,
                           const std::string& download_cache);

/// QEMU's command line for one boot.
struct VmConfig {
  std::string qemu;
  std::string accel;  // "kvm" or "tcg"
  std::string kernel, initramfs, serial_log;
  int memory_mib = 256;
  int cpus = 1;
};
std::vector<std::string> qemu_argv(const VmConfig& c);

/// True if the serial console log shows /init's marker.
bool vm_booted_ok(const std::string& serial_log_text);

}  // namespace berth::bench
