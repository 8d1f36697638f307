// Layer unpacking in one pass over the blob. Two libarchive readers are
// chained: the first only decompresses (filters gzip/zstd, format "raw"), the
// second reads tar from the first's output. The bytes handed from one to the
// other are hashed and counted on the way, which gives the diff ID and the
// size limit without a second decompression.
//
// Each entry is written relative to an O_PATH fd of its parent directory,
// resolved with RESOLVE_IN_ROOT; the final component is never followed: an
// existing entry of that name is removed first (tar semantics) and the new
// one created with O_EXCL / mkdirat / mknodat / symlinkat / linkat, which do
// not follow symlinks. Metadata then goes through that same parent fd with
// AT_SYMLINK_NOFOLLOW, or through an fd of the new node itself.
#include "image/unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

#include "common/fs.hpp"
#include "common/path_safety.hpp"

namespace berth::image {

namespace {

constexpr size_t kBlobBuffer = 128 * 1024;
// Deeper trees are not removed when an entry replaces them: each level holds
// an fd, and a layer can nest directories without bound through symlinks.
constexpr int kMaxRemoveDepth = 256;
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueName = ".wh..wh..opq";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";
constexpr const char* kOpaqueXattr = "trusted.overlay.opaque";

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

std::string archive_message(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

// --- The decompressing stage -------------------------------------------

struct BlobSource {
  int fd;
  std::vector<char> buf = std::vector<char>(kBlobBuffer);
  uint64_t total = 0;
  bool failed = false;
};

la_ssize_t read_blob(archive* a, void* data, const void** out) {
  auto* src = static_cast<BlobSource*>(data);
  for (;;) {
    ssize_t n = ::read(src->fd, src->buf.data(), src->buf.size());
    if (n >= 0) {
      *out = src->buf.data();
      src->total += static_cast<uint64_t>(n);
      return n;
    }
    if (errno != EINTR) {
      src->failed = true;
      archive_set_error(a, errno, "read layer blob");
      return -1;
    }
  }
}

// The uncompressed tar stream as the tar reader sees it: every byte passes
// through pull(), which hashes and counts it.
class TarStream {
 public:
  TarStream(archive* raw, uint64_t max_bytes) : raw_(raw), max_bytes_(max_bytes) {}

  // Next block of the stream: its length, 0 at the end, -1 on error.
  la_ssize_t pull(const void** out) {
    for (;;) {
      size_t len = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(raw_, out, &len, &offset);
      if (r == ARCHIVE_EOF) return 0;
      if (r < ARCHIVE_WARN) {
        error_ = make_error("decompressing layer: ", archive_message(raw_));
        return -1;
      }
      if (len == 0) continue;
      if (len > max_bytes_ - bytes_) {
        error_ = Error(EFBIG, cat("layer expands beyond the limit of ", max_bytes_, " bytes"));
        return -1;
      }
      bytes_ += len;
      hasher_.update(*out, len);
      return static_cast<la_ssize_t>(len);
    }
  }

  // Reads what the tar reader left after its end-of-archive blocks: it is
  // part of the diff ID too.
  Status drain() {
    const void* buf = nullptr;
    for (;;) {
      la_ssize_t n = pull(&buf);
      if (n == 0) return {};
      if (n < 0) return *error_;
    }
  }

  // Why the tar reader failed: a stream error if there was one, else its own.
  Error failure(archive* tar) const {
    if (error_) return *error_;
    return make_error(archive_message(tar));
  }

  uint64_t bytes() const { return bytes_; }
  Digest finish() { return hasher_.finish(); }

 private:
  archive* raw_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  Hasher hasher_;
  std::optional<Error> error_;
};

la_ssize_t read_tar(archive* a, void* data, const void** out) {
  la_ssize_t n = static_cast<TarStream*>(data)->pull(out);
  if (n < 0) archive_set_error(a, EIO, "layer stream failed");
  return n;
}

// --- Filesystem helpers, all relative to a directory fd ------------------

std::string proc_child(int dirfd, const std::string& name) { return cat(fd_path(dirfd), "/", name); }

// Removes `name` in `dirfd` and, for a directory, everything below it,
// without following any symlink.
Status remove_at(int dirfd, const std::string& name, bool is_dir, int depth = 0) {
  if (!is_dir) {
    if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT) return sys_error("remove ", name);
    return {};
  }
  if (depth >= kMaxRemoveDepth) return make_error("remove ", name, ": directories nested too deep");
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open ", name);
  UniqueFd dir(fd);
  std::vector<std::pair<std::string, bool>> children;
  {
    int listing = ::dup(dir.get());
    if (listing < 0) return sys_error("dup");
    DIR* d = ::fdopendir(listing);
    if (!d) {
      ::close(listing);
      return sys_error("list ", name);
    }
    while (dirent* de = ::readdir(d)) {
      std::string child = de->d_name;
      if (child == "." || child == "..") continue;
      struct stat st {};
      bool child_dir = ::fstatat(dir.get(), child.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      children.emplace_back(std::move(child), child_dir);
    }
    ::closedir(d);
  }
  for (auto& [child, child_dir] : children)
    BERTH_TRY_CTX(remove_at(dir.get(), child, child_dir, depth + 1), name);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0) return sys_error("remove ", name);
  return {};
}

// Makes room for a new entry `name`: removes whatever is there, except a
// directory when a directory is wanted. Returns true if a directory was kept.
Result<bool> clear_name(int dirfd, const std::string& name, bool want_dir) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return false;
    return sys_error("stat ", name);
  }
  bool is_dir = S_ISDIR(st.st_mode);
  if (is_dir && want_dir) return true;
  BERTH_TRY_CTX(remove_at(dirfd, name, is_dir), "replacing an earlier entry");
  return false;
}

