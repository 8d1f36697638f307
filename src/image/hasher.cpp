// Streaming SHA-256 over libcrypto, for blobs and layers (hardware-
// accelerated where the CPU can). Apart from digest.cpp so that only the
// programs that write blobs link libcrypto.
#include <cstdlib>

#include "image/digest.hpp"

namespace berth::image {

Hasher::Hasher() : ctx_(EVP_MD_CTX_new()) {
  // Allocation failure here is not recoverable in any useful way.
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

void Hasher::update(const void* data, size_t len) {
  EVP_DigestUpdate(ctx_.get(), data, len);
  bytes_ += len;
}

Digest Hasher::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    hex[2 * i] = kHex[md[i] >> 4];
    hex[2 * i + 1] = kHex[md[i] & 15];
  }
  return Digest::from_hex(std::move(hex));
}

}  // namespace berth::image
