// The content store and the image index, under the data root:
//
//   <root>/blobs/sha256/<hex>   every blob, named by its digest
//   <root>/ingest/              blobs being written (never visible as blobs)
//   <root>/images.json          image name -> the descriptor it points at
//   <root>/lock                 flock(2) for the image index
//
// A blob becomes visible only once its digest (and size, when known) has been
// verified, by rename(2) from ingest/: a crash mid-write leaves a temporary
// file in ingest/ (swept on open) and never a wrong blob. images.json is
// replaced atomically, so a crash mid-pull leaves the previous index intact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "image/digest.hpp"
#include "image/media.hpp"

namespace berth::image {

/// The store's directories under its root.
inline constexpr const char* kBlobsDir = "/blobs/sha256";
inline constexpr const char* kIngestDir = "/ingest";

/// Writes one blob into ingest/; commit() verifies and publishes it.
/// Destroying an uncommitted writer removes its temporary file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter();

  Status write(const void* data, size_t len);
  Status write(std::string_view data) { return write(data.data(), data.size()); }
  uint64_t written() const { return hasher_.bytes(); }
  /// Checks the digest and size and renames the blob into place. Errors name
  /// the expected and the actual digest.
  Status commit();

 private:
  friend class ContentStore;
  BlobWriter(std::string root, Digest expected, int64_t expected_size, UniqueFd fd, std::string tmp_path);
  std::string root_;
  Digest expected_;
  int64_t expected_size_;
  UniqueFd fd_;
  std::string tmp_path_;
  Hasher hasher_;
};

class ContentStore {
 public:
  /// Opens (creating if needed) the store at `root` and sweeps stale ingests.
  static Result<ContentStore> open(const std::string& root);

  const std::string& root() const { return root_; }
  std::string blob_path(const Digest& d) const;
  bool has(const Digest& d) const;
  /// The size of a stored blob, or an error naming the digest.
  Result<int64_t> size(const Digest& d) const;
  /// Reads a whole blob (manifests, configs: small documents).
  Result<std::string> read(const Digest& d) const;
  Result<UniqueFd> open_blob(const Digest& d) const;
  /// A writer for a blob expected to have digest `d` and, unless negative,
  /// `size` bytes. The writing calls live in blob_writer.cpp.
  Result<BlobWriter> writer(const Digest& d, int64_t size = -1) const;
  /// Stores `data`, verifying it against `expected`.
  Status put(std::string_view data, const Digest& expected) const;
  /// Stores `data` under its own digest and returns it.
  Result<Digest> put(std::string_view data) const;
  Status remove(const Digest& d) const;
  /// Every stored blob.
  Result<std::vector<Digest>> list() const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

/// One named image: "docker.io/library/busybox:latest" -> its manifest or
/// index descriptor.
struct ImageRecord {
  std::string name;
  Descriptor target;
  std::string created;  // RFC 3339, when it was stored under this name
};

/// The image index (images.json). Every call takes the lock, reads the
/// current file and, for changes, replaces it atomically.
class ImageIndex {
 public:
  static Result<ImageIndex> open(const std::string& root);

  Result<std::vector<ImageRecord>> list() const;
  Result<std::optional<ImageRecord>> get(std::string_view name) const;
  /// Adds or replaces the record with this name.
  Status put(const ImageRecord& rec) const;
  /// Removes the name; an error if there is no such image.
  Status remove(std::string_view name) const;

 private:
  explicit ImageIndex(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

/// The descriptors reachable from `top` (an index, a manifest), in the
/// order: the index, the selected manifest, its config, its layers. Only
/// blobs that are present are followed.
Result<std::vector<Descriptor>> reachable_blobs(const ContentStore& store, const Descriptor& top);

/// Resolves an image's top descriptor to the manifest for `platform` and
/// that manifest's config.
struct ResolvedImage {
  Descriptor manifest_desc;
  Manifest manifest;
  ImageConfig config;
};
Result<ResolvedImage> resolve_image(const ContentStore& store, const Descriptor& top, const Platform& platform);

}  // namespace berth::image
