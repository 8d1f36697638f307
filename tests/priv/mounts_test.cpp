// Mounts of real containers, read back from /proc/self/mountinfo inside them
// and checked by using them (writes that must fail, files that must show).
#include <doctest/doctest.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {

struct MountEntry {
  std::string root, point, options, optional, fstype, source, super;
};

// One line of mountinfo: id parent dev root point options [optional...] - fstype source super.
std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::vector<std::string> f;
    std::string w;
    while (in >> w) f.push_back(w);
    if (f.size() < 10) continue;
    MountEntry e;
    e.root = f[3];
    e.point = f[4];
    e.options = f[5];
    size_t i = 6;
    for (; i < f.size() && f[i] != "-"; ++i) e.optional += (e.optional.empty() ? "" : " ") + f[i];
    if (i + 2 >= f.size()) continue;  // no "- fstype source"
    e.fstype = f[i + 1];
    e.source = f[i + 2];
    e.super = i + 3 < f.size() ? f[i + 3] : "";
    out.push_back(e);
  }
  return out;
}

// The topmost mount on `point`, or nullptr.
const MountEntry* find_mount(const std::vector<MountEntry>& mounts, const std::string& point) {
  const MountEntry* found = nullptr;
  for (const auto& m : mounts)
    if (m.point == point) found = &m;
  return found;
}

bool has_option(const std::string& list, const std::string& opt) {
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ','))
    if (item == opt) return true;
  return false;
}

// Container scripts print mountinfo, then this marker, then their own lines.
constexpr const char* kMarker = "=== end of mountinfo ===\n";
std::string with_mountinfo(const std::string& script) {
  return "cat /proc/self/mountinfo; echo '=== end of mountinfo ==='; " + script;
}

struct Output {
  std::vector<MountEntry> mounts;
  std::string rest;
};

Output split_output(const std::string& out) {
  Output o;
  auto pos = out.find(kMarker);
  if (pos == std::string::npos) {
    o.rest = out;
    return o;
  }
  o.mounts = parse_mountinfo(out.substr(0, pos));
  o.rest = out.substr(pos + std::string(kMarker).size());
  return o;
}


json bind_mount(const std::string& source, const std::string& dest, const std::vector<std::string>& options) {
  return {{"destination", dest}, {"type", "bind"}, {"source", source}, {"options", options}};
}

