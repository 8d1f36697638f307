#include "image/reference.hpp"

#include <cctype>

namespace berth::image {

namespace {

constexpr std::string_view kDockerHub = "docker.io";

bool is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: lower-case alphanumerics, separated by one ".", one
// "_", two "_" or any number of "-".
bool valid_component(std::string_view c) {
  if (c.empty() || !is_alnum_lower(c.front()) || !is_alnum_lower(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (is_alnum_lower(ch) || ch == '-') continue;
    if (ch == '.' || ch == '_') {
      // "." and "_" stand alone, except for "__".
      bool pair = ch == '_' && i + 1 < c.size() && c[i + 1] == '_';
      if (pair) ++i;
      if (i + 1 < c.size() && !is_alnum_lower(c[i + 1])) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

bool valid_domain(std::string_view d) {
  if (d.empty()) return false;
  for (char c : d)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']')
      return false;
  return true;
}

bool has_upper(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

}  // namespace

std::string Reference::name() const { return domain + "/" + repository; }

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::familiar() const {
  std::string s;
  if (domain == kDockerHub) {
    s = repository.starts_with("library/") ? repository.substr(8) : repository;
  } else {
    s = name();
  }
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::registry_host() const {
  return domain == kDockerHub ? std::string("registry-1.docker.io") : domain;
}

std::string Reference::manifest_ref() const { return digest ? digest->str() : tag; }

Result<Reference> parse_reference(std::string_view text) {
  auto bad = [&](std::string_view why) { return make_error("invalid reference \"", text, "\": ", why); };
  if (text.empty()) return bad("empty");
  if (text.size() > 1024) return bad("too long");
  Reference ref;
  std::string_view rest = text;

  if (auto at = rest.find('@'); at != std::string_view::npos) {
    auto d = Digest::parse(rest.substr(at + 1));
    if (!d) return bad(d.error().message());
    ref.digest = std::move(*d);
    rest = rest.substr(0, at);
  }
  // A tag is the part after the last ':' that follows the last '/'
  // ("host:5000/app" has a port, not a tag).
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    if (!valid_tag(ref.tag)) return bad(cat("invalid tag \"", ref.tag, "\""));
    rest = rest.substr(0, colon);
  }

  auto first_slash = rest.find('/');
  std::string_view first = rest.substr(0, first_slash);
  bool has_domain = first_slash != std::string_view::npos &&
                    (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
                     first == "localhost" || has_upper(first));
  std::string_view path = rest;
  if (has_domain) {
    if (!valid_domain(first)) return bad(cat("invalid registry \"", first, "\""));
    ref.domain = first;
    path = rest.substr(first_slash + 1);
  } else {
    ref.domain = kDockerHub;
  }
  if (ref.domain == "index.docker.io") ref.domain = kDockerHub;
  if (path.empty()) return bad("missing repository");
  if (has_upper(path)) return bad("repository name must be lowercase");
  size_t start = 0;
  while (true) {
    auto end = path.find('/', start);
    if (!valid_component(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)))
      return bad(cat("invalid repository name \"", path, "\""));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = path;
  if (ref.domain == kDockerHub && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (ref.name().size() > 255) return bad("repository name longer than 255 characters");
  if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
  return ref;
}

bool is_loopback_registry(std::string_view host) {
  std::string_view h = host;
  if (h.starts_with('[')) {  // [::1]:5000
    auto close = h.find(']');
    h = close == std::string_view::npos ? h : h.substr(1, close - 1);
  } else if (auto colon = h.rfind(':'); colon != std::string_view::npos && h.find(':') == colon) {
    h = h.substr(0, colon);
  }
  return h == "localhost" || h == "::1" || h.starts_with("127.");
}

}  // namespace berth::image
