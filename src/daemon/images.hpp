// The image catalog as the Engine API shows it: images grouped by ID (the
// config digest, as docker shows it) with all the names that point at them,
// and the lookups `docker image inspect|tag|rmi NAME` do (a reference, a full
// ID or a unique ID prefix).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "image/store.hpp"

namespace berth::daemon {

struct CatalogImage {
  image::Digest id;  // the config digest
  std::vector<image::ImageRecord> records;
  image::ResolvedImage resolved;
  /// Compressed layers plus the config, as pulled.
  int64_t size = 0;
};

/// Every named image, grouped by ID, in the index's order.
Result<std::vector<CatalogImage>> catalog(const image::ContentStore& store, const image::ImageIndex& index);

/// What a NAME given to inspect/tag/rmi resolved to.
struct Lookup {
  CatalogImage image;
  /// The record named, when NAME was a reference (not an ID).
  std::optional<image::ImageRecord> by_name;
};

/// Finds NAME: a full ID ("sha256:<hex>" or "<hex>"), a reference, or an ID
/// prefix. nullopt when nothing matches; an error for an ambiguous prefix.
Result<std::optional<Lookup>> find_image(const image::ContentStore& store, const image::ImageIndex& index,
                                         std::string_view name);

/// Seconds since the epoch of an RFC 3339 time ("2024-01-02T03:04:05.123Z"),
/// 0 when it does not parse.
std::time_t parse_rfc3339(std::string_view text);

/// The familiar form of a stored name ("docker.io/library/busybox:latest"
/// -> "busybox:latest"), the name itself when it does not parse.
std::string familiar_name(const std::string& stored);

/// "busybox@sha256:<manifest digest>" for a record, as RepoDigests shows.
std::string repo_digest(const image::ImageRecord& rec);

/// Docker's `reference` filter: `pattern` (a shell glob) matched against
/// the familiar repository and repository:tag.
bool reference_matches(const std::string& stored, const std::string& pattern);

}  // namespace berth::daemon