// chmod of a node that is not a symlink, without following one: chmod(2)
// through the magic link of an O_PATH fd reaches exactly that inode.
Status chmod_nofollow(int dirfd, const std::string& name, mode_t mode) {
  int fd = ::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open ", name);
  UniqueFd node(fd);
  struct stat st {};
  if (::fstat(node.get(), &st) < 0) return sys_error("stat ", name);
  if (S_ISLNK(st.st_mode)) return Error(ELOOP, cat("chmod ", name));
  if (::chmod(fd_path(node.get()).c_str(), mode) < 0) return sys_error("chmod ", name);
  return {};
}

// A hardlink to an O_PATH fd. linkat(AT_EMPTY_PATH) needs
// CAP_DAC_READ_SEARCH; without it, link through the fd's magic link.
Status link_fd(int fd, int dirfd, const std::string& name) {
  if (::linkat(fd, "", dirfd, name.c_str(), AT_EMPTY_PATH) == 0) return {};
  if (errno == ENOENT &&
      ::linkat(AT_FDCWD, fd_path(fd).c_str(), dirfd, name.c_str(), AT_SYMLINK_FOLLOW) == 0)
    return {};
  return sys_error("link ", name);
}

std::pair<std::string, std::string> split_parent(const std::string& rel) {
  auto slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

struct Times {
  timespec ts[2]{};  // atime, mtime, as utimensat wants them
  bool set = false;
};

Times entry_times(archive_entry* e) {
  Times t;
  if (!archive_entry_mtime_is_set(e)) return t;
  t.set = true;
  t.ts[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  t.ts[0] = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)} : t.ts[1];
  return t;
}

mode_t entry_perm(archive_entry* e) { return archive_entry_perm(e) & 07777; }

// --- The unpacker --------------------------------------------------------

class Unpacker {
 public:
  Unpacker(int root, archive* tar, TarStream& stream) : root_(root), tar_(tar), stream_(stream) {}

  Status entry(archive_entry* e);
  // Directory modes and mtimes, once nothing more is written below them.
  Status finish();

 private:
  // Dispatch on the entry's type; `rel` is the normalised name, not root.
  Status place(archive_entry* e, const std::string& rel);
  Status root_dir(archive_entry* e);
  Status directory(archive_entry* e, int parent, const std::string& rel, const std::string& name);
  Status regular(archive_entry* e, int parent, const std::string& name);
  Status symlink(archive_entry* e, int parent, const std::string& name);
  Status hardlink(const char* target, int parent, const std::string& name);
  Status special(archive_entry* e, int parent, const std::string& name, mode_t type);
  Status whiteout(archive_entry* e, int parent, const std::string& name);

