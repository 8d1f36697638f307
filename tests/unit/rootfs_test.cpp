// prepare_rootfs (runtime/rootfs.hpp) against a recording Kernel: no mount
// is really made, but the directories, files, device placeholders and
// symlinks are, in a temporary rootfs. Every recorded path that was passed
// as /proc/self/fd/N (or as an fd) is resolved to the real path at call time,
// so the assertions see where a mount would really have landed.
#include "runtime/rootfs.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "runtime/kernel.hpp"
#include "test_support.hpp"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace {

using berth::runtime::DeviceNode;
using berth::runtime::MountOp;
using berth::runtime::RootfsPlan;
using berth::test::TempDir;

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  REQUIRE_MESSAGE(::realpath(p.c_str(), buf) != nullptr, "realpath ", p);
  return buf;
}

std::string fd_name(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[PATH_MAX];
  ssize_t n = ::readlink(link, buf, sizeof buf - 1);
  if (n < 0) return "<bad fd " + std::to_string(fd) + ">";
  buf[n] = '\0';
  return buf;
}

// A path argument as the kernel would see it: magic fd links resolved.
std::string resolve(const char* p) {
  if (!p) return "(null)";
  std::string s = p;
  const std::string prefix = "/proc/self/fd/";
  if (s.rfind(prefix, 0) == 0) return fd_name(std::atoi(s.c_str() + prefix.size()));
  return s;
}

struct Call {
  std::string op;
  std::string source;  // mount source, open_tree path, move_mount origin
  std::string target;  // mount target, move_mount destination, mount_setattr object, mknodat path
  std::string fstype;
  std::string data;
  unsigned long flags = 0;
  uint64_t attr_set = 0, attr_clr = 0, propagation = 0;
  mode_t mode = 0;
  dev_t dev = 0;
};

class RecordingKernel final : public berth::runtime::Kernel {
 public:
  std::vector<Call> calls;
  // Returns an errno to make a call fail, 0 to let it succeed.
  std::function<int(const Call&)> fail_if = [](const Call&) { return 0; };

  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const char* data) override {
    Call c{"mount", resolve(source), resolve(target), fstype ? fstype : "(null)", data ? data : "(null)", flags};
    return finish(c);
  }
  int umount2(const char* target, int flags) override {
    Call c{"umount2", "", resolve(target)};
    c.flags = static_cast<unsigned long>(flags);
    return finish(c);
  }
  int open_tree(int dirfd, const char* path, unsigned flags) override {
    Call c{"open_tree", dirfd == AT_FDCWD ? std::string(path) : fd_name(dirfd) + "/" + path};
    c.flags = flags;
    if (int r = finish(c); r < 0) return r;
    // A real fd of the source, so later calls on it resolve to something.
    return ::openat(dirfd, path, O_PATH | O_CLOEXEC);
  }
  int move_mount(int from_fd, int to_fd) override {
    Call c{"move_mount", fd_name(from_fd), fd_name(to_fd)};
    return finish(c);
  }
  int mount_setattr(int dirfd, const char* path, unsigned flags, const mount_attr* attr) override {
    Call c{"mount_setattr", "", *path ? fd_name(dirfd) + "/" + path : fd_name(dirfd)};
    c.flags = flags;
    c.attr_set = attr->attr_set;
    c.attr_clr = attr->attr_clr;
    c.propagation = attr->propagation;
    return finish(c);
  }
  int pivot_root(const char* new_root, const char* put_old) override {
    Call c{"pivot_root", resolve(new_root), resolve(put_old)};
    return finish(c);
  }
  int chroot(const char* path) override {
    Call c{"chroot", "", resolve(path)};
    return finish(c);
  }
  int mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) override {
    Call c{"mknodat", "", fd_name(dirfd) + "/" + path};
    c.mode = mode;
    c.dev = dev;
    if (int r = finish(c); r < 0) return r;
    // A regular file stands in for the node so the chown that follows works.
    int fd = ::openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    ::close(fd);
    return 0;
  }
  int sethostname(const char* name, size_t len) override {
    Call c{"sethostname", std::string(name, len)};
    return finish(c);
  }
  int setdomainname(const char* name, size_t len) override {
    Call c{"setdomainname", std::string(name, len)};
    return finish(c);
  }

  std::vector<Call> of(const std::string& op) const {
    std::vector<Call> out;
    for (const auto& c : calls)
      if (c.op == op) out.push_back(c);
    return out;
  }

 private:
  int finish(const Call& c) {
    calls.push_back(c);
    if (int e = fail_if(c); e != 0) {
      errno = e;
      return -1;
    }
    return 0;
  }
};

