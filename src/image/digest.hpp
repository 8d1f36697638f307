// Content digests ("sha256:<64 hex>") and streaming hashing with libcrypto
// (Hasher, in hasher.cpp; Digest::of uses the built-in SHA-256).
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace berth::image {

/// A validated content digest. Only sha256 is accepted: it is the only
/// algorithm registries and the OCI image spec require.
class Digest {
 public:
  Digest() = default;
  /// Parses "sha256:<64 lower-case hex digits>".
  static Result<Digest> parse(std::string_view text);
  /// The digest of a hex string already known to be valid (64 hex digits).
  static Digest from_hex(std::string hex) { return Digest(std::move(hex)); }
  /// The sha256 digest of `data`.
  static Digest of(std::string_view data);

  const std::string& hex() const { return hex_; }
  std::string str() const { return "sha256:" + hex_; }
  bool empty() const { return hex_.empty(); }
  bool operator==(const Digest&) const = default;
  auto operator<=>(const Digest&) const = default;

 private:
  explicit Digest(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

/// Streaming SHA-256 over libcrypto (hardware-accelerated where the CPU can).
class Hasher {
 public:
  Hasher();
  void update(const void* data, size_t len);
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Finishes; the hasher is spent after this.
  Digest finish();
  uint64_t bytes() const { return bytes_; }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  uint64_t bytes_ = 0;
};

}  // namespace berth::image
