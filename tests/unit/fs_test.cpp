// Path and file helpers (common/fs.hpp) and confined path resolution
// (common/path_safety.hpp). The path_safety cases build a root that holds
// hostile symlinks next to an "outside" directory and check that nothing
// ever lands outside of the root.
#include "common/fs.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/path_safety.hpp"
#include "test_support.hpp"

namespace {

using berth::test::TempDir;

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  REQUIRE_MESSAGE(::realpath(p.c_str(), buf) != nullptr, "realpath ", p);
  return buf;
}

// Where an fd points, as the kernel sees it.
std::string fd_target(int fd) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(berth::fd_path(fd).c_str(), buf, sizeof buf - 1);
  REQUIRE(n > 0);
  buf[n] = '\0';
  return buf;
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular(const std::string& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void write_text(const std::string& path, const std::string& text) {
  auto st = berth::write_file(path, text, true, 0644);
  REQUIRE_MESSAGE(st.ok(), st.error().message());
}

std::string read_text(const std::string& path) {
  auto r = berth::read_file(path);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return *r;
}

void make_symlink(const std::string& target, const std::string& link) {
  REQUIRE_MESSAGE(::symlink(target.c_str(), link.c_str()) == 0, "symlink ", link);
}

// A recursive listing (path -> type and content) used to prove that a
// directory did not change at all.
void snapshot_into(const std::string& dir, const std::string& rel, std::map<std::string, std::string>& out) {
  auto fd = berth::open_file(dir, O_RDONLY | O_DIRECTORY);
  REQUIRE(fd.ok());
  DIR* d = ::fdopendir(fd->release());
  REQUIRE(d != nullptr);
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    std::string full = dir + "/" + name;
    std::string key = rel + "/" + name;
    struct stat st{};
    REQUIRE(::lstat(full.c_str(), &st) == 0);
    if (S_ISDIR(st.st_mode)) {
      out[key] = "dir";
      snapshot_into(full, key, out);
    } else if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n = ::readlink(full.c_str(), buf, sizeof buf - 1);
      buf[n > 0 ? n : 0] = '\0';
      out[key] = std::string("link:") + buf;
    } else {
      out[key] = "file:" + read_text(full);
    }
  }
  ::closedir(d);
}

std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  snapshot_into(dir, "", out);
  return out;
}

int count_entries_in(const std::string& dir) { return berth::test::count_entries(dir); }

// The hostile layout shared by the path_safety cases:
//   <base>/outside/            a directory the root must never touch
//   <base>/outside/secret      content that must stay as it is
//   <base>/root/               the confined root
//   root/etc/                  where "/etc" resolves inside the root
//   root/abs     -> /etc                       absolute, to a host directory
//   root/up      -> ../../..                   relative, climbing above the root
//   root/sibling -> ../outside                 relative, to the outside directory
//   root/out     -> <base>/outside             absolute, to the outside directory
//   root/loop1   -> loop2, root/loop2 -> loop1 a symlink loop
//   root/self    -> self                       a self loop
//   root/secret  -> <base>/outside/secret      a file outside
struct HostileTree {
  TempDir base{"berth-fs"};
  std::string root;
  std::string outside;
  berth::UniqueFd rootfd;

  HostileTree() {
    std::string b = real_path(base.path());
    root = b + "/root";
    outside = b + "/outside";
    REQUIRE(::mkdir(root.c_str(), 0755) == 0);
    REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/etc").c_str(), 0755) == 0);
    write_text(outside + "/secret", "host secret");
    make_symlink("/etc", root + "/abs");
    make_symlink("../../..", root + "/up");
    make_symlink("../outside", root + "/sibling");
    make_symlink(outside, root + "/out");
    make_symlink("loop2", root + "/loop1");
    make_symlink("loop1", root + "/loop2");
    make_symlink("self", root + "/self");
    make_symlink(outside + "/secret", root + "/secret");
    auto fd = berth::open_file(root, O_PATH | O_DIRECTORY);
    REQUIRE(fd.ok());
    rootfd = std::move(*fd);
  }

  // The in-root mirror of the outside directory's absolute path, which is
  // where symlinks naming that path must resolve.
  std::string mirror() const { return root + outside; }
  void make_mirror() const {
    auto st = berth::mkdir_all(mirror(), 0755);
    REQUIRE(st.ok());
  }
};