  // An O_PATH fd of the directory `rel`, made (0755) where missing.
  Result<int> parent_dir(const std::string& rel);
  // Owner, xattrs and (for non-symlinks) mode of `name` in `parent`, then its times.
  Status path_metadata(archive_entry* e, int parent, const std::string& name, bool is_symlink);
  // Each xattr of the entry through `set` (name, value, size) -> setxattr-like result.
  template <class Set>
  Status xattrs(archive_entry* e, Set set);
  Status defer_dir(archive_entry* e, int fd, const std::string& rel);

  struct DirFixup {
    std::string rel;
    dev_t dev;
    ino_t ino;
    mode_t mode;
    Times times;
  };

  int root_;
  archive* tar_;
  TarStream& stream_;
  std::vector<DirFixup> dirs_;
  // The last parent directory resolved: consecutive entries mostly share
  // it. It never goes stale: an entry only removes or creates names inside
  // its own parent, so what a path resolves to can only change through an
  // entry with another parent, and that lookup replaces the cache.
  std::string cached_rel_;
  UniqueFd cached_fd_;
};

Status Unpacker::entry(archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw) return make_error("layer entry without a name");
  std::string shown = raw;
  auto rel = normalize_entry_name(shown);
  if (!rel) return std::move(rel).error().wrap(cat("layer entry ", quote(shown)));
  Status st = rel->empty() ? root_dir(e) : place(e, *rel);
  if (!st) return std::move(st).error().wrap(cat("layer entry ", quote(shown)));
  return {};
}

Status Unpacker::place(archive_entry* e, const std::string& rel) {
  auto [parent_rel, name] = split_parent(rel);
  auto wh = classify_whiteout(name);
  if (!wh) return std::move(wh).error();
  if (wh->kind == WhiteoutKind::meta) return {};
  auto parent = parent_dir(parent_rel);
  if (!parent) return std::move(parent).error();

  switch (wh->kind) {
    case WhiteoutKind::opaque:
      // The parent fd is O_PATH; its magic link reaches the directory itself.
      if (::setxattr(fd_path(*parent).c_str(), kOpaqueXattr, "y", 1, 0) < 0)
        return sys_error("set ", kOpaqueXattr, " on ", parent_rel.empty() ? "/" : parent_rel);
      return {};
    case WhiteoutKind::whiteout:
      return whiteout(e, *parent, wh->target);
    case WhiteoutKind::none:
    case WhiteoutKind::meta:
      break;
  }

  if (const char* target = archive_entry_hardlink(e)) return hardlink(target, *parent, name);
  switch (archive_entry_filetype(e)) {
    case AE_IFREG: return regular(e, *parent, name);
    case AE_IFDIR: return directory(e, *parent, rel, name);
    case AE_IFLNK: return symlink(e, *parent, name);
    case AE_IFCHR: return special(e, *parent, name, S_IFCHR);
    case AE_IFBLK: return special(e, *parent, name, S_IFBLK);
    case AE_IFIFO: return special(e, *parent, name, S_IFIFO);
    default: return make_error("unsupported entry type ", hex(archive_entry_filetype(e)));
  }
}

Result<int> Unpacker::parent_dir(const std::string& rel) {
  if (cached_fd_ && cached_rel_ == rel) return cached_fd_.get();
  cached_fd_.reset();
  auto fd = open_in_root(root_, rel, O_PATH | O_DIRECTORY);
  if (!fd && fd.error().code() == ENOENT) {
    // Create each missing level 0755 whatever the umask, as docker does for
    // directories the layer implies but does not list. A level that is a
    // dangling symlink gets its target made, inside the root.
    std::string prefix;
    for (auto& part : split(rel, '/')) {
      prefix = prefix.empty() ? part : cat(prefix, "/", part);
      auto level = open_in_root(root_, prefix, O_PATH | O_DIRECTORY);
      if (level) continue;
      if (level.error().code() != ENOENT) return std::move(level).error();
      auto made = mkdir_all_in_root(root_, prefix, 0755);
      if (!made) return std::move(made).error();
      if (::chmod(fd_path(made->get()).c_str(), 0755) < 0) return sys_error("chmod ", prefix);
    }
    fd = open_in_root(root_, rel, O_PATH | O_DIRECTORY);
  }
  if (!fd) {
    if (fd.error().code() == ENOTDIR) return Error(ENOTDIR, cat("parent ", quote(rel), " is not a directory"));
    return std::move(fd).error();
  }
  cached_rel_ = rel;
  cached_fd_ = std::move(*fd);
  return cached_fd_.get();
}

