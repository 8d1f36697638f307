// OCI and Docker image formats: descriptors, manifests, indexes and image
// configs, parsed once into typed structs (media types as the registries and
// `docker save` write them).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "image/digest.hpp"

namespace berth::image {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

bool is_index(std::string_view mt);
bool is_manifest(std::string_view mt);
bool is_layer(std::string_view mt);
/// The value of an Accept header that asks a registry for any of the above.
std::string accept_header();
}  // namespace media

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  bool operator==(const Platform&) const = default;
};

/// The platform berth runs: linux/amd64 on the machines it is built for.
Platform host_platform();

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

/// What an image config says about how to run it (its "config" object).
struct RunConfig {
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  bool has_entrypoint = false;  // present, even if empty
  bool has_cmd = false;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;        // "/data"
  std::map<std::string, std::string> labels;
  std::string stop_signal;
};

struct ImageConfig {
  Platform platform;
  std::string created;
  std::vector<Digest> diff_ids;
  RunConfig config;
};

/// Parses a descriptor object; `where` names it in errors ("manifests[1]").
Result<Descriptor> parse_descriptor(std::string_view json_text, std::string_view where);
Result<Manifest> parse_manifest(std::string_view json_text);
Result<Index> parse_index(std::string_view json_text);
Result<ImageConfig> parse_image_config(std::string_view json_text);

/// The media type a document declares, or, for documents without one (old
/// Docker manifests do carry it; OCI makes it optional), the one its shape
/// implies: "manifests" means an index, "layers" a manifest.
Result<std::string> sniff_media_type(std::string_view json_text);

/// Picks the manifest for `want` from an index: exact os/architecture, then
/// the variant when both name one (amd64 has none; arm64 defaults to v8).
/// The error lists the platforms the index does have.
Result<Descriptor> select_platform(const Index& index, const Platform& want);

/// The chain IDs of a layer stack (OCI image spec): chain[0] = diff_ids[0],
/// chain[n] = sha256(chain[n-1] + " " + diff_ids[n]).
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);

}  // namespace berth::image