// A unique name under the host's /etc that must never be created; removed
// if a broken implementation did create it (only possible as root).
struct HostEtcGuard {
  std::string name = "berth-fs-test-" + std::to_string(::getpid());
  std::string host_path() const { return "/etc/" + name; }
  ~HostEtcGuard() {
    if (berth::path_exists(host_path())) (void)berth::remove_all(host_path());
  }
};

}  // namespace

// --- clean_path, path_join, absolute_path --------------------------------

TEST_CASE("clean_path: empty and trivial inputs") {
  CHECK(berth::clean_path("") == ".");
  CHECK(berth::clean_path(".") == ".");
  CHECK(berth::clean_path("/") == "/");
  CHECK(berth::clean_path("//") == "/");
  CHECK(berth::clean_path("x") == "x");
  CHECK(berth::clean_path("/x/y") == "/x/y");
}

TEST_CASE("clean_path: repeated and trailing slashes collapse") {
  CHECK(berth::clean_path("a//b") == "a/b");
  CHECK(berth::clean_path("a/b/") == "a/b");
  CHECK(berth::clean_path("///srv//data///") == "/srv/data");
}

TEST_CASE("clean_path: single dots are dropped") {
  CHECK(berth::clean_path("./a/./b/.") == "a/b");
  CHECK(berth::clean_path("/./mnt/.") == "/mnt");
}

TEST_CASE("clean_path: double dots remove the previous element") {
  CHECK(berth::clean_path("a//b/../c/") == "a/c");
  CHECK(berth::clean_path("/usr/lib/../bin") == "/usr/bin");
  CHECK(berth::clean_path("a/b/../..") == ".");
  CHECK(berth::clean_path("a/../b/../c/d/..") == "c");
}

TEST_CASE("clean_path: double dots cannot climb above the root of a rooted path") {
  CHECK(berth::clean_path("/..") == "/");
  CHECK(berth::clean_path("/../../etc") == "/etc");
  CHECK(berth::clean_path("/a/../../b") == "/b");
}

TEST_CASE("clean_path: leading double dots of a relative path are kept") {
  CHECK(berth::clean_path("..") == "..");
  CHECK(berth::clean_path("../../x") == "../../x");
  CHECK(berth::clean_path("a/../../x") == "../x");
  CHECK(berth::clean_path("a/b/../../../c/../..") == "../..");
}

TEST_CASE("path_join puts exactly one slash between the parts") {
  CHECK(berth::path_join("/a", "b") == "/a/b");
  CHECK(berth::path_join("/a/", "b") == "/a/b");
  CHECK(berth::path_join("/a//", "//b/c") == "/a/b/c");
  CHECK(berth::path_join("/", "etc") == "/etc");
  CHECK(berth::path_join("rel", "x") == "rel/x");
}

TEST_CASE("absolute_path resolves relative paths against the working directory") {
  char cwd[PATH_MAX];
  REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
  auto r = berth::absolute_path("x/./y/../z");
  REQUIRE(r.ok());
  CHECK(*r == berth::clean_path(std::string(cwd) + "/x/z"));
  auto a = berth::absolute_path("/a//b/../c");
  REQUIRE(a.ok());
  CHECK(*a == "/a/c");
}

// --- mkdir_all ----------------------------------------------------------

TEST_CASE("mkdir_all creates missing parents and reports them outermost first") {
  TempDir t;
  std::vector<std::string> created;
  auto st = berth::mkdir_all(t / "a/b/c", 0755, &created);
  REQUIRE_MESSAGE(st.ok(), st.error().message());
  CHECK(created == std::vector<std::string>{t / "a", t / "a/b", t / "a/b/c"});
  CHECK(is_dir(t / "a/b/c"));
}

TEST_CASE("mkdir_all reports only the directories it made") {
  TempDir t;
  REQUIRE(::mkdir((t / "a").c_str(), 0755) == 0);
  REQUIRE(::mkdir((t / "a/b").c_str(), 0755) == 0);
  std::vector<std::string> created;
  REQUIRE(berth::mkdir_all(t / "a/b/d/e/", 0755, &created).ok());
  CHECK(created == std::vector<std::string>{t / "a/b/d", t / "a/b/d/e"});
}

