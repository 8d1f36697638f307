// Importing images from files: an OCI image layout directory, an oci-archive
// (a tar of such a directory) and a docker-archive (what `docker save`
// writes). From a multi-platform index only the requested platform's blobs
// are copied; the index itself is kept, so the image keeps its digest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "image/media.hpp"
#include "image/store.hpp"

namespace berth::image {

struct ImportOptions {
  Platform platform = host_platform();
  /// A reference ("busybox", "app:v1") naming the image when the layout does
  /// not, or a tag-only ref.name annotation ("latest") needs a repository.
  std::string name;
};

/// Imports the images that the layout's index.json lists; returns the
/// records stored in `index`.
Result<std::vector<ImageRecord>> import_oci_layout(const std::string& dir, const ContentStore& store,
                                                   const ImageIndex& index, const ImportOptions& options = {});

/// Imports an oci-archive or docker-archive tar (possibly compressed),
/// detected from its contents.
Result<std::vector<ImageRecord>> import_archive(const std::string& tar_path, const ContentStore& store,
                                                const ImageIndex& index, const ImportOptions& options = {});

/// Imports the layout at `layout_dir` (the built-in image) unless an image
/// named `name` already exists; returns whether it imported.
Result<bool> import_if_missing(const std::string& layout_dir, const std::string& name, const ContentStore& store,
                               const ImageIndex& index);

}  // namespace berth::image
