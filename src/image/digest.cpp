#include "image/digest.hpp"

#include "common/sha256.hpp"

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

// Digest::of hashes small documents (configs, chain IDs): the built-in
// implementation does, so that reading the store needs no libcrypto.
Digest Digest::of(std::string_view data) { return Digest(sha256_hex(data)); }

}  // namespace berth::image