TEST_CASE("mkdir_all on an existing directory succeeds and creates nothing") {
  TempDir t;
  std::vector<std::string> created;
  REQUIRE(berth::mkdir_all(t.path(), 0755, &created).ok());
  CHECK(created.empty());
}

TEST_CASE("mkdir_all applies the requested mode") {
  TempDir t;
  REQUIRE(berth::mkdir_all(t / "private/inner", 0700).ok());
  struct stat st{};
  REQUIRE(::stat((t / "private/inner").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("mkdir_all fails with ENOTDIR when a file is in the way") {
  TempDir t;
  write_text(t / "file", "x");
  std::vector<std::string> created;
  auto st = berth::mkdir_all(t / "file/sub", 0755, &created);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ENOTDIR);
  CHECK(st.error().message().find(t / "file") != std::string::npos);
  CHECK(created.empty());
}

TEST_CASE("mkdir_all fails with ENOTDIR when the target itself is a file") {
  TempDir t;
  write_text(t / "file", "x");
  auto st = berth::mkdir_all(t / "file", 0755);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ENOTDIR);
}

// --- write_file_atomic --------------------------------------------------

TEST_CASE("write_file_atomic creates the file with content and mode") {
  TempDir t;
  auto dir = berth::open_file(t.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dir.ok());
  auto st = berth::write_file_atomic(dir->get(), "state.json", "{\"a\":1}", 0600);
  REQUIRE_MESSAGE(st.ok(), st.error().message());
  CHECK(read_text(t / "state.json") == "{\"a\":1}");
  struct stat sb{};
  REQUIRE(::stat((t / "state.json").c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);
}

TEST_CASE("write_file_atomic replaces the file instead of rewriting it in place") {
  TempDir t;
  write_text(t / "f", "old content");
  // A reader that opened the old file keeps seeing the old content: the new
  // content arrives by rename, never by truncating the inode being read.
  auto reader = berth::open_file(t / "f", O_RDONLY);
  REQUIRE(reader.ok());
  auto dir = berth::open_file(t.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dir.ok());
  REQUIRE(berth::write_file_atomic(dir->get(), "f", "new").ok());
  CHECK(read_text(t / "f") == "new");
  auto old = berth::read_fd(reader->get());
  REQUIRE(old.ok());
  CHECK(*old == "old content");
}

TEST_CASE("write_file_atomic leaves no temporary files behind") {
  TempDir t;
  auto dir = berth::open_file(t.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dir.ok());
  for (int i = 0; i < 3; ++i) REQUIRE(berth::write_file_atomic(dir->get(), "f", std::to_string(i)).ok());
  CHECK(count_entries_in(t.path()) == 1);
  CHECK(read_text(t / "f") == "2");
}

TEST_CASE("write_file_atomic replaces a symlink rather than writing through it") {
  TempDir t;
  TempDir other;
  write_text(other / "target", "untouched");
  make_symlink(other / "target", t / "f");
  auto dir = berth::open_file(t.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dir.ok());
  REQUIRE(berth::write_file_atomic(dir->get(), "f", "new").ok());
  CHECK(is_regular(t / "f"));
  CHECK(read_text(t / "f") == "new");
  CHECK(read_text(other / "target") == "untouched");
}

TEST_CASE("write_file_atomic cleans up its temporary file when the rename fails") {
  TempDir t;
  REQUIRE(::mkdir((t / "busy").c_str(), 0755) == 0);
  write_text(t / "busy/inner", "x");  // a non-empty directory cannot be replaced by a file
  auto dir = berth::open_file(t.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dir.ok());
  auto st = berth::write_file_atomic(dir->get(), "busy", "data");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() != 0);
  CHECK(count_entries_in(t.path()) == 1);
  CHECK(is_dir(t / "busy"));
}

// --- remove_all ---------------------------------------------------------

TEST_CASE("remove_all removes a nested tree") {
  TempDir t;
  REQUIRE(berth::mkdir_all(t / "tree/a/b", 0755).ok());
  write_text(t / "tree/a/b/f", "x");
  write_text(t / "tree/g", "y");
  auto st = berth::remove_all(t / "tree");
  REQUIRE_MESSAGE(st.ok(), st.error().message());
  CHECK_FALSE(berth::path_exists(t / "tree"));
}

TEST_CASE("remove_all of a missing path succeeds") {
  TempDir t;
  CHECK(berth::remove_all(t / "does-not-exist").ok());
}

TEST_CASE("remove_all removes a single file") {
  TempDir t;
  write_text(t / "f", "x");
  REQUIRE(berth::remove_all(t / "f").ok());
  CHECK_FALSE(berth::path_exists(t / "f"));
}

TEST_CASE("remove_all does not follow symlinks inside the tree") {
  TempDir t;
  TempDir other;
  REQUIRE(::mkdir((other / "dir").c_str(), 0755) == 0);
  write_text(other / "dir/keep", "keep");
  write_text(other / "file", "keep too");
  REQUIRE(berth::mkdir_all(t / "tree/sub", 0755).ok());
  make_symlink(other / "dir", t / "tree/sub/to-dir");
  make_symlink(other / "file", t / "tree/to-file");
  make_symlink("../../..", t / "tree/sub/up");
  auto before = snapshot(other.path());
  REQUIRE(berth::remove_all(t / "tree").ok());
  CHECK_FALSE(berth::path_exists(t / "tree"));
  CHECK(snapshot(other.path()) == before);
  CHECK(read_text(other / "dir/keep") == "keep");
}

TEST_CASE("remove_all of a symlink to a directory removes only the link") {
  TempDir t;
  TempDir other;
  write_text(other / "keep", "x");
  make_symlink(other.path(), t / "link");
  REQUIRE(berth::remove_all(t / "link").ok());
  CHECK_FALSE(berth::path_exists(t / "link"));
  CHECK(read_text(other / "keep") == "x");
}

// --- path_safety --------------------------------------------------------

TEST_CASE("fd_path names the fd so that it resolves to the opened file") {
  TempDir t;
  auto fd = berth::open_file(t.path(), O_PATH | O_DIRECTORY);
  REQUIRE(fd.ok());
  CHECK(berth::fd_path(fd->get()) == "/proc/self/fd/" + std::to_string(fd->get()));
  CHECK(fd_target(fd->get()) == real_path(t.path()));
}

TEST_CASE("open_in_root opens plain paths beneath the root") {
  HostileTree h;
  write_text(h.root + "/etc/hostname", "inside");
  auto fd = berth::open_in_root(h.rootfd.get(), "/etc/hostname", O_RDONLY);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(*berth::read_fd(fd->get()) == "inside");
  auto self = berth::open_in_root(h.rootfd.get(), "/", O_PATH | O_DIRECTORY);
  REQUIRE(self.ok());
  CHECK(fd_target(self->get()) == h.root);
}

TEST_CASE("open_in_root resolves an absolute symlink to /etc inside the root") {
  HostileTree h;
  write_text(h.root + "/etc/hostname", "inside");
  auto fd = berth::open_in_root(h.rootfd.get(), "abs/hostname", O_RDONLY);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/etc/hostname");
  CHECK(*berth::read_fd(fd->get()) == "inside");
}

TEST_CASE("open_in_root keeps a relative symlink climbing with ../../.. at the root") {
  HostileTree h;
  auto fd = berth::open_in_root(h.rootfd.get(), "up", O_PATH | O_DIRECTORY);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root);
  auto etc = berth::open_in_root(h.rootfd.get(), "up/up/etc", O_PATH | O_DIRECTORY);
  REQUIRE(etc.ok());
  CHECK(fd_target(etc->get()) == h.root + "/etc");
}

