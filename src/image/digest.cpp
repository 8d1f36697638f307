#include "image/digest.hpp"

#include <cstdlib>

namespace berth::image {

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return make_error("digest \"", text, "\": missing algorithm (want sha256:<hex>)");
  std::string_view algo = text.substr(0, colon), hex = text.substr(colon + 1);
  if (algo != "sha256") return make_error("digest \"", text, "\": unsupported algorithm \"", algo, "\"");
  if (hex.size() != 64 || !is_lower_hex(hex))
    return make_error("digest \"", text, "\": want 64 lower-case hex digits");
  return Digest(std::string(hex));
}

Digest Digest::of(std::string_view data) {
  Hasher h;
  h.update(data);
  return h.finish();
}

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
