// The text a registry pull reads besides manifests: auth challenges, docker
// config.json credentials, token answers and registry error bodies.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "image/registry_auth.hpp"

namespace {

using berth::image::base64_decode;
using berth::image::find_credentials;
using berth::image::normalize_auth_key;
using berth::image::parse_token_response;
using berth::image::parse_www_authenticate;
using berth::image::registry_error_message;
using berth::image::url_escape;

}  // namespace

TEST_SUITE("image registry auth") {

TEST_CASE("a bearer challenge as Docker Hub sends it") {
  auto chs = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/busybox:pull")");
  REQUIRE(chs.size() == 1);
  CHECK(chs[0].scheme == "bearer");
  CHECK(chs[0].param("realm") == "https://auth.docker.io/token");
  CHECK(chs[0].param("service") == "registry.docker.io");
  CHECK(chs[0].param("scope") == "repository:library/busybox:pull");
  CHECK(chs[0].param("error") == "");
}

TEST_CASE("challenge parsing: case, spaces, escapes, bare values, several challenges") {
  auto chs =
      parse_www_authenticate(R"(BASIC  Realm = "a \"quoted\" realm" , charset=UTF-8, Bearer realm="r",scope="s")");
  REQUIRE(chs.size() == 2);
  CHECK(chs[0].scheme == "basic");
  CHECK(chs[0].param("realm") == R"(a "quoted" realm)");
  CHECK(chs[0].param("charset") == "UTF-8");
  CHECK(chs[1].scheme == "bearer");
  CHECK(chs[1].param("realm") == "r");
  CHECK(chs[1].param("scope") == "s");

  auto bare = parse_www_authenticate("Basic");
  REQUIRE(bare.size() == 1);
  CHECK(bare[0].params.empty());
}

TEST_CASE("challenge parsing stops at malformed input without inventing parameters") {
  CHECK(parse_www_authenticate("").empty());
  CHECK(parse_www_authenticate("   ").empty());
  CHECK(parse_www_authenticate("=oops").empty());
  auto unterminated = parse_www_authenticate(R"(Bearer service="fake", realm="https://x)");
  REQUIRE(unterminated.size() == 1);
  CHECK(unterminated[0].scheme == "bearer");
  CHECK(unterminated[0].param("service") == "fake");
  CHECK(unterminated[0].params.count("realm") == 0);
}

TEST_CASE("auths keys normalise to hosts; Docker Hub's aliases to docker.io") {
  CHECK(normalize_auth_key("https://index.docker.io/v1/") == "docker.io");
  CHECK(normalize_auth_key("index.docker.io") == "docker.io");
  CHECK(normalize_auth_key("registry-1.docker.io") == "docker.io");
  CHECK(normalize_auth_key("https://127.0.0.1:5000") == "127.0.0.1:5000");
  CHECK(normalize_auth_key("http://127.0.0.1:5000/v2/") == "127.0.0.1:5000");
  CHECK(normalize_auth_key("quay.io") == "quay.io");
}

TEST_CASE("credentials from a docker config.json") {
  // "YWxpY2U6czNjcjp0" is base64("alice:s3cr:t"): the password keeps its colon.
  std::string cfg = R"({"auths": {
      "https://index.docker.io/v1/": {"auth": "aHViOmh1YnB3"},
      "https://127.0.0.1:5000": {"auth": "YWxpY2U6czNjcjp0"},
      "quay.io": {"username": "bob", "password": "pw"},
      "helper.example": {}
    }, "credsStore": "desktop"})";

  auto hub = find_credentials(cfg, "docker.io");
  REQUIRE(hub.ok());
  REQUIRE(hub->has_value());
  CHECK((*hub)->username == "hub");
  CHECK((*hub)->password == "hubpw");

  auto local = find_credentials(cfg, "127.0.0.1:5000");
  REQUIRE(local.ok());
  REQUIRE(local->has_value());
  CHECK((*local)->username == "alice");
  CHECK((*local)->password == "s3cr:t");

  auto quay = find_credentials(cfg, "quay.io");
  REQUIRE(quay.ok());
  REQUIRE(quay->has_value());
  CHECK((*quay)->username == "bob");
  CHECK((*quay)->password == "pw");

  auto helper = find_credentials(cfg, "helper.example");
  REQUIRE(helper.ok());
  CHECK_FALSE(helper->has_value());
  auto none = find_credentials(cfg, "127.0.0.1:5001");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto no_auths = find_credentials(R"({"credsStore": "x"})", "docker.io");
  REQUIRE(no_auths.ok());
  CHECK_FALSE(no_auths->has_value());
}

