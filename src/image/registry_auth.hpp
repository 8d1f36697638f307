// The text formats a registry pull has to read besides manifests: auth
// challenges (WWW-Authenticate), token responses, docker's config.json
// "auths", and the registry's JSON error bodies. Pure functions, so they are
// unit-tested without a network.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace berth::image {

/// One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…"`.
struct AuthChallenge {
  std::string scheme;                         // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lower-cased, values unquoted

  /// The value of a parameter, or "" when it is absent.
  std::string param(const std::string& key) const;
};

/// Parses a WWW-Authenticate value (RFC 9110 §11.6.1), which may hold several
/// challenges separated by commas. Malformed parts end the parse: what was
/// read before them is returned.
std::vector<AuthChallenge> parse_www_authenticate(std::string_view header);

/// Username and password, as docker login stores them.
struct Credentials {
  std::string username;
  std::string password;
};

/// Finds the credentials for `domain` ("docker.io", "127.0.0.1:5000") in the
/// text of a docker config.json. Keys of "auths" may be a bare host, a URL
/// ("https://host/v1/"), or, for docker.io, "https://index.docker.io/v1/";
/// an entry has a base64 "auth" of "user:password" or "username" and
/// "password" fields. nullopt when no entry matches; an error when the file
/// or the matching entry is malformed.
Result<std::optional<Credentials>> find_credentials(std::string_view config_json, std::string_view domain);

/// The config.json docker reads: $DOCKER_CONFIG/config.json, else
/// $HOME/.docker/config.json; "" when neither variable is set.
std::string default_docker_config_path();

/// The host part of an "auths" key, as docker compares them: the scheme and
/// any path dropped; Docker Hub's aliases become "docker.io".
std::string normalize_auth_key(std::string_view key);

/// The token in a token server's JSON answer ("token", or the OAuth2
/// "access_token").
Result<std::string> parse_token_response(std::string_view body);

/// The messages of a registry's error body, {"errors":[{"code","message"}]},
/// joined by "; " ("manifest unknown"); "" when the body is not one.
std::string registry_error_message(std::string_view body);

/// Decodes standard base64 (with or without padding); nullopt on bad input.
std::optional<std::string> base64_decode(std::string_view text);

/// "%XX"-escapes everything but RFC 3986's unreserved characters, for query
/// parameters such as a token scope.
std::string url_escape(std::string_view text);

}  // namespace berth::image
