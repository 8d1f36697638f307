// Snapshots: each layer unpacked once, into its own directory keyed by its
// chain ID, and shared by every image that has the same layers below it.
//
//   <root>/snapshots/<chain-id hex>/fs     the layer, as an overlayfs lower
//   <root>/snapshots/.tmp-*                layers being unpacked
//
// A container's rootfs is an overlay of its image's chain (top layer first)
// with an upper and a work dir of its own.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/digest.hpp"
#include "image/store.hpp"
#include "image/unpack.hpp"

namespace berth::image {

class SnapshotStore {
 public:
  /// Opens (creating if needed) the snapshots under `root`/snapshots and
  /// removes unpacks that a crash interrupted.
  static Result<SnapshotStore> open(const std::string& root);

  /// The directory holding the layer with this chain ID.
  std::string layer_dir(const Digest& chain_id) const;
  bool has(const Digest& chain_id) const;
  /// Unpacks every layer of `img` that is not there yet, verifying each diff
  /// ID against the image config, and returns the chain IDs, bottom first.
  /// `on_layer(i)` is called before layer i is unpacked. (snapshot_prepare.cpp)
  Result<std::vector<Digest>> prepare(const ContentStore& store, const ResolvedImage& img,
                                      const UnpackLimits& limits = {},
                                      const std::function<void(size_t)>& on_layer = {}) const;
  Status remove(const Digest& chain_id) const;
  Result<std::vector<Digest>> list() const;

  /// Entries being unpacked or removed; open() sweeps what a crash left.
  static constexpr std::string_view kTmpPrefix = ".tmp-";

 private:
  explicit SnapshotStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

/// Mounts at `target` an overlay of the layers `chain` (bottom first) with
/// `upper` and `work` (created if missing, on the same filesystem). Uses the
/// fsconfig "lowerdir+" interface, so a long chain never overflows the
/// option string.
Status mount_overlay(const SnapshotStore& snaps, const std::vector<Digest>& chain, const std::string& upper,
                     const std::string& work, const std::string& target);

}  // namespace berth::image