TEST_CASE("open_in_root keeps leading .. of the requested path at the root") {
  HostileTree h;
  auto fd = berth::open_in_root(h.rootfd.get(), "../../../etc", O_PATH | O_DIRECTORY);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/etc");
  // ../outside from the root is root/outside, which does not exist.
  auto out = berth::open_in_root(h.rootfd.get(), "../outside/secret", O_RDONLY);
  CHECK_FALSE(out.ok());
}

TEST_CASE("open_in_root never opens a file outside through a symlink") {
  HostileTree h;
  auto before = snapshot(h.outside);
  for (const char* p : {"secret", "out/secret", "sibling/secret", "up/outside/secret"}) {
    CAPTURE(p);
    auto fd = berth::open_in_root(h.rootfd.get(), p, O_RDONLY);
    if (fd.ok()) CHECK(fd_target(fd->get()).rfind(h.root + "/", 0) == 0);
    CHECK_FALSE(fd.ok());  // nothing of that name exists inside the root
  }
  CHECK(snapshot(h.outside) == before);
}

TEST_CASE("open_in_root with O_CREAT through symlinks creates inside the root only") {
  HostileTree h;
  h.make_mirror();
  auto before = snapshot(h.outside);
  // A final-component symlink to a host file: O_TRUNC must not reach it.
  auto f1 = berth::open_in_root(h.rootfd.get(), "secret", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE_MESSAGE(f1.ok(), f1.error().message());
  CHECK(fd_target(f1->get()) == h.mirror() + "/secret");
  REQUIRE(berth::write_all(f1->get(), "written", "f1").ok());
  // A directory symlink to the outside directory.
  auto f2 = berth::open_in_root(h.rootfd.get(), "out/new-file", O_WRONLY | O_CREAT, 0644);
  REQUIRE_MESSAGE(f2.ok(), f2.error().message());
  CHECK(fd_target(f2->get()) == h.mirror() + "/new-file");
  CHECK(snapshot(h.outside) == before);
  CHECK(read_text(h.outside + "/secret") == "host secret");
  CHECK(read_text(h.mirror() + "/secret") == "written");
}

TEST_CASE("open_in_root fails with ELOOP on symlink loops") {
  HostileTree h;
  for (const char* p : {"loop1", "loop2/x", "self"}) {
    CAPTURE(p);
    auto fd = berth::open_in_root(h.rootfd.get(), p, O_PATH);
    REQUIRE_FALSE(fd.ok());
    CHECK(fd.error().code() == ELOOP);
  }
}

TEST_CASE("mkdir_all_in_root creates plain nested directories and returns the last one") {
  HostileTree h;
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "/a/b/c", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(is_dir(h.root + "/a/b/c"));
  CHECK(fd_target(fd->get()) == h.root + "/a/b/c");
}

TEST_CASE("mkdir_all_in_root through an absolute /etc symlink creates under root/etc") {
  HostileTree h;
  HostEtcGuard guard;
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "abs/" + guard.name + "/sub", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/etc/" + guard.name + "/sub");
  CHECK(is_dir(h.root + "/etc/" + guard.name + "/sub"));
  CHECK_FALSE(berth::path_exists(guard.host_path()));
}

TEST_CASE("mkdir_all_in_root through a ../../.. symlink stays at the root") {
  HostileTree h;
  auto before = snapshot(h.outside);
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "up/outside/x", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/outside/x");
  CHECK(is_dir(h.root + "/outside/x"));
  CHECK(snapshot(h.outside) == before);
  CHECK_FALSE(berth::path_exists(h.outside + "/x"));
}

TEST_CASE("mkdir_all_in_root through a ../outside symlink stays in the root") {
  HostileTree h;
  REQUIRE(::mkdir((h.root + "/outside").c_str(), 0755) == 0);
  auto before = snapshot(h.outside);
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "sibling/x/y", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/outside/x/y");
  CHECK(snapshot(h.outside) == before);
}

TEST_CASE("mkdir_all_in_root through an absolute symlink to an outside directory lands in the root") {
  HostileTree h;
  h.make_mirror();
  auto before = snapshot(h.outside);
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "/out/x/y", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.mirror() + "/x/y");
  CHECK(is_dir(h.mirror() + "/x/y"));
  CHECK(snapshot(h.outside) == before);
}

