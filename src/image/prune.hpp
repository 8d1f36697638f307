// Reference counting over the stores: what the named images reach stays,
// everything else can go.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "common/error.hpp"
#include "image/snapshot.hpp"
#include "image/store.hpp"

namespace berth::image {

struct PruneReport {
  size_t blobs_removed = 0;
  size_t snapshots_removed = 0;
  uint64_t bytes_freed = 0;  // blob bytes
};

/// Removes the blobs no named image reaches and the snapshots that no named
/// image's layer chain (for `platform`) and no entry of `in_use` (chain IDs
/// of containers' rootfs) needs. Takes the image index lock only per read:
/// run it when no pull is in progress.
Result<PruneReport> prune(const ContentStore& store, const ImageIndex& index, const SnapshotStore& snaps,
                          const std::set<Digest>& in_use = {}, const Platform& platform = host_platform());

/// Where the build installs the built-in image's OCI layout.
std::string builtin_image_dir();

}  // namespace berth::image
