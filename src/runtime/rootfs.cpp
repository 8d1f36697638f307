#include "runtime/rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "common/trace.hpp"
#include "common/path_safety.hpp"
#include "common/strings.hpp"
#include "runtime/mount_options.hpp"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace berth::runtime {

namespace {

// "mount proc on /proc", "mount none (type xfs) on /data": the type is
// named when the source does not already say it.
std::string describe(const MountOp& m) {
  if (m.kind == MountOp::Kind::filesystem && m.fstype != m.source)
    return cat("mount ", m.source, " (type ", m.fstype, ") on ", m.destination);
  return cat("mount ", m.source, " on ", m.destination);
}

std::string parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == 0 || pos == std::string::npos ? "/" : path.substr(0, pos);
}

std::string base_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Applies per-mount flags, recursive attributes and propagation to a mount
// reachable through `fd` (a detached tree or a mounted root).
Status set_attrs(Kernel& k, int fd, const MountOp& m, bool include_flags) {
  mount_attr attr{};
  if (include_flags) ms_flags_to_attr(m.flags, m.cleared, &attr);
  if (attr.attr_set || attr.attr_clr) {
    if (k.mount_setattr(fd, "", AT_EMPTY_PATH, &attr) < 0)
      return sys_error("set mount options ", mount_flags_string(m.flags), " on ", m.destination);
  }
  if (m.attr_set || m.attr_clr) {
    mount_attr rattr{};
    rattr.attr_set = m.attr_set;
    rattr.attr_clr = m.attr_clr;
    if (k.mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &rattr) < 0)
      return sys_error("set recursive mount options on ", m.destination);
  }
  if (m.propagation) {
    mount_attr pattr{};
    pattr.propagation = m.propagation & ~static_cast<unsigned long>(MS_REC);
    unsigned flags = AT_EMPTY_PATH | ((m.propagation & MS_REC) ? AT_RECURSIVE : 0);
    if (k.mount_setattr(fd, "", flags, &pattr) < 0) return sys_error("set mount propagation on ", m.destination);
  }
  return {};
}

// A bind mount made with the new mount API: clone the source tree detached,
// set its flags while nobody can see it, then attach it on the destination fd.
Status bind_mount(Kernel& k, int rootfd, const MountOp& m, const std::string& source) {
  struct stat st{};
  if (::stat(source.c_str(), &st) < 0) return sys_error("stat ", source).wrap(describe(m));
  auto dest = ensure_in_root(rootfd, m.destination, S_ISDIR(st.st_mode), S_ISDIR(st.st_mode) ? 0755 : 0644);
  if (!dest) return std::move(dest).error().wrap(describe(m));
  // The runtime made idmapped trees already (see make_bind_tree).
  UniqueFd made;
  int tree = m.tree_fd;
  if (tree < 0) {
    MountOp here = m;
    here.source = source;
    auto t = make_bind_tree(k, here, -1);
    if (!t) return std::move(t).error();
    made = std::move(*t);
    tree = made.get();
  }
  if (k.move_mount(tree, dest->get()) < 0) return sys_error("move_mount").wrap(describe(m));
  if (m.propagation) {
    MountOp prop_only;
    prop_only.destination = m.destination;
    prop_only.propagation = m.propagation;
    BERTH_TRY_CTX(set_attrs(k, tree, prop_only, false), describe(m));
  }
  return {};
}

Status fs_mount(Kernel& k, int rootfd, const MountOp& m, const char* fstype, const char* source) {
  auto dest = mkdir_all_in_root(rootfd, m.destination, 0755);
  if (!dest) return std::move(dest).error().wrap(describe(m));
  std::string target = fd_path(dest->get());
  if (k.mount(source, target.c_str(), fstype, m.flags, m.data.empty() ? nullptr : m.data.c_str()) < 0)
    return sys_error(describe(m));
  if (m.propagation || m.attr_set || m.attr_clr) {
    // The fd still names the covered directory; reopen to reach the new mount.
    auto mounted = open_in_root(rootfd, m.destination, O_PATH | O_DIRECTORY);
    if (!mounted) return std::move(mounted).error().wrap(describe(m));
    BERTH_TRY(set_attrs(k, mounted->get(), m, false));
  }
  return {};
}