template <class Set>
Status Unpacker::xattrs(archive_entry* e, Set set) {
  if (archive_entry_xattr_reset(e) == 0) return {};
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (!name || !*name) return make_error("xattr without a name");
    if (starts_with(name, kOverlayXattrPrefix)) return make_error("xattr ", name, ": reserved for overlayfs");
    if (set(name, value, size) < 0) return sys_error("set xattr ", name);
  }
  return {};
}

Status Unpacker::path_metadata(archive_entry* e, int parent, const std::string& name, bool is_symlink) {
  if (::fchownat(parent, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                 static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0)
    return sys_error("chown ", name);
  if (!is_symlink) BERTH_TRY(chmod_nofollow(parent, name, entry_perm(e)));
  // "/proc/self/fd/<parent>/<name>" with lsetxattr: the parent is reached
  // through its fd, the final component is not followed.
  std::string path = proc_child(parent, name);
  BERTH_TRY(xattrs(e, [&](const char* key, const void* value, size_t size) {
    return ::lsetxattr(path.c_str(), key, value, size, 0);
  }));
  Times t = entry_times(e);
  if (t.set && ::utimensat(parent, name.c_str(), t.ts, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("set times of ", name);
  return {};
}

Status Unpacker::defer_dir(archive_entry* e, int fd, const std::string& rel) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return sys_error("stat ", rel.empty() ? "/" : rel);
  dirs_.push_back({rel, st.st_dev, st.st_ino, entry_perm(e), entry_times(e)});
  return {};
}

Status Unpacker::root_dir(archive_entry* e) {
  if (archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFDIR)
    return make_error("the layer root must be a directory");
  auto fd = open_in_root(root_, "", O_RDONLY | O_DIRECTORY);
  if (!fd) return std::move(fd).error();
  if (::fchown(fd->get(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))) < 0)
    return sys_error("chown /");
  BERTH_TRY(xattrs(e, [&](const char* key, const void* value, size_t size) {
    return ::fsetxattr(fd->get(), key, value, size, 0);
  }));
  return defer_dir(e, fd->get(), "");
}

Status Unpacker::directory(archive_entry* e, int parent, const std::string& rel, const std::string& name) {
  auto kept = clear_name(parent, name, true);
  if (!kept) return std::move(kept).error();
  // Made private (0700) until finish() sets the layer's mode.
  if (!*kept && ::mkdirat(parent, name.c_str(), 0700) < 0) return sys_error("mkdir ", name);
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open ", name);
  UniqueFd dir(fd);
  if (::fchown(dir.get(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))) < 0)
    return sys_error("chown ", name);
  BERTH_TRY(xattrs(e, [&](const char* key, const void* value, size_t size) {
    return ::fsetxattr(dir.get(), key, value, size, 0);
  }));
  return defer_dir(e, dir.get(), rel);
}

