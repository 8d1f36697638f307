#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/kernel.hpp"

namespace berth::runtime {

namespace {

class LinuxKernel final : public Kernel {
 public:
  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const char* data) override {
    return ::mount(source, target, fstype, flags, data);
  }
  int umount2(const char* target, int flags) override { return ::umount2(target, flags); }
  int open_tree(int dirfd, const char* path, unsigned flags) override {
    return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
  }
  int move_mount(int from_fd, int to_fd) override {
    return static_cast<int>(::syscall(SYS_move_mount, from_fd, "", to_fd, "",
                                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
  }
  int mount_setattr(int dirfd, const char* path, unsigned flags, const mount_attr* attr) override {
    return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr));
  }
  int pivot_root(const char* new_root, const char* put_old) override {
    return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
  }
  int chroot(const char* path) override { return ::chroot(path); }
  int mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) override {
    return ::mknodat(dirfd, path, mode, dev);
  }
  int sethostname(const char* name, size_t len) override { return ::sethostname(name, len); }
  int setdomainname(const char* name, size_t len) override { return ::setdomainname(name, len); }
};

}  // namespace

Kernel& linux_kernel() {
  static LinuxKernel k;
  return k;
}

}  // namespace berth::runtime