Status copy_tree(int from_dir, int to_dir, const std::string& display);

Status tmpcopyup_mount(Kernel& k, int rootfd, const MountOp& m) {
  // Keep a handle on the image's directory before the tmpfs covers it.
  auto lower = mkdir_all_in_root(rootfd, m.destination, 0755);
  if (!lower) return std::move(lower).error().wrap(describe(m));
  auto lower_dir = open_at(lower->get(), ".", O_RDONLY | O_DIRECTORY);
  if (!lower_dir) return std::move(lower_dir).error().wrap(describe(m));
  BERTH_TRY(fs_mount(k, rootfd, m, m.fstype.c_str(), m.source.c_str()));
  auto upper = open_in_root(rootfd, m.destination, O_RDONLY | O_DIRECTORY);
  if (!upper) return std::move(upper).error().wrap(describe(m));
  if (auto st = copy_tree(lower_dir->get(), upper->get(), m.destination); !st)
    return std::move(st).error().wrap(describe(m) + ": copy up image content");
  return {};
}

Status mount_cgroup(Kernel& k, int rootfd, const RootfsPlan& plan, const MountOp& m) {
  if (plan.cgroup_ns) {
    auto st = fs_mount(k, rootfd, m, "cgroup2", "cgroup2");
    if (st || (st.error().code() != EPERM && st.error().code() != EBUSY)) return st;
  }
  // Without a cgroup namespace, show the container its own cgroup only.
  MountOp bind = m;
  bind.kind = MountOp::Kind::bind;
  bind.source = plan.cgroup_dir;
  bind.recursive = true;
  return bind_mount(k, rootfd, bind, plan.cgroup_dir);
}

Status make_devices(Kernel& k, int rootfd, const RootfsPlan& plan) {
  for (const auto& d : plan.devices) {
    auto parent = mkdir_all_in_root(rootfd, parent_of(d.path), 0755);
    if (!parent) return std::move(parent).error().wrap(cat("create device ", d.path));
    std::string name = base_of(d.path);
    if (plan.bind_devices) {
      // mknod is not allowed in a user namespace: bind the host's node.
      MountOp bind;
      bind.kind = MountOp::Kind::bind;
      bind.source = d.path;
      bind.destination = d.path;
      BERTH_TRY(bind_mount(k, rootfd, bind, d.path));
      continue;
    }
    if (k.mknodat(parent->get(), name.c_str(), d.mode, d.dev) < 0) {
      if (errno == EEXIST) continue;  // the image already has it
      return sys_error("mknod ", d.path);
    }
    if (::fchownat(parent->get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0)
      return sys_error("chown ", d.path);
  }
  for (const auto& [target, link] : plan.dev_symlinks) {
    auto parent = mkdir_all_in_root(rootfd, parent_of(link), 0755);
    if (!parent) return std::move(parent).error();
    if (::symlinkat(target.c_str(), parent->get(), base_of(link).c_str()) < 0 && errno != EEXIST)
      return sys_error("symlink ", target, " to ", link);
  }
  if (plan.console) {
    auto console = ensure_in_root(rootfd, "/dev/console", false, 0600);
    if (!console) return std::move(console).error().wrap("create /dev/console");
  }
  return {};
}

}  // namespace

Result<UniqueFd> make_bind_tree(Kernel& k, const MountOp& m, int userns_fd) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m.recursive ? AT_RECURSIVE : 0);
  UniqueFd tree(k.open_tree(AT_FDCWD, m.source.c_str(), flags));
  if (!tree) return sys_error("open_tree ", m.source).wrap(describe(m));
  if (userns_fd >= 0) {
    // Only a detached tree can be idmapped; it takes the mappings of the
    // user namespace made for this mount.
    mount_attr idmap{};
    idmap.attr_set = MOUNT_ATTR_IDMAP;
    idmap.userns_fd = static_cast<uint64_t>(userns_fd);
    if (k.mount_setattr(tree.get(), "", AT_EMPTY_PATH | (m.idmap_recursive ? AT_RECURSIVE : 0), &idmap) < 0)
      return sys_error("idmap").wrap(describe(m));
  }
  mount_attr attr{};
  ms_flags_to_attr(m.flags, m.cleared, &attr);
  if (attr.attr_set || attr.attr_clr) {
    // A non-recursive bind clones one mount, so AT_RECURSIVE is harmless
    // there; for rbind it is what users mean by "ro" on the whole tree.
    if (k.mount_setattr(tree.get(), "", AT_EMPTY_PATH | (m.recursive ? AT_RECURSIVE : 0), &attr) < 0)
      return sys_error("set mount options ", mount_flags_string(m.flags)).wrap(describe(m));
  }
  MountOp rest = m;
  rest.propagation = 0;
  BERTH_TRY_CTX(set_attrs(k, tree.get(), rest, false), describe(m));
  return tree;
}