// A host directory tree made of two tmpfs mounts, src and src/sub, for the
// rbind and propagation tests. Unmounted when the test ends.
class HostTree {
 public:
  explicit HostTree(bool shared) : dir_("berth-hosttree") {
    src_ = dir_ / "src";
    REQUIRE(berth::mkdir_all(src_, 0755));
    REQUIRE_MESSAGE(::mount("tmpfs", src_.c_str(), "tmpfs", 0, "size=1m,mode=755") == 0, "mount tmpfs on ", src_);
    mounted_ = true;
    REQUIRE(::mkdir((src_ + "/sub").c_str(), 0755) == 0);
    REQUIRE(::mount("tmpfs", (src_ + "/sub").c_str(), "tmpfs", 0, "size=1m,mode=755") == 0);
    REQUIRE(berth::write_file(src_ + "/top.txt", "top\n", true));
    REQUIRE(berth::write_file(src_ + "/sub/inner.txt", "inner\n", true));
    // Private by default (the host's / is private); a shared tree gives the
    // container's copy a peer group to be a slave of.
    if (shared) REQUIRE(::mount(nullptr, src_.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) == 0);
  }
  ~HostTree() {
    if (mounted_) {
      ::umount2((src_ + "/sub").c_str(), MNT_DETACH);
      ::umount2(src_.c_str(), MNT_DETACH);
    }
  }
  HostTree(const HostTree&) = delete;
  HostTree& operator=(const HostTree&) = delete;
  const std::string& src() const { return src_; }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::string src_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("a tmpfs mount gets its flags and size") {
  Bundle b;
  b.config["mounts"].push_back({{"destination", "/mnt/tmp"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"nosuid", "nodev", "noexec", "size=1m", "mode=700"}}});
  // noexec is also checked by using it.
  b.sh(with_mountinfo("printf '#!/bin/sh\\necho ran\\n' > /mnt/tmp/s && chmod 755 /mnt/tmp/s && /mnt/tmp/s; echo exec=$?"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto o = split_output(r.out);
  auto* m = find_mount(o.mounts, "/mnt/tmp");
  REQUIRE_MESSAGE(m != nullptr, r.out);
  CHECK(m->fstype == "tmpfs");
  CHECK(has_option(m->options, "rw"));
  CHECK(has_option(m->options, "nosuid"));
  CHECK(has_option(m->options, "nodev"));
  CHECK(has_option(m->options, "noexec"));
  CHECK(has_option(m->super, "size=1024k"));
  CHECK(has_option(m->super, "mode=700"));
  CHECK(contains(o.rest, "exec=126"));
  CHECK_FALSE(contains(o.rest, "ran"));
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("a bind mount of a host directory honours ro and nodev") {
  TempDir host("berth-bindsrc");
  REQUIRE(berth::write_file(host / "data.txt", "from the host\n", true));
  Bundle b;
  b.config["mounts"].push_back(bind_mount(host.path(), "/mnt/host", {"bind", "ro", "nodev"}));
  b.sh(with_mountinfo("cat /mnt/host/data.txt; touch /mnt/host/new 2>&1; echo touch=$?"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto o = split_output(r.out);
  auto* m = find_mount(o.mounts, "/mnt/host");
  REQUIRE_MESSAGE(m != nullptr, r.out);
  CHECK(has_option(m->options, "ro"));
  CHECK(has_option(m->options, "nodev"));
  CHECK_FALSE(has_option(m->options, "noexec"));
  CHECK(contains(o.rest, "from the host\n"));
  CHECK(contains(o.rest, "Read-only file system"));
  CHECK(contains(o.rest, "touch=1"));
  CHECK(count_entries(host.path()) == 1);
  CHECK(count_mounts(b.path()) == 0);
  CHECK(count_mounts(host.path()) == 0);
}

TEST_CASE("an rbind mount carries the submounts of its source, a bind does not") {
  std::string tree_path;
  {
    HostTree tree(false);
    tree_path = tree.path();
    Bundle b;
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/tree", {"rbind"}));
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/flat", {"bind"}));
    b.sh(with_mountinfo("cat /mnt/tree/sub/inner.txt; echo written > /mnt/tree/sub/from-container; echo write=$?; "
                        "ls /mnt/flat/sub | wc -l"));
    auto r = b.run_container();
    INFO("output: ", r.out, "\nstderr: ", r.err);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto o = split_output(r.out);
    auto* sub = find_mount(o.mounts, "/mnt/tree/sub");
    REQUIRE_MESSAGE(sub != nullptr, r.out);
    CHECK(sub->fstype == "tmpfs");
    CHECK(find_mount(o.mounts, "/mnt/flat") != nullptr);
    CHECK(find_mount(o.mounts, "/mnt/flat/sub") == nullptr);
    CHECK(contains(o.rest, "inner\nwrite=0\n0\n"));
    // The submount is the host's tmpfs itself, not a copy.
    CHECK(berth::read_file(tree.src() + "/sub/from-container").ok());
    CHECK(count_mounts(b.path()) == 0);
  }
  CHECK(count_mounts(tree_path) == 0);
}

TEST_CASE("mount propagation options show in the optional fields") {
  std::string tree_path;
  {
    HostTree tree(true);
    tree_path = tree.path();
    Bundle b;
    // Without an option the copy follows the rootfs (rslave by default):
    // a slave of the host's peer group.
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/default", {"bind"}));
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/private", {"bind", "rprivate"}));
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/shared", {"bind", "shared"}));
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/unbindable", {"bind", "unbindable"}));
    b.sh(with_mountinfo("true"));
    auto r = b.run_container();
    INFO("output: ", r.out, "\nstderr: ", r.err);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto o = split_output(r.out);
    auto* def = find_mount(o.mounts, "/mnt/default");
    auto* priv = find_mount(o.mounts, "/mnt/private");
    auto* shared = find_mount(o.mounts, "/mnt/shared");
    auto* unbindable = find_mount(o.mounts, "/mnt/unbindable");
    REQUIRE_MESSAGE((def && priv && shared && unbindable), r.out);
    CHECK(contains(def->optional, "master:"));
    CHECK_FALSE(contains(def->optional, "shared:"));
    CHECK(priv->optional == "");
    CHECK(contains(shared->optional, "shared:"));
    CHECK(contains(unbindable->optional, "unbindable"));
    CHECK(count_mounts(b.path()) == 0);
  }
  CHECK(count_mounts(tree_path) == 0);
}

TEST_CASE("rro makes the submounts of an rbind read-only too") {
  std::string tree_path;
  {
    HostTree tree(false);
    tree_path = tree.path();
    Bundle b;
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/rro", {"rbind", "rro"}));
    b.config["mounts"].push_back(bind_mount(tree.src(), "/mnt/rw", {"rbind"}));
    b.sh(with_mountinfo("touch /mnt/rro/sub/x 2>&1; echo sub=$?; touch /mnt/rro/x 2>&1; echo top=$?; "
                        "touch /mnt/rw/sub/y; echo rw=$?"));
    auto r = b.run_container();
    INFO("output: ", r.out, "\nstderr: ", r.err);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto o = split_output(r.out);
    auto* top = find_mount(o.mounts, "/mnt/rro");
    auto* sub = find_mount(o.mounts, "/mnt/rro/sub");
    auto* rw_sub = find_mount(o.mounts, "/mnt/rw/sub");
    REQUIRE_MESSAGE((top && sub && rw_sub), r.out);
    CHECK(has_option(top->options, "ro"));
    CHECK(has_option(sub->options, "ro"));
    CHECK(has_option(rw_sub->options, "rw"));
    CHECK(contains(o.rest, "Read-only file system"));
    CHECK(contains(o.rest, "sub=1"));
    CHECK(contains(o.rest, "top=1"));
    CHECK(contains(o.rest, "rw=0"));
    CHECK_FALSE(berth::path_exists(tree.src() + "/sub/x"));
    CHECK(berth::path_exists(tree.src() + "/sub/y"));
    CHECK(count_mounts(b.path()) == 0);
  }
  CHECK(count_mounts(tree_path) == 0);
}

TEST_CASE("root.readonly makes the root filesystem read-only") {
  Bundle b;
  b.config["root"]["readonly"] = true;
  b.sh(with_mountinfo("touch /x 2>&1; echo root=$?; touch /dev/shm/ok; echo shm=$?"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto o = split_output(r.out);
  auto* root = find_mount(o.mounts, "/");
  REQUIRE_MESSAGE(root != nullptr, r.out);
  CHECK(has_option(root->options, "ro"));
  CHECK(contains(o.rest, "touch: /x: Read-only file system"));
  CHECK(contains(o.rest, "root=1"));
  // Mounts on top of the root keep their own flags.
  CHECK(contains(o.rest, "shm=0"));
  CHECK_FALSE(berth::path_exists(b.rootfs() + "/x"));
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("maskedPaths hide files and directories") {
  Bundle b;
  REQUIRE(berth::write_file(b.rootfs() + "/etc/secret", "secret content\n", true));
  REQUIRE(berth::mkdir_all(b.rootfs() + "/secretdir", 0755));
  REQUIRE(berth::write_file(b.rootfs() + "/secretdir/inner", "inner secret\n", true));
  b.config["linux"]["maskedPaths"].push_back("/etc/secret");
  b.config["linux"]["maskedPaths"].push_back("/secretdir");
  b.config["linux"]["maskedPaths"].push_back("/does/not/exist");
  b.sh(with_mountinfo("echo \"file=[$(cat /etc/secret)]\"; echo \"dir=[$(ls -A /secretdir)]\"; "
                      "touch /secretdir/new 2>&1; echo touch=$?; echo \"keys=[$(cat /proc/keys)]\"; "
                      "echo \"firmware=[$(ls -A /sys/firmware)]\"; stat -c 'type=%F %t,%T' /etc/secret"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto o = split_output(r.out);
  CHECK(contains(o.rest, "file=[]\n"));
  CHECK(contains(o.rest, "dir=[]\n"));
  CHECK(contains(o.rest, "Read-only file system"));
  CHECK(contains(o.rest, "touch=1"));
  // Default masked paths: a /proc file and a /sys directory.
  CHECK(contains(o.rest, "keys=[]\n"));
  CHECK(contains(o.rest, "firmware=[]\n"));
  // A masked file is /dev/null bound over it.
  CHECK(contains(o.rest, "type=character special file 1,3"));
  auto* dir = find_mount(o.mounts, "/secretdir");
  REQUIRE_MESSAGE(dir != nullptr, r.out);
  CHECK(dir->fstype == "tmpfs");
  CHECK(has_option(dir->options, "ro"));
  // The image itself is untouched.
  CHECK(berth::read_file(b.rootfs() + "/etc/secret").ok());
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("readonlyPaths make /proc/sys read-only") {
  // ip_default_ttl of the container's own network namespace: root may write
  // it without any capability (ip_forward would need CAP_NET_ADMIN).
  const char* script =
      "echo 33 > /proc/sys/net/ipv4/ip_default_ttl; echo write=$?; echo value=$(cat /proc/sys/net/ipv4/ip_default_ttl)";
  Bundle b;
  b.sh(script);
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out + r.err, "Read-only file system"));
  CHECK(contains(r.out, "write=1"));
  CHECK(contains(r.out, "value=64"));

  // Without /proc/sys in readonlyPaths the same write works (the container
  // has its own network namespace), so the failure above is readonlyPaths'.
  Bundle control("c2");
  auto& ro = control.config["linux"]["readonlyPaths"];
  for (size_t i = 0; i < ro.size(); ++i)
    if (ro[i] == "/proc/sys") ro.erase(i);
  control.sh(script);
  auto rc = control.run_container();
  INFO("output: ", rc.out, "\nstderr: ", rc.err);
  REQUIRE_MESSAGE(rc.status == 0, rc.err);
  CHECK(contains(rc.out, "write=0"));
  CHECK(contains(rc.out, "value=33"));
}

TEST_CASE("a relative bind source is resolved against the bundle") {
  Bundle b;
  REQUIRE(berth::mkdir_all(b.path() + "/data", 0755));
  REQUIRE(berth::write_file(b.path() + "/data/hello.txt", "relative source\n", true));
  b.config["mounts"].push_back(bind_mount("data", "/mnt/data", {"bind"}));
  b.config["mounts"].push_back(bind_mount("./data/../data", "/mnt/data2", {"rbind", "ro"}));
  b.sh("cat /mnt/data/hello.txt /mnt/data2/hello.txt");
  // The runtime runs from the test's cwd, not the bundle: only resolving
  // against the bundle finds the source.
  char cwd[4096] = {};
  REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
  REQUIRE(std::string(cwd) != b.path());
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "relative source\nrelative source\n");
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("a single file can be bind mounted") {
  TempDir host("berth-filesrc");
  REQUIRE(berth::write_file(host / "one.conf", "just one file\n", true));
  Bundle b;
  // /etc/one.conf does not exist in the image: it is created as a file.
  b.config["mounts"].push_back(bind_mount(host / "one.conf", "/etc/one.conf", {"bind", "ro"}));
  b.sh(with_mountinfo("cat /etc/one.conf; stat -c 'type=%F' /etc/one.conf; echo more >> /etc/one.conf; echo append=$?"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto o = split_output(r.out);
  auto* m = find_mount(o.mounts, "/etc/one.conf");
  REQUIRE_MESSAGE(m != nullptr, r.out);
  CHECK(has_option(m->options, "ro"));
  CHECK(contains(o.rest, "just one file\ntype=regular file\n"));
  CHECK(contains(o.rest, "append=1"));
  CHECK(berth::read_file(host / "one.conf").value() == "just one file\n");
  CHECK(count_mounts(b.path()) == 0);
  CHECK(count_mounts(host.path()) == 0);
}

TEST_CASE("the cgroup mount is the container's own cgroup2 hierarchy") {
  Bundle b;
  b.sh(with_mountinfo("cat /proc/self/cgroup; echo ino=$(stat -c %i /sys/fs/cgroup); "
                      "echo children=$(find /sys/fs/cgroup -mindepth 1 -type d | wc -l)"));
  // --keep leaves the cgroup in place, so its inode can be compared.
  auto r = b.run_container({"--keep"});
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  std::string cgroup_dir = cgroup_mount() + b.config["linux"]["cgroupsPath"].get<std::string>();
  struct stat st{};
  bool have_dir = ::stat(cgroup_dir.c_str(), &st) == 0;
  auto del = b.runtime({"delete", b.id()});
  CHECK_MESSAGE(del.status == 0, del.err);
  REQUIRE_MESSAGE(have_dir, cgroup_dir);

  auto o = split_output(r.out);
  auto* m = find_mount(o.mounts, "/sys/fs/cgroup");
  REQUIRE_MESSAGE(m != nullptr, r.out);
  CHECK(m->fstype == "cgroup2");
  CHECK(m->root == "/");
  CHECK(has_option(m->options, "ro"));
  // The cgroup namespace puts the container at its root...
  CHECK(contains(o.rest, "0::/\n"));
  // ...and the mounted root is the very directory of the container cgroup.
  CHECK(contains(o.rest, "ino=" + std::to_string(st.st_ino) + "\n"));
  CHECK(contains(o.rest, "children=0\n"));
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("--no-pivot runs the container in its rootfs") {
  Bundle b;
  REQUIRE(berth::write_file(b.rootfs() + "/etc/marker", "in the rootfs\n", true));
  // The image has no /usr, the host has: seeing it would mean the host root.
  b.sh("cat /etc/marker; test -e /usr && echo host-visible; ls /; echo pid=$$");
  auto r = b.run_container({"--no-pivot"});
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "in the rootfs\n"));
  CHECK_FALSE(contains(r.out, "host-visible"));
  CHECK(contains(r.out, "pid=1\n"));
  CHECK(count_mounts(b.path()) == 0);
}

TEST_CASE("tmpcopyup keeps the image's files in the tmpfs") {
  Bundle b;
  std::string img = b.rootfs() + "/opt/image";
  REQUIRE(berth::mkdir_all(img + "/subdir", 0750));
  // Readable by others: the container's root has no CAP_DAC_OVERRIDE.
  REQUIRE(berth::write_file(img + "/file.txt", "from the image\n", true, 0604));
  REQUIRE(berth::write_file(img + "/subdir/nested.txt", "nested\n", true));
  REQUIRE(::chown((img + "/file.txt").c_str(), 1000, 1000) == 0);
  REQUIRE(::symlink("file.txt", (img + "/link").c_str()) == 0);
  b.config["mounts"].push_back({{"destination", "/opt/image"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"tmpcopyup", "mode=755"}}});
  b.sh(with_mountinfo("cat /opt/image/file.txt /opt/image/subdir/nested.txt; echo link=$(readlink /opt/image/link); "
                      "stat -c 'owner=%u:%g mode=%a' /opt/image/file.txt; echo new > /opt/image/new; echo write=$?"));
  auto r = b.run_container();
  INFO("output: ", r.out, "\nstderr: ", r.err);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto o = split_output(r.out);
  auto* m = find_mount(o.mounts, "/opt/image");
  REQUIRE_MESSAGE(m != nullptr, r.out);
  CHECK(m->fstype == "tmpfs");
  CHECK(contains(o.rest, "from the image\nnested\nlink=file.txt\n"));
  CHECK(contains(o.rest, "owner=1000:1000 mode=604\n"));
  CHECK(contains(o.rest, "write=0"));
  // The write went to the tmpfs, not to the image.
  CHECK_FALSE(berth::path_exists(img + "/new"));
  CHECK(count_mounts(b.path()) == 0);
}
