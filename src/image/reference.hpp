// Image references, normalised as docker does:
//   busybox                 -> docker.io/library/busybox:latest
//   user/app:1.0            -> docker.io/user/app:1.0
//   127.0.0.1:5000/app      -> 127.0.0.1:5000/app:latest
//   app@sha256:<hex>        -> docker.io/library/app@sha256:<hex>
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "image/digest.hpp"

namespace berth::image {

struct Reference {
  std::string domain;      // "docker.io", "127.0.0.1:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // empty when only a digest was given
  std::optional<Digest> digest;

  /// The normalised name: "docker.io/library/busybox:latest",
  /// "host/repo@sha256:…", or "host/repo:tag@sha256:…".
  std::string str() const;
  /// domain/repository, without tag or digest.
  std::string name() const;
  /// The short form docker prints: "busybox:latest", "127.0.0.1:5000/app:v1".
  std::string familiar() const;
  /// The host to contact: "registry-1.docker.io" for docker.io.
  std::string registry_host() const;
  /// The tag, or the digest when there is no tag: what a manifest is fetched by.
  std::string manifest_ref() const;
};

/// Parses and normalises `text`; a missing tag becomes "latest" unless a
/// digest is given. Errors name the reference and what is wrong with it.
Result<Reference> parse_reference(std::string_view text);

/// True for registries that are reached over plain HTTP without being named
/// insecure: localhost and loopback addresses, as docker does.
bool is_loopback_registry(std::string_view host);

}  // namespace berth::image
