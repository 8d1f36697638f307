// Building a container's root filesystem from a RootfsPlan, inside the new
// mount namespace. Runs in the init process after clone().
//
// Every mount destination is resolved beneath the rootfs with
// openat2(RESOLVE_IN_ROOT) and the mount is made on that fd, so a symlink in
// the image can never redirect a mount to the host.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "runtime/kernel.hpp"
#include "runtime/plan.hpp"

namespace berth::runtime {

/// Propagation of "/", the rootfs bind mount, every configured mount, /dev
/// nodes and links, and the working directory; all before pivot_root.
Status prepare_rootfs(Kernel& k, const RootfsPlan& plan, const std::string& cwd);

/// pivot_root into the rootfs and detach the old root (or, with no_pivot,
/// MS_MOVE + chroot).
Status enter_rootfs(Kernel& k, const RootfsPlan& plan);

/// Inside the new root: sysctls (before /proc/sys turns read-only).
Status apply_sysctls(const RootfsPlan& plan);

/// Inside the new root: read-only paths, masked paths, read-only "/".
Status finish_rootfs(Kernel& k, const RootfsPlan& plan);

/// A detached copy (open_tree) of a bind mount's source with its flags set
/// and, with `userns_fd` >= 0, idmapped with that user namespace's mappings.
/// The runtime makes idmapped trees itself: setting an idmap needs
/// privileges over the source filesystem that an init inside a new user
/// namespace does not have. The init then only attaches the tree.
Result<UniqueFd> make_bind_tree(Kernel& k, const MountOp& m, int userns_fd);

/// Converts per-mount MS_* flags to MOUNT_ATTR_* for mount_setattr(2).
void ms_flags_to_attr(unsigned long set, unsigned long cleared, mount_attr* attr);

}  // namespace berth::runtime
