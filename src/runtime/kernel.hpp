// The narrow seam for syscalls that change global state while a container's
// root filesystem is set up. LinuxKernel calls the kernel; tests substitute a
// recorder (tests/unit/rootfs_test.cpp) to check the sequence without root.
// Calls return -1 and set errno on failure, like the syscalls they stand for.
#pragma once

#include <linux/mount.h>
#include <sys/types.h>

#include <cstddef>

namespace berth::runtime {

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
                    const char* data) = 0;
  virtual int umount2(const char* target, int flags) = 0;
  /// open_tree(2): a detached copy of a mount tree (OPEN_TREE_CLONE).
  virtual int open_tree(int dirfd, const char* path, unsigned flags) = 0;
  /// move_mount(2) between two fds (both MOVE_MOUNT_*_EMPTY_PATH).
  virtual int move_mount(int from_fd, int to_fd) = 0;
  virtual int mount_setattr(int dirfd, const char* path, unsigned flags, const mount_attr* attr) = 0;
  virtual int pivot_root(const char* new_root, const char* put_old) = 0;
  virtual int chroot(const char* path) = 0;
  virtual int mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) = 0;
  virtual int sethostname(const char* name, size_t len) = 0;
  virtual int setdomainname(const char* name, size_t len) = 0;
};

/// The real kernel.
Kernel& linux_kernel();

}  // namespace berth::runtime
