#include "image/prune.hpp"

#include "image/reference.hpp"

namespace berth::image {

Result<PruneReport> prune(const ContentStore& store, const ImageIndex& index, const SnapshotStore& snaps,
                          const std::set<Digest>& in_use, const Platform& platform) {
  auto images = index.list();
  if (!images) return std::move(images).error();
  std::set<Digest> blobs, chains = in_use;
  for (const auto& img : *images) {
    auto reach = reachable_blobs(store, img.target);
    if (!reach) return std::move(reach).error().wrap(cat("image ", img.name));
    for (const auto& d : *reach) blobs.insert(d.digest);
    // An image whose blobs for this platform are incomplete has no chain.
    if (auto resolved = resolve_image(store, img.target, platform))
      for (const auto& c : chain_ids(resolved->config.diff_ids)) chains.insert(c);
  }
  PruneReport r;
  auto all = store.list();
  if (!all) return std::move(all).error();
  for (const auto& d : *all) {
    if (blobs.count(d)) continue;
    auto size = store.size(d);
    BERTH_TRY(store.remove(d));
    ++r.blobs_removed;
    r.bytes_freed += size ? static_cast<uint64_t>(*size) : 0;
  }
  auto snap_list = snaps.list();
  if (!snap_list) return std::move(snap_list).error();
  for (const auto& c : *snap_list) {
    if (chains.count(c)) continue;
    BERTH_TRY(snaps.remove(c));
    ++r.snapshots_removed;
  }
  return r;
}

std::string builtin_image_dir() { return BERTH_BUILTIN_IMAGE_DIR; }

}  // namespace berth::image