// A rootfs, a host directory and file to bind from, an "outside" directory
// that must never change, and a fake cgroup directory.
struct Fixture {
  TempDir base{"berth-rootfs"};
  std::string rootfs, host_dir, host_file, outside, cgroup_dir;
  RootfsPlan plan;
  RecordingKernel k;

  Fixture() {
    std::string b = real_path(base.path());
    rootfs = b + "/rootfs";
    host_dir = b + "/host/data";
    host_file = b + "/host/resolv.conf";
    outside = b + "/outside";
    cgroup_dir = b + "/cgroup/c1";
    for (const auto& d : {rootfs, host_dir, outside, cgroup_dir}) REQUIRE(berth::mkdir_all(d, 0755).ok());
    REQUIRE(berth::write_file(host_file, "nameserver 192.0.2.1\n", true).ok());
    REQUIRE(berth::write_file(outside + "/keep", "keep", true).ok());
    plan.rootfs = rootfs;
    plan.root_propagation = MS_SLAVE | MS_REC;
    plan.cgroup_dir = cgroup_dir;
  }

  berth::Status run(const std::string& cwd = "/") { return berth::runtime::prepare_rootfs(k, plan, cwd); }

  void run_ok(const std::string& cwd = "/") {
    auto st = run(cwd);
    REQUIRE_MESSAGE(st.ok(), st.error().message());
  }

  // The in-rootfs mirror of the outside directory's absolute path.
  std::string mirror() const { return rootfs + outside; }

  std::vector<std::string> outside_entries() const {
    std::vector<std::string> out;
    auto fd = berth::open_file(outside, O_RDONLY | O_DIRECTORY);
    REQUIRE(fd.ok());
    DIR* d = ::fdopendir(fd->release());
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  }
};

MountOp fs_op(const std::string& fstype, const std::string& source, const std::string& dest, unsigned long flags = 0,
              const std::string& data = "") {
  MountOp m;
  m.kind = MountOp::Kind::filesystem;
  m.fstype = fstype;
  m.source = source;
  m.destination = dest;
  m.flags = flags;
  m.data = data;
  return m;
}

MountOp bind_op(const std::string& source, const std::string& dest, bool recursive, unsigned long flags = 0) {
  MountOp m;
  m.kind = MountOp::Kind::bind;
  m.source = source;
  m.destination = dest;
  m.recursive = recursive;
  m.flags = flags;
  return m;
}

MountOp cgroup_op() {
  MountOp m;
  m.kind = MountOp::Kind::cgroup;
  m.source = "cgroup2";
  m.fstype = "cgroup2";
  m.destination = "/sys/fs/cgroup";
  m.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  return m;
}

DeviceNode device(const std::string& path, mode_t mode, dev_t dev) {
  // Owned by the caller so the chown after mknod also works without root.
  return DeviceNode{path, mode, dev, ::getuid(), ::getgid()};
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular(const std::string& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string link_target(const std::string& p) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "";
  buf[n] = '\0';
  return buf;
}

bool under(const std::string& path, const std::string& dir) { return path.rfind(dir + "/", 0) == 0; }

}  // namespace

// --- order and the first two mounts --------------------------------------

TEST_CASE("prepare_rootfs first makes / rslave so nothing propagates to the host") {
  Fixture f;
  f.run_ok();
  REQUIRE(f.k.calls.size() >= 2);
  const Call& c = f.k.calls[0];
  CHECK(c.op == "mount");
  CHECK(c.source == "(null)");
  CHECK(c.target == "/");
  CHECK(c.fstype == "(null)");
  CHECK(c.flags == (MS_SLAVE | MS_REC));
}