TEST_CASE("an exact auths key wins over one that normalises to the same host") {
  std::string cfg = R"({"auths": {
      "http://127.0.0.1:5000/v1/": {"username": "old", "password": "x"},
      "127.0.0.1:5000": {"username": "new", "password": "y"}}})";
  auto c = find_credentials(cfg, "127.0.0.1:5000");
  REQUIRE(c.ok());
  REQUIRE(c->has_value());
  CHECK((*c)->username == "new");
}

TEST_CASE("malformed docker configs are errors that name the entry") {
  CHECK_FALSE(find_credentials("not json", "docker.io").ok());
  CHECK_FALSE(find_credentials("[]", "docker.io").ok());
  auto bad = find_credentials(R"({"auths": {"quay.io": {"auth": "bm9jb2xvbg=="}}})", "quay.io");  // "nocolon"
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == R"(docker config: auths["quay.io"].auth: not the base64 of user:password)");
  auto junk = find_credentials(R"({"auths": {"quay.io": {"auth": "!!!"}}})", "quay.io");
  REQUIRE_FALSE(junk.ok());
  auto not_object = find_credentials(R"({"auths": {"quay.io": "x"}})", "quay.io");
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.error().message() == R"(docker config: auths["quay.io"]: not an object)");
}

TEST_CASE("the default docker config path follows DOCKER_CONFIG, then HOME") {
  const char* old_dc = std::getenv("DOCKER_CONFIG");
  const char* old_home = std::getenv("HOME");
  std::string saved_dc = old_dc ? old_dc : "";
  std::string saved_home = old_home ? old_home : "";
  ::setenv("DOCKER_CONFIG", "/etc/docker-cfg", 1);
  CHECK(berth::image::default_docker_config_path() == "/etc/docker-cfg/config.json");
  ::unsetenv("DOCKER_CONFIG");
  ::setenv("HOME", "/home/u", 1);
  CHECK(berth::image::default_docker_config_path() == "/home/u/.docker/config.json");
  if (old_dc) ::setenv("DOCKER_CONFIG", saved_dc.c_str(), 1);
  if (old_home)
    ::setenv("HOME", saved_home.c_str(), 1);
  else
    ::unsetenv("HOME");
}

TEST_CASE("token answers: token, then access_token") {
  CHECK(parse_token_response(R"({"token":"abc","expires_in":300})").value() == "abc");
  CHECK(parse_token_response(R"({"access_token":"xyz"})").value() == "xyz");
  CHECK(parse_token_response(R"({"token":"","access_token":"xyz"})").value() == "xyz");
  auto none = parse_token_response(R"({"expires_in":300})");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message() == "token response: no token");
  CHECK_FALSE(parse_token_response("<html>").ok());
}

TEST_CASE("registry error bodies") {
  CHECK(registry_error_message(
            R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]})") ==
        "manifest unknown");
  CHECK(registry_error_message(
            R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"},{"code":"DENIED"}]})") ==
        "authentication required; denied");
  CHECK(registry_error_message("") == "");
  CHECK(registry_error_message("404 page not found") == "");
  CHECK(registry_error_message(R"({"errors":"x"})") == "");
  CHECK(registry_error_message(R"({"errors":[]})") == "");
}

TEST_CASE("base64 decoding") {
  CHECK(base64_decode("YWxpY2U6czNjcmV0").value() == "alice:s3cret");
  CHECK(base64_decode("YQ==").value() == "a");
  CHECK(base64_decode("YQ").value() == "a");
  CHECK(base64_decode("YWI=").value() == "ab");
  CHECK(base64_decode("").value() == "");
  CHECK(base64_decode("+/+/").value() == "\xfb\xff\xbf");
  CHECK_FALSE(base64_decode("Y").has_value());
  CHECK_FALSE(base64_decode("YW=I").has_value());
  CHECK_FALSE(base64_decode("YW\nI").has_value());
  CHECK_FALSE(base64_decode(std::string("Y\0Q=", 4)).has_value());
}

TEST_CASE("url escaping of scopes") {
  CHECK(url_escape("repository:library/busybox:pull") == "repository%3Alibrary%2Fbusybox%3Apull");
  CHECK(url_escape("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(url_escape("a b&c=\xff") == "a%20b%26c%3D%FF");
}

}  // TEST_SUITE
