// SnapshotStore::prepare: the half of the snapshot store that unpacks
// layers (libarchive, libcrypto). Apart from snapshot.cpp so that a program
// that only mounts snapshots (berthd) links neither.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "image/snapshot.hpp"

namespace berth::image {

Result<std::vector<Digest>> SnapshotStore::prepare(const ContentStore& store, const ResolvedImage& img,
                                                   const UnpackLimits& limits,
                                                   const std::function<void(size_t)>& on_layer) const {
  auto chain = chain_ids(img.config.diff_ids);
  for (size_t i = 0; i < chain.size(); ++i) {
    if (has(chain[i])) continue;
    if (on_layer) on_layer(i);
    const Descriptor& layer = img.manifest.layers[i];
    std::string tmp = cat(dir_, "/", kTmpPrefix, chain[i].hex().substr(0, 12), "-XXXXXX");
    if (!::mkdtemp(tmp.data())) return sys_error("create a directory in ", dir_);
    auto fail = [&](Error e) {
      (void)remove_all(tmp);
      return e.wrap(cat("unpack layer ", layer.digest.str()));
    };
    if (::mkdir((tmp + "/fs").c_str(), 0755) < 0) return fail(sys_error("mkdir ", tmp, "/fs"));
    auto fs = open_file(tmp + "/fs", O_RDONLY | O_DIRECTORY);
    if (!fs) return fail(std::move(fs).error());
    auto blob = store.open_blob(layer.digest);
    if (!blob) return fail(std::move(blob).error());
    auto res = unpack_layer(blob->get(), fs->get(), limits);
    if (!res) return fail(std::move(res).error());
    if (res->diff_id != img.config.diff_ids[i])
      return fail(make_error("diff ID mismatch: the layer is ", res->diff_id.str(), ", the image config says ",
                             img.config.diff_ids[i].str()));
    std::string dst = cat(dir_, "/", chain[i].hex());
    if (::rename(tmp.c_str(), dst.c_str()) < 0) {
      // Another unpack of the same layer won the race: keep its copy.
      if (errno == EEXIST || errno == ENOTEMPTY) {
        (void)remove_all(tmp);
        continue;
      }
      return fail(sys_error("rename ", tmp, " to ", dst));
    }
  }
  return chain;
}

}  // namespace berth::image