TEST_CASE("prepare_rootfs applies a configured root propagation") {
  Fixture f;
  f.plan.root_propagation = MS_PRIVATE;
  f.run_ok();
  CHECK(f.k.calls[0].target == "/");
  CHECK(f.k.calls[0].flags == MS_PRIVATE);
}

TEST_CASE("prepare_rootfs bind-mounts the rootfs onto itself second") {
  Fixture f;
  f.run_ok();
  REQUIRE(f.k.calls.size() >= 2);
  const Call& c = f.k.calls[1];
  CHECK(c.op == "mount");
  CHECK(c.source == f.rootfs);
  CHECK(c.target == f.rootfs);
  CHECK(c.flags == (MS_BIND | MS_REC));
}

TEST_CASE("a failing propagation change stops prepare_rootfs") {
  Fixture f;
  f.k.fail_if = [](const Call& c) { return c.target == "/" ? EPERM : 0; };
  auto st = f.run();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == EPERM);
  CHECK(st.error().message().rfind("set propagation of / to ", 0) == 0);
  CHECK(f.k.calls.size() == 1);
}

// --- filesystem mounts ----------------------------------------------------

TEST_CASE("filesystem mounts are made in order with their type, flags and data") {
  Fixture f;
  f.plan.mounts = {fs_op("proc", "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC),
                   fs_op("tmpfs", "tmpfs", "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"),
                   fs_op("mqueue", "mqueue", "/dev/mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)};
  f.run_ok();
  auto mounts = f.k.of("mount");
  REQUIRE(mounts.size() == 5);
  CHECK(mounts[2].source == "proc");
  CHECK(mounts[2].target == f.rootfs + "/proc");
  CHECK(mounts[2].fstype == "proc");
  CHECK(mounts[2].flags == (MS_NOSUID | MS_NODEV | MS_NOEXEC));
  CHECK(mounts[2].data == "(null)");
  CHECK(mounts[3].target == f.rootfs + "/dev");
  CHECK(mounts[3].fstype == "tmpfs");
  CHECK(mounts[3].flags == (MS_NOSUID | MS_STRICTATIME));
  CHECK(mounts[3].data == "mode=755,size=65536k");
  CHECK(mounts[4].target == f.rootfs + "/dev/mqueue");
  CHECK(mounts[4].fstype == "mqueue");
  CHECK(is_dir(f.rootfs + "/proc"));
  CHECK(is_dir(f.rootfs + "/dev/mqueue"));
}

TEST_CASE("a filesystem mount with propagation sets it on the new mount") {
  Fixture f;
  MountOp m = fs_op("tmpfs", "tmpfs", "/shared");
  m.propagation = MS_SHARED | MS_REC;
  f.plan.mounts = {m};
  f.run_ok();
  auto setattr = f.k.of("mount_setattr");
  REQUIRE(setattr.size() == 1);
  CHECK(setattr[0].target == f.rootfs + "/shared");
  CHECK(setattr[0].propagation == MS_SHARED);
  CHECK(setattr[0].flags == (AT_EMPTY_PATH | AT_RECURSIVE));
}

TEST_CASE("a failing mount stops prepare_rootfs with a message naming it") {
  Fixture f;
  f.plan.mounts = {fs_op("proc", "proc", "/proc"), fs_op("tmpfs", "tmpfs", "/tmp")};
  std::string proc_target = f.rootfs + "/proc";
  f.k.fail_if = [&](const Call& c) { return c.op == "mount" && c.target == proc_target ? EPERM : 0; };
  auto st = f.run();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "mount proc on /proc: Operation not permitted");
  CHECK(f.k.calls.back().target == proc_target);
  CHECK(f.k.calls.size() == 3);
}

// --- bind mounts ----------------------------------------------------------

TEST_CASE("a recursive bind clones the tree, sets its flags, then moves it into place") {
  Fixture f;
  f.plan.mounts = {bind_op(f.host_dir, "/mnt/data", true, MS_RDONLY | MS_NOSUID)};
  f.run_ok();
  REQUIRE(f.k.calls.size() == 5);
  const Call& tree = f.k.calls[2];
  CHECK(tree.op == "open_tree");
  CHECK(tree.source == f.host_dir);
  CHECK(tree.flags == (OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  const Call& attrs = f.k.calls[3];
  CHECK(attrs.op == "mount_setattr");
  CHECK(attrs.target == f.host_dir);  // the detached clone, before anyone can see it
  CHECK(attrs.flags == (AT_EMPTY_PATH | AT_RECURSIVE));
  CHECK(attrs.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));
  const Call& move = f.k.calls[4];
  CHECK(move.op == "move_mount");
  CHECK(move.source == f.host_dir);
  CHECK(move.target == f.rootfs + "/mnt/data");
  CHECK(is_dir(f.rootfs + "/mnt/data"));
  CHECK(f.k.of("mount").size() == 2);  // no mount(2) for the bind itself
}

TEST_CASE("a plain bind clones only one mount and sets no attributes without flags") {
  Fixture f;
  f.plan.mounts = {bind_op(f.host_dir, "/data", false)};
  f.run_ok();
  auto trees = f.k.of("open_tree");
  REQUIRE(trees.size() == 1);
  CHECK(trees[0].flags == (OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  CHECK(f.k.of("mount_setattr").empty());
  auto moves = f.k.of("move_mount");
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].target == f.rootfs + "/data");
}

TEST_CASE("a file bind gets an empty regular file as its mount point") {
  Fixture f;
  f.plan.mounts = {bind_op(f.host_file, "/etc/resolv.conf", false)};
  f.run_ok();
  CHECK(is_regular(f.rootfs + "/etc/resolv.conf"));
  auto moves = f.k.of("move_mount");
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].source == f.host_file);
  CHECK(moves[0].target == f.rootfs + "/etc/resolv.conf");
}

TEST_CASE("bind propagation is applied after the move") {
  Fixture f;
  MountOp m = bind_op(f.host_dir, "/data", false);
  m.propagation = MS_PRIVATE;
  f.plan.mounts = {m};
  f.run_ok();
  REQUIRE(f.k.calls.size() == 5);
  CHECK(f.k.calls[3].op == "move_mount");
  CHECK(f.k.calls[4].op == "mount_setattr");
  CHECK(f.k.calls[4].propagation == MS_PRIVATE);
  CHECK(f.k.calls[4].flags == AT_EMPTY_PATH);
}

TEST_CASE("a failing open_tree names the mount and the source") {
  Fixture f;
  f.plan.mounts = {bind_op(f.host_dir, "/data", true)};
  f.k.fail_if = [](const Call& c) { return c.op == "open_tree" ? EPERM : 0; };
  auto st = f.run();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() ==
        "mount " + f.host_dir + " on /data: open_tree " + f.host_dir + ": Operation not permitted");
  CHECK(f.k.of("move_mount").empty());
}

