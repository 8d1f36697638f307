// Pulling images with the Distribution API v2 (HTTP/HTTPS through libcurl).
//
// The /v2/ probe decides the authentication: none, or a bearer token from
// the realm in WWW-Authenticate (anonymous, or with basic credentials from
// ~/.docker/config.json "auths"). Manifests and indexes of both the OCI and
// the Docker media types are accepted; from an index the manifest for the
// requested platform is chosen. Blobs go into the content store through
// BlobWriter, so a dropped connection or a digest mismatch leaves nothing
// half-written visible. Plain HTTP is used for loopback registries and for
// those named insecure, as docker does.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/media.hpp"
#include "image/reference.hpp"
#include "image/store.hpp"

namespace berth::image {

/// One layer's (or config's) progress, reported from the pulling threads
/// (serialised: the callback is never called concurrently).
struct PullProgress {
  enum class Phase { Waiting, Downloading, Verifying, Done, Exists };
  Digest digest;
  std::string media_type;
  Phase phase = Phase::Waiting;
  int64_t done = 0;   // bytes
  int64_t total = 0;  // bytes, from the descriptor
};

struct PullOptions {
  Platform platform = host_platform();
  /// Registries ("host:port") reached over plain HTTP besides loopback ones.
  std::vector<std::string> insecure_registries;
  /// Path of a docker config.json with "auths"; empty: $DOCKER_CONFIG/config.json
  /// or ~/.docker/config.json.
  std::string docker_config;
  /// Blobs fetched at once (2 to 4 is what registries are happy with).
  int parallel = 3;
  std::function<void(const PullProgress&)> progress;
};

struct PullResult {
  /// What the reference names (an index or a manifest), as stored in the
  /// image index under ref.str().
  Descriptor target;
  /// The manifest chosen for the platform.
  Descriptor manifest;
};

/// Pulls `ref` into `store` and records it in `index` under ref.str().
///
/// A manifest fetched by tag is stored under the digest of its bytes; one
/// fetched by digest must hash to it. Blobs already in the store are not
/// fetched (Phase::Exists). The manifest and index are stored only after
/// every blob they name, and the index record last, so on failure the image
/// index is unchanged; blobs that were verified before the failure stay, so
/// a retry resumes. Errors start with "pull <ref>" and name the blob, host or
/// registry message: "pull 127.0.0.1:5000/app:v1: manifest unknown".
Result<PullResult> pull(const Reference& ref, const ContentStore& store, const ImageIndex& index,
                        const PullOptions& options = {});

}  // namespace berth::image