Status Unpacker::regular(archive_entry* e, int parent, const std::string& name) {
  auto kept = clear_name(parent, name, false);
  if (!kept) return std::move(kept).error();
  // O_EXCL: never opens what is there, symlink or not.
  int fd = ::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("create ", name);
  UniqueFd file(fd);

  // Blocks come with offsets: a sparse entry leaves holes between them.
  int64_t end = 0;
  for (;;) {
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(tar_, &buf, &len, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return stream_.failure(tar_).wrap("reading content");
    const char* p = static_cast<const char*>(buf);
    while (len > 0) {
      ssize_t n = ::pwrite(file.get(), p, len, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("write ", name);
      }
      p += n;
      len -= static_cast<size_t>(n);
      offset += n;
    }
    end = std::max<int64_t>(end, offset);
  }
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > end &&
      ::ftruncate(file.get(), archive_entry_size(e)) < 0)
    return sys_error("truncate ", name);

  // Order matters: chown clears setuid/setgid and file capabilities, so
  // mode comes after it and xattrs after both.
  if (::fchown(file.get(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))) < 0)
    return sys_error("chown ", name);
  if (::fchmod(file.get(), entry_perm(e)) < 0) return sys_error("chmod ", name);
  BERTH_TRY(xattrs(e, [&](const char* key, const void* value, size_t size) {
    return ::fsetxattr(file.get(), key, value, size, 0);
  }));
  Times t = entry_times(e);
  if (t.set && ::futimens(file.get(), t.ts) < 0) return sys_error("set times of ", name);
  return {};
}

Status Unpacker::symlink(archive_entry* e, int parent, const std::string& name) {
  const char* target = archive_entry_symlink(e);
  if (!target || !*target) return make_error("symlink without a target");
  auto kept = clear_name(parent, name, false);
  if (!kept) return std::move(kept).error();
  // The target is stored as written; whoever follows it later resolves it
  // inside the root (RESOLVE_IN_ROOT or the container's own root).
  if (::symlinkat(target, parent, name.c_str()) < 0) return sys_error("symlink ", name);
  return path_metadata(e, parent, name, true);
}

Status Unpacker::hardlink(const char* target, int parent, const std::string& name) {
  auto rel = normalize_entry_name(target);
  if (!rel) return std::move(rel).error().wrap(cat("hardlink target ", quote(target)));
  if (rel->empty()) return make_error("hardlink to the layer root");
  // Resolved in the root, so only something this layer wrote can be found.
  auto src = open_in_root(root_, *rel, O_PATH | O_NOFOLLOW);
  if (!src) {
    if (src.error().code() == ENOENT || src.error().code() == ENOTDIR)
      return Error(ENOENT, cat("hardlink target ", quote(target), " is not in the layer"));
    return std::move(src).error().wrap(cat("hardlink target ", quote(target)));
  }
  struct stat st {};
  if (::fstat(src->get(), &st) < 0) return sys_error("stat ", *rel);
  if (S_ISDIR(st.st_mode)) return make_error("hardlink target ", quote(target), " is a directory");
  auto kept = clear_name(parent, name, false);
  if (!kept) return std::move(kept).error();
  return link_fd(src->get(), parent, name);
}

Status Unpacker::special(archive_entry* e, int parent, const std::string& name, mode_t type) {
  auto kept = clear_name(parent, name, false);
  if (!kept) return std::move(kept).error();
  dev_t dev = type == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
  if (::mknodat(parent, name.c_str(), type | 0600, dev) < 0) return sys_error("mknod ", name);
  return path_metadata(e, parent, name, false);
}

Status Unpacker::whiteout(archive_entry* e, int parent, const std::string& name) {
  auto kept = clear_name(parent, name, false);
  if (!kept) return std::move(kept).error();
  if (::mknodat(parent, name.c_str(), S_IFCHR, makedev(0, 0)) < 0) return sys_error("mknod whiteout ", name);
  if (::fchownat(parent, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                 static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0)
    return sys_error("chown ", name);
  return {};
}

Status Unpacker::finish() {
  cached_fd_.reset();
  // Latest entry first: it wins when a directory was listed twice, and
  // children (listed after their parent) are done before a parent's mode
  // could shut out an unprivileged caller.
  std::unordered_set<std::string> done;
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    if (!done.insert(it->rel).second) continue;
    std::string shown = it->rel.empty() ? "/" : it->rel;
    auto fd = open_in_root(root_, it->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) {
      int code = fd.error().code();
      // Removed or replaced by a later entry: nothing to fix.
      if (code == ENOENT || code == ENOTDIR || code == ELOOP) continue;
      return std::move(fd).error();
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) < 0) return sys_error("stat ", shown);
    // A later entry may have put another directory at this path.
    if (st.st_dev != it->dev || st.st_ino != it->ino) continue;
    if (::fchmod(fd->get(), it->mode) < 0) return sys_error("chmod ", shown);
    if (it->times.set && ::futimens(fd->get(), it->times.ts) < 0) return sys_error("set times of ", shown);
  }
  return {};
}