TEST_CASE("a bind of a missing source fails before any mount call") {
  Fixture f;
  f.plan.mounts = {bind_op(f.host_dir + "/missing", "/data", false)};
  auto st = f.run();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ENOENT);
  CHECK(f.k.of("open_tree").empty());
}

// --- confinement ------------------------------------------------------------

TEST_CASE("mount targets behind an absolute symlink resolve inside the rootfs") {
  Fixture f;
  // rootfs/evil points at a real host directory; inside the rootfs the same
  // path exists too, and that is where the mounts must go.
  REQUIRE(::symlink(f.outside.c_str(), (f.rootfs + "/evil").c_str()) == 0);
  REQUIRE(berth::mkdir_all(f.mirror(), 0755).ok());
  f.plan.mounts = {fs_op("tmpfs", "tmpfs", "/evil/x"), bind_op(f.host_dir, "/evil/y", false),
                   bind_op(f.host_file, "/evil/z.conf", false)};
  f.run_ok();
  auto mounts = f.k.of("mount");
  REQUIRE(mounts.size() == 3);
  CHECK(mounts[2].target == f.mirror() + "/x");
  auto moves = f.k.of("move_mount");
  REQUIRE(moves.size() == 2);
  CHECK(moves[0].target == f.mirror() + "/y");
  CHECK(moves[1].target == f.mirror() + "/z.conf");
  CHECK(f.outside_entries() == std::vector<std::string>{"keep"});
}

