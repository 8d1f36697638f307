// Layer unpacking: a layer blob (tar, gzip or zstd, detected from its bytes)
// written into a directory as an overlayfs lower layer.
//
// Every write goes through a directory fd, with each path resolved beneath
// the layer root (openat2 RESOLVE_IN_ROOT): an entry named "../x", a write
// through a symlink the layer made, a hardlink to a file outside the layer,
// a whiteout of ".." are all refused with an error naming the entry, or (for
// symlinks met in a parent path) resolved as if the layer root were "/", so
// the write lands inside. Nothing outside the target directory is touched.
//
// Names are normalised as docker does: a leading "/" or "./" and repeated
// slashes are dropped ("/etc/x" and "./etc/x" are both "etc/x"). A ".."
// component is refused even where it would stay inside ("a/../b"): no tool
// writes one, and lexical cleaning would disagree with the filesystem once
// "a" is a symlink.
//
// Whiteouts become overlayfs's form: ".wh.NAME" a 0/0 character device NAME
// (owned as the whiteout entry), ".wh..wh..opq" the xattr
// trusted.overlay.opaque="y" on its directory. Other ".wh..wh." names are
// aufs bookkeeping and are skipped. A layer may not carry trusted.overlay.*
// xattrs of its own: they would steer overlayfs lookups.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "image/digest.hpp"

namespace berth::image {

struct UnpackLimits {
  /// Uncompressed bytes a layer may expand to (a gzip bomb stops here).
  uint64_t max_bytes = uint64_t{64} << 30;
  /// Entries a layer may hold.
  uint64_t max_entries = 4'000'000;
};

struct UnpackResult {
  /// sha256 of the uncompressed tar stream: the layer's diff ID.
  Digest diff_id;
  uint64_t bytes = 0;  // uncompressed
  uint64_t entries = 0;
};

/// Unpacks the layer read from `blob_fd` into the directory `target_dirfd`
/// (an O_DIRECTORY fd of an empty directory), in one pass that also hashes
/// the uncompressed stream for the diff ID. Owners (numeric uid/gid), modes
/// (setuid, setgid and sticky included), mtimes, xattrs and file
/// capabilities are kept; directories get their mode and mtime after their
/// content. An entry replaces an earlier one of the same name, as tar does
/// (a directory over a directory merges).
///
/// Accepts gzip, zstd and uncompressed tar. Needs root (CAP_CHOWN, CAP_MKNOD,
/// CAP_SETFCAP, CAP_SYS_ADMIN for trusted.*) for layers that use those;
/// plain files, directories, links and user.* xattrs owned by the caller
/// unpack without it.
///
/// On error the target holds a partial layer: the caller removes it.
Result<UnpackResult> unpack_layer(int blob_fd, int target_dirfd, const UnpackLimits& limits = {});

/// Normalises a tar entry name (or hardlink target) to a path relative to
/// the layer root: "" is the root itself. Errors on a ".." component.
Result<std::string> normalize_entry_name(std::string_view name);

/// What an entry's base name means to overlayfs.
enum class WhiteoutKind {
  none,     // an ordinary name
  whiteout, // ".wh.NAME": NAME is deleted from the lower layers
  opaque,   // ".wh..wh..opq": the directory hides the lower layers' content
  meta,     // ".wh..wh.*" other than opaque: aufs bookkeeping, skipped
};

struct WhiteoutName {
  WhiteoutKind kind = WhiteoutKind::none;
  std::string target;  // for `whiteout`: the NAME deleted
};

/// Classifies a base name (no "/"). Errors for a whiteout of "", "." or "..".
Result<WhiteoutName> classify_whiteout(std::string_view base);

}  // namespace berth::image