TEST_CASE("mkdir_all_in_root creates a dangling symlink's target inside the root, as runc does") {
  HostileTree h;  // no mirror: root/out names a directory missing from the root
  auto before = snapshot(h.outside);
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "out/x", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.mirror() + "/x");
  CHECK(is_dir(h.mirror() + "/x"));
  CHECK(snapshot(h.outside) == before);
  CHECK_FALSE(berth::path_exists(h.outside + "/x"));
}

TEST_CASE("mkdir_all_in_root follows a dangling relative symlink with .. without leaving the root") {
  HostileTree h;
  make_symlink("../../../../made/by/link", h.root + "/rel");
  auto before = snapshot(h.outside);
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "rel/deeper", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/made/by/link/deeper");
  CHECK(snapshot(h.outside) == before);
}

TEST_CASE("mkdir_all_in_root keeps .. in the requested path at the root") {
  HostileTree h;
  auto before = snapshot(h.outside);
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "../../outside/../outside/made", 0755);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/outside/made");
  CHECK(snapshot(h.outside) == before);
}

TEST_CASE("mkdir_all_in_root fails on a symlink loop") {
  HostileTree h;
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "loop1/x", 0755);
  REQUIRE_FALSE(fd.ok());
  CHECK(fd.error().code() == ELOOP);
  CHECK(count_entries_in(h.root) == 9);  // the tree as built, nothing added
}