TEST_CASE("mount targets behind a ../../.. symlink stay inside the rootfs") {
  Fixture f;
  REQUIRE(::symlink("../../../..", (f.rootfs + "/up").c_str()) == 0);
  f.plan.mounts = {fs_op("tmpfs", "tmpfs", "/up/up/outside/x"), bind_op(f.host_dir, "/up/host/data", false)};
  f.run_ok();
  auto mounts = f.k.of("mount");
  REQUIRE(mounts.size() == 3);
  CHECK(mounts[2].target == f.rootfs + "/outside/x");
  auto moves = f.k.of("move_mount");
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].target == f.rootfs + "/host/data");
  CHECK(f.outside_entries() == std::vector<std::string>{"keep"});
}

TEST_CASE("a dangling hostile symlink sends the mount to its target inside the rootfs, never outside") {
  Fixture f;
  REQUIRE(::symlink(f.outside.c_str(), (f.rootfs + "/evil").c_str()) == 0);
  f.plan.mounts = {fs_op("tmpfs", "tmpfs", "/evil/x")};
  f.run_ok();
  auto mounts = f.k.of("mount");
  REQUIRE(mounts.size() == 3);
  CHECK(mounts[2].target == f.rootfs + f.outside + "/x");
  for (const auto& c : f.k.calls) {
    CAPTURE(c.target);
    CHECK_FALSE(under(c.target, f.outside));
  }
  CHECK(f.outside_entries() == std::vector<std::string>{"keep"});
}

TEST_CASE("every mount and move target lies inside the rootfs") {
  Fixture f;
  REQUIRE(::symlink("/", (f.rootfs + "/root-link").c_str()) == 0);
  REQUIRE(::symlink("..", (f.rootfs + "/parent").c_str()) == 0);
  f.plan.mounts = {fs_op("proc", "proc", "/proc"), fs_op("tmpfs", "tmpfs", "/root-link/tmp"),
                   bind_op(f.host_dir, "/parent/parent/mnt", true), fs_op("tmpfs", "tmpfs", "/../../run")};
  f.run_ok();
  for (const auto& c : f.k.calls) {
    if (c.op != "move_mount" && c.op != "mount") continue;
    if (c.target == "/" || c.target == f.rootfs) continue;  // the two set-up mounts
    CAPTURE(c.target);
    CHECK(under(c.target, f.rootfs));
  }
  CHECK(is_dir(f.rootfs + "/tmp"));
  CHECK(is_dir(f.rootfs + "/mnt"));
  CHECK(is_dir(f.rootfs + "/run"));
}

// --- cgroup mounts ----------------------------------------------------------

TEST_CASE("with a cgroup namespace the cgroup2 filesystem is mounted") {
  Fixture f;
  f.plan.cgroup_ns = true;
  f.plan.mounts = {cgroup_op()};
  f.run_ok();
  auto mounts = f.k.of("mount");
  REQUIRE(mounts.size() == 3);
  CHECK(mounts[2].source == "cgroup2");
  CHECK(mounts[2].fstype == "cgroup2");
  CHECK(mounts[2].target == f.rootfs + "/sys/fs/cgroup");
  CHECK(mounts[2].flags == (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY));
  CHECK(f.k.of("open_tree").empty());
}

TEST_CASE("without a cgroup namespace the container cgroup is bind-mounted recursively") {
  Fixture f;
  f.plan.cgroup_ns = false;
  f.plan.mounts = {cgroup_op()};
  f.run_ok();
  CHECK(f.k.of("mount").size() == 2);
  auto trees = f.k.of("open_tree");
  REQUIRE(trees.size() == 1);
  CHECK(trees[0].source == f.cgroup_dir);
  CHECK((trees[0].flags & AT_RECURSIVE) != 0);
  auto moves = f.k.of("move_mount");
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].target == f.rootfs + "/sys/fs/cgroup");
}

TEST_CASE("a cgroup2 mount refused with EPERM falls back to the bind mount") {
  Fixture f;
  f.plan.cgroup_ns = true;
  f.plan.mounts = {cgroup_op()};
  f.k.fail_if = [](const Call& c) { return c.op == "mount" && c.fstype == "cgroup2" ? EPERM : 0; };
  f.run_ok();
  auto moves = f.k.of("move_mount");
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].source == f.cgroup_dir);
  CHECK(moves[0].target == f.rootfs + "/sys/fs/cgroup");
}

