#include "image/registry_auth.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace berth::image {

using json = nlohmann::json;

namespace {

// RFC 9110 token characters.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A cursor over a WWW-Authenticate value.
class ChallengeReader {
 public:
  explicit ChallengeReader(std::string_view s) : s_(s) {}

  bool at_end() const { return i_ >= s_.size(); }
  size_t pos() const { return i_; }
  void seek(size_t p) { i_ = p; }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  void skip() { ++i_; }

  void skip_spaces() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void skip_separators() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string_view token() {
    size_t b = i_;
    while (!at_end() && is_tchar(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }
  // A quoted-string with backslash escapes; nullopt if it never ends.
  std::optional<std::string> quoted() {
    std::string out;
    ++i_;  // the opening quote
    while (!at_end()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\' && !at_end()) c = s_[i_++];
      out.push_back(c);
    }
    return std::nullopt;
  }
  // A bare value: a token, or token68 (which may end in '=' padding and
  // contain '/'), up to the next separator.
  std::string bare() {
    size_t b = i_;
    while (!at_end() && s_[i_] != ',' && s_[i_] != ' ' && s_[i_] != '\t') ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string AuthChallenge::param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

std::vector<AuthChallenge> parse_www_authenticate(std::string_view header) {
  std::vector<AuthChallenge> out;
  ChallengeReader r(header);
  r.skip_separators();
  while (!r.at_end()) {
    std::string_view scheme = r.token();
    if (scheme.empty()) break;
    AuthChallenge ch{lower(scheme), {}};
    bool malformed = false;
    // Parameters follow until a token that is not followed by '=': that
    // token is the scheme of the next challenge.
    while (true) {
      r.skip_separators();
      if (r.at_end()) break;
      size_t start = r.pos();
      std::string_view name = r.token();
      if (name.empty()) {
        malformed = true;
        break;
      }
      r.skip_spaces();
      if (r.peek() != '=') {
        r.seek(start);
        break;
      }
      r.skip();
      r.skip_spaces();
      std::string value;
      if (r.peek() == '"') {
        auto q = r.quoted();
        if (!q) {
          malformed = true;
          break;
        }
        value = std::move(*q);
      } else {
        value = r.bare();
      }
      ch.params[lower(name)] = std::move(value);
    }
    out.push_back(std::move(ch));
    if (malformed) break;
  }
  return out;
}

std::string normalize_auth_key(std::string_view key) {
  if (starts_with(key, "https://"))
    key.remove_prefix(8);
  else if (starts_with(key, "http://"))
    key.remove_prefix(7);
  if (auto slash = key.find('/'); slash != std::string_view::npos) key = key.substr(0, slash);
  std::string host(key);
  if (host == "index.docker.io" || host == "registry-1.docker.io") return "docker.io";
  return host;
}

Result<std::optional<Credentials>> find_credentials(std::string_view config_json, std::string_view domain) {
  json doc = json::parse(config_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("docker config: not a JSON object");
  auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) return std::optional<Credentials>{};

  // An exact key wins over one that only normalises to the same host.
  std::string want = normalize_auth_key(domain);
  auto entry = auths->find(std::string(domain));
  if (entry == auths->end()) {
    for (auto it = auths->begin(); it != auths->end(); ++it) {
      if (normalize_auth_key(it.key()) == want) {
        entry = it;
        break;
      }
    }
  }
  if (entry == auths->end()) return std::optional<Credentials>{};
  std::string where = cat("docker config: auths[", quote(entry.key()), "]");
  if (!entry->is_object()) return make_error(where, ": not an object");

  auto field = [&](const char* name) -> std::string {
    auto f = entry->find(name);
    return f != entry->end() && f->is_string() ? f->get<std::string>() : std::string();
  };
  if (std::string auth = field("auth"); !auth.empty()) {
    auto decoded = base64_decode(auth);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return make_error(where, ".auth: not the base64 of user:password");
    return std::optional<Credentials>(Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)});
  }
  std::string user = field("username");
  if (!user.empty()) return std::optional<Credentials>(Credentials{user, field("password")});
  // An entry without credentials (one kept by a credential helper).
  return std::optional<Credentials>{};
}

std::string default_docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return cat(dir, "/config.json");
  if (const char* home = std::getenv("HOME"); home && *home) return cat(home, "/.docker/config.json");
  return {};
}

Result<std::string> parse_token_response(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("token response: not a JSON object");
  for (const char* key : {"token", "access_token"}) {
    auto it = doc.find(key);
    if (it != doc.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  return make_error("token response: no token");
}

std::string registry_error_message(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  auto errors = doc.find("errors");
  if (errors == doc.end() || !errors->is_array()) return {};
  std::vector<std::string> parts;
  for (const auto& e : *errors) {
    if (!e.is_object()) continue;
    auto msg = e.find("message");
    auto code = e.find("code");
    if (msg != e.end() && msg->is_string() && !msg->get<std::string>().empty())
      parts.push_back(msg->get<std::string>());
    else if (code != e.end() && code->is_string())
      parts.push_back(lower(code->get<std::string>()));
  }
  return join(parts, "; ");
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = c ? std::char_traits<char>::find(kBase64, 64, c) : nullptr;
    if (!p) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // A single leftover character carries fewer than 8 bits: not base64.
  if (bits >= 6) return std::nullopt;
  return out;
}

std::string url_escape(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace berth::image
