#include "daemon/images.hpp"

#include <fnmatch.h>

#include <cstring>

#include "image/reference.hpp"

namespace berth::daemon {

using image::Digest;
using image::ImageRecord;

Result<std::vector<CatalogImage>> catalog(const image::ContentStore& store, const image::ImageIndex& index) {
  auto recs = index.list();
  if (!recs) return std::move(recs).error();
  std::vector<CatalogImage> out;
  for (const ImageRecord& rec : *recs) {
    auto resolved = image::resolve_image(store, rec.target, image::host_platform());
    // An image whose blobs are gone (or for another platform) cannot be
    // shown with an ID; skipping it keeps the listing usable.
    if (!resolved) continue;
    const Digest& id = resolved->manifest.config.digest;
    CatalogImage* found = nullptr;
    for (auto& c : out)
      if (c.id == id) found = &c;
    if (!found) {
      CatalogImage c;
      c.id = id;
      c.size = resolved->manifest.config.size;
      for (const auto& l : resolved->manifest.layers) c.size += l.size;
      c.resolved = std::move(*resolved);
      out.push_back(std::move(c));
      found = &out.back();
    }
    found->records.push_back(rec);
  }
  return out;
}

namespace {

bool is_hex(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<std::optional<Lookup>> find_image(const image::ContentStore& store, const image::ImageIndex& index,
                                         std::string_view name) {
  auto all = catalog(store, index);
  if (!all) return std::move(all).error();
  std::string_view hexpart = name;
  bool explicit_id = false;
  if (hexpart.substr(0, 7) == "sha256:") {
    hexpart.remove_prefix(7);
    explicit_id = true;
  }
  if (is_hex(hexpart) && hexpart.size() == 64) {
    for (auto& c : *all)
      if (c.id.hex() == hexpart) return std::optional<Lookup>(Lookup{c, std::nullopt});
  }
  if (!explicit_id) {
    if (auto ref = image::parse_reference(name); ref) {
      std::string stored = ref->str();
      for (auto& c : *all)
        for (const auto& r : c.records)
          if (r.name == stored) return std::optional<Lookup>(Lookup{c, r});
    }
  }
  if (is_hex(hexpart)) {
    const CatalogImage* match = nullptr;
    for (const auto& c : *all) {
      if (c.id.hex().compare(0, hexpart.size(), hexpart) != 0) continue;
      if (match) return make_error("multiple IDs found with provided prefix: ", hexpart);
      match = &c;
    }
    if (match) return std::optional<Lookup>(Lookup{*match, std::nullopt});
  }
  return std::optional<Lookup>();
}

std::time_t parse_rfc3339(std::string_view text) {
  std::string s(text.substr(0, 19));
  tm t{};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
  if (!end || *end) return 0;
  std::time_t secs = ::timegm(&t);
  // An offset like "+02:00" after the seconds (and any fraction).
  size_t pos = 19;
  while (pos < text.size() && (text[pos] == '.' || (text[pos] >= '0' && text[pos] <= '9'))) ++pos;
  if (pos + 6 <= text.size() && (text[pos] == '+' || text[pos] == '-') && text[pos + 3] == ':') {
    int h = (text[pos + 1] - '0') * 10 + (text[pos + 2] - '0');
    int m = (text[pos + 4] - '0') * 10 + (text[pos + 5] - '0');
    std::time_t off = h * 3600 + m * 60;
    secs += text[pos] == '+' ? -off : off;
  }
  return secs < 0 ? 0 : secs;
}

std::string familiar_name(const std::string& stored) {
  auto ref = image::parse_reference(stored);
  return ref ? ref->familiar() : stored;
}

std::string repo_digest(const ImageRecord& rec) {
  auto ref = image::parse_reference(rec.name);
  if (!ref) return rec.name + "@" + rec.target.digest.str();
  image::Reference bare = *ref;
  bare.tag.clear();
  bare.digest.reset();
  // familiar() of a reference without tag or digest is the bare repository.
  return bare.familiar() + "@" + rec.target.digest.str();
}

bool reference_matches(const std::string& stored, const std::string& pattern) {
  std::string fam = familiar_name(stored);
  // The tag's colon is the last one after the last slash (a registry port
  // has a slash after it).
  size_t colon = fam.rfind(':');
  size_t slash = fam.rfind('/');
  bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  std::string repo = tagged ? fam.substr(0, colon) : fam;
  for (const std::string& candidate : {fam, repo, stored})
    if (::fnmatch(pattern.c_str(), candidate.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace berth::daemon