// --- /dev -------------------------------------------------------------------

TEST_CASE("device nodes are made with mknodat in their parent directory") {
  Fixture f;
  f.plan.setup_dev = true;
  f.plan.devices = {device("/dev/null", S_IFCHR | 0666, makedev(1, 3)),
                    device("/dev/net/tun", S_IFCHR | 0600, makedev(10, 200)),
                    device("/dev/sda", S_IFBLK | 0660, makedev(8, 0))};
  f.run_ok();
  auto nodes = f.k.of("mknodat");
  REQUIRE(nodes.size() == 3);
  CHECK(nodes[0].target == f.rootfs + "/dev/null");
  CHECK(nodes[0].mode == (S_IFCHR | 0666));
  CHECK(nodes[0].dev == makedev(1, 3));
  CHECK(nodes[1].target == f.rootfs + "/dev/net/tun");
  CHECK(nodes[1].dev == makedev(10, 200));
  CHECK(nodes[2].mode == (S_IFBLK | 0660));
  CHECK(nodes[2].dev == makedev(8, 0));
  CHECK(is_dir(f.rootfs + "/dev/net"));
  CHECK(f.k.of("move_mount").empty());
}

TEST_CASE("an existing device node in the image is kept") {
  Fixture f;
  f.plan.setup_dev = true;
  f.plan.devices = {device("/dev/null", S_IFCHR | 0666, makedev(1, 3)), device("/dev/zero", S_IFCHR | 0666, makedev(1, 5))};
  REQUIRE(berth::mkdir_all(f.rootfs + "/dev", 0755).ok());
  REQUIRE(berth::write_file(f.rootfs + "/dev/null", "", true).ok());
  f.run_ok();  // EEXIST from mknod is not an error
  CHECK(f.k.of("mknodat").size() == 2);
}

TEST_CASE("in a user namespace devices are bind-mounted from the host") {
  Fixture f;
  f.plan.setup_dev = true;
  f.plan.bind_devices = true;
  f.plan.devices = {device("/dev/null", S_IFCHR | 0666, makedev(1, 3))};
  f.run_ok();
  CHECK(f.k.of("mknodat").empty());
  auto trees = f.k.of("open_tree");
  REQUIRE(trees.size() == 1);
  CHECK(trees[0].source == "/dev/null");
  auto moves = f.k.of("move_mount");
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].source == "/dev/null");
  CHECK(moves[0].target == f.rootfs + "/dev/null");
  CHECK(is_regular(f.rootfs + "/dev/null"));  // a file mount point, not a node
}

TEST_CASE("the /dev symlinks are created inside the rootfs") {
  Fixture f;
  f.plan.setup_dev = true;
  f.plan.dev_symlinks = {{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"pts/ptmx", "/dev/ptmx"}};
  f.run_ok();
  CHECK(link_target(f.rootfs + "/dev/fd") == "/proc/self/fd");
  CHECK(link_target(f.rootfs + "/dev/stdin") == "/proc/self/fd/0");
  CHECK(link_target(f.rootfs + "/dev/ptmx") == "pts/ptmx");
}

TEST_CASE("an existing /dev symlink is not an error") {
  Fixture f;
  f.plan.setup_dev = true;
  f.plan.dev_symlinks = {{"pts/ptmx", "/dev/ptmx"}};
  REQUIRE(berth::mkdir_all(f.rootfs + "/dev", 0755).ok());
  REQUIRE(::symlink("pts/ptmx", (f.rootfs + "/dev/ptmx").c_str()) == 0);
  f.run_ok();
  CHECK(link_target(f.rootfs + "/dev/ptmx") == "pts/ptmx");
}

TEST_CASE("the console gets a file to bind the pty onto") {
  Fixture f;
  f.plan.setup_dev = true;
  f.plan.console = true;
  f.run_ok();
  CHECK(is_regular(f.rootfs + "/dev/console"));
}

TEST_CASE("without setup_dev no nodes, links or console are made") {
  Fixture f;
  f.plan.setup_dev = false;
  f.plan.console = true;
  f.plan.devices = {device("/dev/null", S_IFCHR | 0666, makedev(1, 3))};
  f.plan.dev_symlinks = {{"/proc/self/fd", "/dev/fd"}};
  f.run_ok();
  CHECK(f.k.of("mknodat").empty());
  CHECK_FALSE(berth::path_exists(f.rootfs + "/dev"));
}

