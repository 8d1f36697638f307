// SHA-256 (FIPS 180-4), streaming. Small and dependency-free: berth-runtime
// uses it for cache keys on its start-up path, where loading a crypto
// library would cost more than hashing a few kilobytes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth {

class Sha256 {
 public:
  Sha256();
  /// Adds bytes to the message.
  void update(std::string_view data);
  /// Finishes and returns the 32-byte digest; the object is spent after this.
  std::array<uint8_t, 32> digest();
  /// Finishes and returns the digest as 64 lower-case hex digits.
  std::string hex_digest();

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

/// The hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace berth