Status support(int r, archive* a, const char* what) {
  if (r == ARCHIVE_OK) return {};
  return make_error("libarchive cannot read ", what, " by itself: ", archive_message(a));
}

}  // namespace

Result<std::string> normalize_entry_name(std::string_view name) {
  std::string out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return make_error("path escapes the layer");
    if (!out.empty()) out.push_back('/');
    out.append(part);
  }
  return out;
}

Result<WhiteoutName> classify_whiteout(std::string_view base) {
  if (!starts_with(base, kWhiteoutPrefix)) return WhiteoutName{};
  if (base == kOpaqueName) return WhiteoutName{WhiteoutKind::opaque, ""};
  if (starts_with(base, kWhiteoutMetaPrefix)) return WhiteoutName{WhiteoutKind::meta, ""};
  std::string_view target = base.substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == ".." || target.find('/') != std::string_view::npos)
    return make_error("whiteout of ", quote(target), " is not a name");
  return WhiteoutName{WhiteoutKind::whiteout, std::string(target)};
}

Result<UnpackResult> unpack_layer(int blob_fd, int target_dirfd, const UnpackLimits& limits) {
  ArchivePtr raw(archive_read_new());
  if (!raw) return make_error("libarchive: out of memory");
  // Only filters libarchive implements itself: the others would run an
  // external program on untrusted input.
  BERTH_TRY(support(archive_read_support_filter_gzip(raw.get()), raw.get(), "gzip"));
  BERTH_TRY(support(archive_read_support_filter_zstd(raw.get()), raw.get(), "zstd"));
  BERTH_TRY(support(archive_read_support_format_raw(raw.get()), raw.get(), "raw streams"));
  BlobSource source{blob_fd};
  if (archive_read_open(raw.get(), &source, nullptr, read_blob, nullptr) != ARCHIVE_OK) {
    // An empty blob is an empty layer (Go's tar reader, which docker uses,
    // agrees); libarchive finds no format to bid on it.
    if (source.total == 0 && !source.failed) return UnpackResult{Digest::of(""), 0, 0};
    return make_error("opening layer: ", archive_message(raw.get()));
  }
  archive_entry* stream_entry = nullptr;
  int r = archive_read_next_header(raw.get(), &stream_entry);
  if (r < ARCHIVE_WARN && r != ARCHIVE_EOF) return make_error("decompressing layer: ", archive_message(raw.get()));

  TarStream stream(raw.get(), limits.max_bytes);
  ArchivePtr tar(archive_read_new());
  if (!tar) return make_error("libarchive: out of memory");
  BERTH_TRY(support(archive_read_support_format_tar(tar.get()), tar.get(), "tar"));
  // A layer whose uncompressed stream is empty holds nothing.
  BERTH_TRY(support(archive_read_support_format_empty(tar.get()), tar.get(), "empty archives"));
  // No skip callback: entry data the unpacker does not read must still be
  // pulled through TarStream to be hashed.
  if (archive_read_open(tar.get(), &stream, nullptr, read_tar, nullptr) != ARCHIVE_OK)
    return stream.failure(tar.get()).wrap("reading layer");

  Unpacker unpacker(target_dirfd, tar.get(), stream);
  uint64_t entries = 0;
  for (;;) {
    archive_entry* e = nullptr;
    r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return stream.failure(tar.get()).wrap("reading layer");
    if (++entries > limits.max_entries)
      return make_error("layer has more than the limit of ", limits.max_entries, " entries");
    BERTH_TRY(unpacker.entry(e));
  }
  BERTH_TRY_CTX(stream.drain(), "reading layer");
  BERTH_TRY(unpacker.finish());
  UnpackResult result;
  result.bytes = stream.bytes();
  result.entries = entries;
  result.diff_id = stream.finish();
  return result;
}

}  // namespace berth::image