TEST_CASE("devices are made after all configured mounts") {
  Fixture f;
  f.plan.setup_dev = true;
  f.plan.mounts = {fs_op("tmpfs", "tmpfs", "/dev", MS_NOSUID, "mode=755")};
  f.plan.devices = {device("/dev/null", S_IFCHR | 0666, makedev(1, 3))};
  f.run_ok();
  auto it_mount = std::find_if(f.k.calls.begin(), f.k.calls.end(),
                               [&](const Call& c) { return c.op == "mount" && c.target == f.rootfs + "/dev"; });
  auto it_node = std::find_if(f.k.calls.begin(), f.k.calls.end(), [](const Call& c) { return c.op == "mknodat"; });
  REQUIRE(it_mount != f.k.calls.end());
  REQUIRE(it_node != f.k.calls.end());
  CHECK(it_mount < it_node);
}

// --- working directory ------------------------------------------------------

TEST_CASE("the working directory is created inside the rootfs") {
  Fixture f;
  f.run_ok("/home/tester/work");
  CHECK(is_dir(f.rootfs + "/home/tester/work"));
}

TEST_CASE("a working directory behind a hostile symlink is created inside the rootfs") {
  Fixture f;
  REQUIRE(::symlink(f.outside.c_str(), (f.rootfs + "/evil").c_str()) == 0);
  REQUIRE(berth::mkdir_all(f.mirror(), 0755).ok());
  f.run_ok("/evil/work");
  CHECK(is_dir(f.mirror() + "/work"));
  CHECK(f.outside_entries() == std::vector<std::string>{"keep"});
}

// --- ms_flags_to_attr ---------------------------------------------------------

TEST_CASE("ms_flags_to_attr maps the per-mount flags") {
  mount_attr a{};
  berth::runtime::ms_flags_to_attr(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | MS_NOSYMFOLLOW, 0, &a);
  CHECK(a.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                       MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  CHECK(a.attr_clr == 0);
}

TEST_CASE("ms_flags_to_attr turns cleared flags into attributes to clear") {
  mount_attr a{};
  berth::runtime::ms_flags_to_attr(MS_NOSUID, MS_RDONLY | MS_NOEXEC, &a);
  CHECK(a.attr_set == MOUNT_ATTR_NOSUID);
  CHECK(a.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC));
}

TEST_CASE("ms_flags_to_attr sets the access-time policy as one field") {
  mount_attr noatime{};
  berth::runtime::ms_flags_to_attr(MS_NOATIME, 0, &noatime);
  CHECK(noatime.attr_set == MOUNT_ATTR_NOATIME);
  CHECK(noatime.attr_clr == MOUNT_ATTR__ATIME);
  mount_attr strict{};
  berth::runtime::ms_flags_to_attr(MS_STRICTATIME, 0, &strict);
  CHECK(strict.attr_set == MOUNT_ATTR_STRICTATIME);
  CHECK(strict.attr_clr == MOUNT_ATTR__ATIME);
  mount_attr relatime{};
  berth::runtime::ms_flags_to_attr(MS_RELATIME | MS_RDONLY, 0, &relatime);
  CHECK(relatime.attr_set == (MOUNT_ATTR_RELATIME | MOUNT_ATTR_RDONLY));
  CHECK(relatime.attr_clr == MOUNT_ATTR__ATIME);
}

TEST_CASE("ms_flags_to_attr ignores flags that are not per-mount attributes") {
  mount_attr a{};
  berth::runtime::ms_flags_to_attr(MS_BIND | MS_REC | MS_PRIVATE | MS_SYNCHRONOUS, MS_SILENT, &a);
  CHECK(a.attr_set == 0);
  CHECK(a.attr_clr == 0);
}

TEST_CASE("ms_flags_to_attr adds to what the attribute already holds") {
  mount_attr a{};
  a.attr_set = MOUNT_ATTR_NODEV;
  berth::runtime::ms_flags_to_attr(MS_RDONLY, 0, &a);
  CHECK(a.attr_set == (MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY));
}