TEST_CASE("mkdir_all_in_root fails when a file is in the way") {
  HostileTree h;
  write_text(h.root + "/etc/file", "x");
  auto fd = berth::mkdir_all_in_root(h.rootfd.get(), "/etc/file/sub", 0755);
  REQUIRE_FALSE(fd.ok());
  CHECK(fd.error().code() == ENOTDIR);
}

TEST_CASE("ensure_in_root creates an empty file and its parents") {
  HostileTree h;
  auto fd = berth::ensure_in_root(h.rootfd.get(), "/etc/new/resolv.conf", false, 0644);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/etc/new/resolv.conf");
  CHECK(is_regular(h.root + "/etc/new/resolv.conf"));
  CHECK(read_text(h.root + "/etc/new/resolv.conf").empty());
}

TEST_CASE("ensure_in_root creates a directory when asked for one") {
  HostileTree h;
  auto fd = berth::ensure_in_root(h.rootfd.get(), "/mnt/data", true, 0755);
  REQUIRE(fd.ok());
  CHECK(is_dir(h.root + "/mnt/data"));
}

TEST_CASE("ensure_in_root accepts an existing entry of another type as is") {
  HostileTree h;
  auto fd = berth::ensure_in_root(h.rootfd.get(), "/etc", false, 0644);
  REQUIRE_MESSAGE(fd.ok(), fd.error().message());
  CHECK(fd_target(fd->get()) == h.root + "/etc");
  CHECK(is_dir(h.root + "/etc"));
}

TEST_CASE("ensure_in_root keeps files made through hostile symlinks inside the root") {
  HostileTree h;
  HostEtcGuard guard;
  h.make_mirror();
  auto before = snapshot(h.outside);
  auto a = berth::ensure_in_root(h.rootfd.get(), "abs/" + guard.name, false, 0644);
  REQUIRE_MESSAGE(a.ok(), a.error().message());
  CHECK(fd_target(a->get()) == h.root + "/etc/" + guard.name);
  CHECK_FALSE(berth::path_exists(guard.host_path()));
  auto b = berth::ensure_in_root(h.rootfd.get(), "up/up/made/file", false, 0644);
  REQUIRE_MESSAGE(b.ok(), b.error().message());
  CHECK(fd_target(b->get()) == h.root + "/made/file");
  auto c = berth::ensure_in_root(h.rootfd.get(), "out/file", false, 0644);
  REQUIRE_MESSAGE(c.ok(), c.error().message());
  CHECK(fd_target(c->get()) == h.mirror() + "/file");
  CHECK(snapshot(h.outside) == before);
}

TEST_CASE("ensure_in_root on a final symlink to an outside file does not create or touch it") {
  HostileTree h;
  make_symlink(h.outside + "/created-by-escape", h.root + "/dangling");
  auto before = snapshot(h.outside);
  auto fd = berth::ensure_in_root(h.rootfd.get(), "/dangling", false, 0644);
  if (fd.ok()) CHECK(fd_target(fd->get()).rfind(h.root + "/", 0) == 0);
  CHECK(snapshot(h.outside) == before);
  CHECK_FALSE(berth::path_exists(h.outside + "/created-by-escape"));
}

TEST_CASE("ensure_in_root fails on a symlink loop") {
  HostileTree h;
  auto fd = berth::ensure_in_root(h.rootfd.get(), "self/file", false, 0644);
  REQUIRE_FALSE(fd.ok());
  CHECK(fd.error().code() == ELOOP);
}

TEST_CASE("ensure_in_root refuses the root itself as a file") {
  HostileTree h;
  auto fd = berth::ensure_in_root(h.rootfd.get(), "/", false, 0644);
  REQUIRE_FALSE(fd.ok());
  CHECK(fd.error().message() == "cannot use / as a file");
}