void ms_flags_to_attr(unsigned long set, unsigned long cleared, mount_attr* attr) {
  const std::pair<unsigned long, uint64_t> simple[] = {
      {MS_RDONLY, MOUNT_ATTR_RDONLY},         {MS_NOSUID, MOUNT_ATTR_NOSUID},
      {MS_NODEV, MOUNT_ATTR_NODEV},           {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
      {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
  };
  for (auto [ms, bit] : simple) {
    if (set & ms) attr->attr_set |= bit;
    if (cleared & ms) attr->attr_clr |= bit;
  }
  // The access-time policy is one three-valued field.
  if (set & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
    attr->attr_clr |= MOUNT_ATTR__ATIME;
    if (set & MS_NOATIME)
      attr->attr_set |= MOUNT_ATTR_NOATIME;
    else if (set & MS_STRICTATIME)
      attr->attr_set |= MOUNT_ATTR_STRICTATIME;
    else
      attr->attr_set |= MOUNT_ATTR_RELATIME;
  }
}

namespace {

Status copy_tree(int from_dir, int to_dir, const std::string& display) {
  UniqueFd dup_fd(::fcntl(from_dir, F_DUPFD_CLOEXEC, 0));
  DIR* dir = ::fdopendir(dup_fd.release());
  if (!dir) return sys_error("opendir ", display);
  Status result;
  while (dirent* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    struct stat st{};
    if (::fstatat(from_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      result = sys_error("stat ", display, "/", name);
      break;
    }
    std::string child = display + "/" + name;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to_dir, name.c_str(), st.st_mode & 07777) < 0 && errno != EEXIST) {
        result = sys_error("mkdir ", child);
        break;
      }
      auto from = open_at(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      auto to = open_at(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!from || !to) {
        result = make_error("open ", child);
        break;
      }
      if (auto st2 = copy_tree(from->get(), to->get(), child); !st2) {
        result = st2;
        break;
      }
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlinkat(from_dir, name.c_str(), target, sizeof target - 1);
      if (n < 0) {
        result = sys_error("readlink ", child);
        break;
      }
      target[n] = '\0';
      if (::symlinkat(target, to_dir, name.c_str()) < 0) {
        result = sys_error("symlink ", child);
        break;
      }
    } else if (S_ISREG(st.st_mode)) {
      auto from = open_at(from_dir, name, O_RDONLY | O_NOFOLLOW);
      auto to = open_at(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, st.st_mode & 07777);
      if (!from || !to) {
        result = make_error("copy ", child);
        break;
      }
      auto data = read_fd(from->get());
      if (!data || !write_all(to->get(), *data, child)) {
        result = make_error("copy ", child);
        break;
      }
    } else {
      continue;  // device nodes, fifos and sockets are not copied up
    }
    (void)::fchownat(to_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  ::closedir(dir);
  return result;
}

}  // namespace

Status prepare_rootfs(Kernel& k, const RootfsPlan& plan, const std::string& cwd) {
  // Mounts made below must not propagate back to the host.
  if (k.mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) < 0)
    return sys_error("set propagation of / to ", plan.root_propagation & MS_SHARED ? "shared" : "slave/private");
  // pivot_root needs the rootfs to be a mount point.
  if (k.mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return sys_error("bind mount rootfs ", plan.rootfs);
  auto root = open_file(plan.rootfs, O_PATH | O_DIRECTORY);
  if (!root) return std::move(root).error().wrap("open rootfs");
  int rootfd = root->get();
  trace::Phase mounts("mounts", "init");
  for (const auto& m : plan.mounts) {
    switch (m.kind) {
      case MountOp::Kind::bind:
        BERTH_TRY(bind_mount(k, rootfd, m, m.source));
        break;
      case MountOp::Kind::cgroup:
        BERTH_TRY(mount_cgroup(k, rootfd, plan, m));
        break;
      case MountOp::Kind::filesystem:
        if (m.tmpcopyup)
          BERTH_TRY(tmpcopyup_mount(k, rootfd, m));
        else
          BERTH_TRY(fs_mount(k, rootfd, m, m.fstype.c_str(), m.source.c_str()));
        break;
    }
  }
  mounts.end();
  trace::Phase devices("devices", "init");
  if (plan.setup_dev) BERTH_TRY(make_devices(k, rootfd, plan));
  if (!cwd.empty() && cwd != "/") {
    auto dir = mkdir_all_in_root(rootfd, cwd, 0755);
    if (!dir) return std::move(dir).error().wrap("create working directory");
  }
  return {};
}

Status enter_rootfs(Kernel& k, const RootfsPlan& plan) {
  auto newroot = open_file(plan.rootfs, O_PATH | O_DIRECTORY);
  if (!newroot) return std::move(newroot).error().wrap("enter rootfs");
  if (::fchdir(newroot->get()) < 0) return sys_error("chdir to rootfs ", plan.rootfs);
  if (plan.no_pivot) {
    if (k.mount(plan.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) return sys_error("move rootfs to /");
    if (k.chroot(".") < 0) return sys_error("chroot into rootfs");
  } else {
    auto oldroot = open_file("/", O_PATH | O_DIRECTORY);
    if (!oldroot) return std::move(oldroot).error().wrap("enter rootfs");
    // pivot_root(".", ".") stacks the old root on top of the new one; the
    // old root is then detached without needing a directory for it.
    if (k.pivot_root(".", ".") < 0) return sys_error("pivot_root into ", plan.rootfs);
    if (::fchdir(oldroot->get()) < 0) return sys_error("chdir to old root");
    // Make the old root a slave first so detaching it cannot unmount
    // anything in the host's mount namespace.
    if (k.mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) return sys_error("make old root rslave");
    if (k.umount2(".", MNT_DETACH) < 0) return sys_error("detach old root");
  }
  if (::chdir("/") < 0) return sys_error("chdir to /");
  return {};
}

Status apply_sysctls(const RootfsPlan& plan) {
  for (const auto& [path, value] : plan.sysctl) {
    std::string key = path.substr(10);
    for (auto& c : key)
      if (c == '/') c = '.';
    if (auto st = write_file(path, value); !st) return Error(st.error().code(), cat("write sysctl ", key, "=", value));
  }
  return {};
}

Status finish_rootfs(Kernel& k, const RootfsPlan& plan) {
  for (const auto& p : plan.readonly_paths) {
    UniqueFd tree(k.open_tree(AT_FDCWD, p.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!tree) {
      if (errno == ENOENT) continue;
      return sys_error("make ", p, " read-only: open_tree");
    }
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (k.mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0)
      return sys_error("make ", p, " read-only");
    auto target = open_file(p, O_PATH);
    if (!target) return std::move(target).error().wrap(cat("make ", p, " read-only"));
    if (k.move_mount(tree.get(), target->get()) < 0) return sys_error("make ", p, " read-only: move_mount");
  }
  for (const auto& p : plan.masked_paths) {
    struct stat st{};
    if (::stat(p.c_str(), &st) < 0) {
      if (errno == ENOENT) continue;
      return sys_error("mask ", p);
    }
    int r = S_ISDIR(st.st_mode) ? k.mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, "size=0k")
                                : k.mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr);
    if (r < 0) return sys_error("mask ", p);
  }
  if (plan.readonly) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (k.mount_setattr(AT_FDCWD, "/", 0, &attr) < 0) return sys_error("make root filesystem read-only");
  }
  return {};
}

}  // namespace berth::runtime
