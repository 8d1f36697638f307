#include "image/snapshot.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.hpp"

namespace berth::image {

namespace {


int sys_fsopen(const char* fs, unsigned flags) { return static_cast<int>(::syscall(SYS_fsopen, fs, flags)); }
int sys_fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attrs) {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attrs));
}
int sys_move_mount(int from, const char* from_path, int to, const char* to_path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from, from_path, to, to_path, flags));
}

// The kernel's own message for a failed fsconfig, read from the fs context.
std::string fs_context_log(int fd) {
  std::string out;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    if (n <= 0) break;
    if (!out.empty()) out += "; ";
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

Result<SnapshotStore> SnapshotStore::open(const std::string& root) {
  std::string dir = root + "/snapshots";
  BERTH_TRY_CTX(mkdir_all(dir, 0700), "create the snapshot store");
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d))
      if (std::string_view(e->d_name).starts_with(kTmpPrefix)) stale.push_back(dir + "/" + e->d_name);
    ::closedir(d);
    // Only a crashed unpack leaves these; a concurrent one holds a lock
    // (below) that this open does not take, so keep fresh ones.
    for (const auto& s : stale) {
      struct stat st {};
      if (::stat(s.c_str(), &st) == 0 && st.st_mtime < ::time(nullptr) - 3600) (void)remove_all(s);
    }
  }
  return SnapshotStore(std::move(dir));
}

std::string SnapshotStore::layer_dir(const Digest& chain_id) const { return cat(dir_, "/", chain_id.hex(), "/fs"); }

bool SnapshotStore::has(const Digest& chain_id) const { return path_exists(layer_dir(chain_id)); }

Status SnapshotStore::remove(const Digest& chain_id) const {
  // Renamed away first, so a half-removed layer is never used.
  std::string src = cat(dir_, "/", chain_id.hex());
  std::string tmp = cat(dir_, "/", kTmpPrefix, "rm-", chain_id.hex());
  if (::rename(src.c_str(), tmp.c_str()) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("remove snapshot ", chain_id.str());
  }
  return remove_all(tmp);
}

Result<std::vector<Digest>> SnapshotStore::list() const {
  std::vector<Digest> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return sys_error("list ", dir_);
  while (dirent* e = ::readdir(d))
    if (auto dg = Digest::parse(cat("sha256:", e->d_name))) out.push_back(std::move(*dg));
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status mount_overlay(const SnapshotStore& snaps, const std::vector<Digest>& chain, const std::string& upper,
                     const std::string& work, const std::string& target) {
  auto fail = [&](Error e) { return e.wrap(cat("mount overlay on ", target)); };
  if (auto st = mkdir_all(upper, 0755); !st) return fail(std::move(st).error());
  if (auto st = mkdir_all(work, 0700); !st) return fail(std::move(st).error());
  UniqueFd fs(sys_fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) return fail(sys_error("fsopen overlay"));
  auto set = [&](const char* key, const std::string& value) -> Status {
    if (sys_fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0) {
      Error e = sys_error(key, "=", value);
      std::string log = fs_context_log(fs.get());
      return log.empty() ? e : e.wrap(log);
    }
    return {};
  };
  // An image without layers still needs one lower: its upper starts empty.
  std::string empty_lower = work + "/empty";
  if (chain.empty()) {
    if (auto st = mkdir_all(empty_lower, 0755); !st) return fail(std::move(st).error());
    if (auto st = set("lowerdir+", empty_lower); !st) return fail(std::move(st).error());
  }
  // overlayfs stacks lowerdir+ values top first.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    if (auto st = set("lowerdir+", snaps.layer_dir(*it)); !st) return fail(std::move(st).error());
  if (auto st = set("upperdir", upper); !st) return fail(std::move(st).error());
  if (auto st = set("workdir", work); !st) return fail(std::move(st).error());
  if (sys_fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    Error e = sys_error("create the overlay");
    std::string log = fs_context_log(fs.get());
    return fail(log.empty() ? e : e.wrap(log));
  }
  UniqueFd mnt(sys_fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) return fail(sys_error("fsmount"));
  if (auto st = mkdir_all(target, 0755); !st) return fail(std::move(st).error());
  if (sys_move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return fail(sys_error("move_mount"));
  return {};
}

}  // namespace berth::image
