// Registry pulls against a real docker-registry on 127.0.0.1, fed by skopeo
// with busybox-static images the tests build.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "image/reference.hpp"
#include "image/registry.hpp"
#include "image/store.hpp"
#include "registry.hpp"
#include "test_support.hpp"

namespace {

using berth::image::ContentStore;
using berth::image::Digest;
using berth::image::ImageIndex;
using berth::image::PullOptions;
using berth::image::PullProgress;
using berth::starts_with;
using berth::test::contains;
using berth::test::OciBlob;
using berth::test::OciLayout;
using berth::test::TempDir;
using berth::test::TestRegistry;

bool skip_registry() { return !berth::test::have_registry_tools() || !berth::path_exists("/bin/busybox"); }

Digest digest(const std::string& s) { return Digest::parse(s).value(); }

// The error of a result for a failure message ("" when there is none:
// doctest builds messages even for passing checks under -s).
template <class T>
std::string why(const berth::Result<T>& r) {
  return r.ok() ? std::string() : r.error().message();
}

std::string base64(std::string_view in) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += i + 1 < in.size() ? kChars[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kChars[v & 63] : '=';
  }
  return out;
}

// A content store and image index in a temporary data root, and a layout
// with one busybox image tagged "v1".
struct Fixture {
  TempDir root{"berth-pull"};
  TempDir work{"berth-layout"};
  ContentStore store = ContentStore::open(root / "store").value();
  ImageIndex index = ImageIndex::open(root / "store").value();
  OciLayout layout{work / "layout"};
  OciBlob image;
  PullOptions options;

  Fixture() {
    image = berth::test::add_busybox_image(layout, work / "trees");
    layout.tag("v1", image);
    options.docker_config = root / "no-config.json";
  }

  berth::image::Manifest manifest() const {
    return berth::image::parse_manifest(layout.read_blob(image.digest)).value();
  }

  berth::Result<berth::image::PullResult> pull(const std::string& ref) {
    auto r = berth::image::parse_reference(ref);
    REQUIRE(r.ok());
    return berth::image::pull(*r, store, index, options);
  }
};

// Collects progress reports per blob.
struct ProgressLog {
  std::map<Digest, std::vector<PullProgress>> by_blob;
  void attach(PullOptions& options) {
    options.progress = [this](const PullProgress& p) { by_blob[p.digest].push_back(p); };
  }
  PullProgress::Phase last(const Digest& d) const { return by_blob.at(d).back().phase; }
};

// A registry stand-in for what docker-registry cannot be made to do: bearer
// tokens from a realm, expiring tokens, blobs redirected to another host,
// and connections dropped mid-blob. One request per connection.
class FakeRegistry {
 public:
  FakeRegistry() {
    listen_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_.get(), 16) == 0);
    REQUIRE(::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);

    config_ = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    layer_ = std::string(300000, 'L');
    dropped_ = std::string(200000, 'D');
    manifest_ = manifest_for(layer_);
    drop_manifest_ = manifest_for(dropped_);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeRegistry() {
    ::shutdown(listen_.get(), SHUT_RDWR);
    thread_.join();
  }

  std::string host() const { return berth::cat("127.0.0.1:", port_); }
  Digest layer() const { return Digest::of(layer_); }
  Digest dropped_layer() const { return Digest::of(dropped_); }
  Digest manifest() const { return Digest::of(manifest_); }

  /// The next blob request is refused with 401 as if the token expired.
  std::atomic<bool> expire_once{false};
  std::atomic<int> token_requests{0};
  std::mutex mu;
  std::vector<std::string> token_auth;     // Authorization sent to the realm
  std::vector<std::string> token_queries;  // its query strings
  std::vector<std::string> storage_auth;   // Authorization sent to the storage host

 private:
  std::string manifest_for(const std::string& layer) const {
    return berth::test::json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", Digest::of(config_).str()},
          {"size", config_.size()}}},
        {"layers",
         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
           {"digest", Digest::of(layer).str()},
           {"size", layer.size()}}}}}
        .dump();
  }

  void serve() {
    for (;;) {
      berth::UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) return;
      handle(conn.get());
    }
  }

  static void send(int fd, const std::string& data) { (void)berth::write_all(fd, data, "response"); }

  static void respond(int fd, int status, const std::string& body, const std::string& headers = "") {
    send(fd, berth::cat("HTTP/1.1 ", status, " X\r\nContent-Length: ", body.size(),
                        "\r\nConnection: close\r\n", headers, "\r\n", body));
  }

  void handle(int fd) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string target = req.substr(4, req.find(' ', 4) - 4);
    std::string auth;
    for (const auto& line : berth::split(req, '\n'))
      if (starts_with(line, "Authorization: ")) auth = std::string(berth::trim(line.substr(15)));
    std::string path = target.substr(0, target.find('?'));
    std::string query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
    std::string challenge =
        berth::cat("WWW-Authenticate: Bearer realm=\"http://", host(), "/token\",service=\"fake\"\r\n");
    std::string blobs = "/v2/app/blobs/";

    if (path == "/token") {
      ++token_requests;
      std::lock_guard lock(mu);
      token_auth.push_back(auth);
      token_queries.push_back(query);
      respond(fd, 200, R"({"token":"tok-)" + std::to_string(token_requests) + R"("})");
    } else if (starts_with(path, "/storage/")) {
      {
        std::lock_guard lock(mu);
        storage_auth.push_back(auth);
      }
      respond(fd, 200, layer_);
    } else if (!starts_with(auth, "Bearer tok-")) {
      respond(fd, 401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})", challenge);
    } else if (path == "/v2/") {
      respond(fd, 200, "{}");
    } else if (path == "/v2/app/manifests/v1" || path == "/v2/app/manifests/drop") {
      const std::string& m = path.ends_with("v1") ? manifest_ : drop_manifest_;
      respond(fd, 200, m, "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n");
    } else if (starts_with(path, blobs) && expire_once.exchange(false)) {
      respond(fd, 401, R"({"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]})", challenge);
    } else if (path == blobs + Digest::of(config_).str()) {
      respond(fd, 200, config_);
    } else if (path == blobs + layer().str()) {
      // Off to "storage" on another host name: the token must not follow.
      respond(fd, 307, "", berth::cat("Location: http://localhost:", port_, "/storage/", layer().hex(), "\r\n"));
    } else if (path == blobs + dropped_layer().str()) {
      send(fd, berth::cat("HTTP/1.1 200 OK\r\nContent-Length: ", dropped_.size(), "\r\n\r\n",
                          dropped_.substr(0, dropped_.size() / 2)));
    } else {
      respond(fd, 404, R"({"errors":[{"code":"NOT_FOUND","message":"not here"}]})");
    }
  }

  berth::UniqueFd listen_;
  int port_ = 0;
  std::string config_, layer_, dropped_, manifest_, drop_manifest_;
  std::thread thread_;
};

}  // namespace

TEST_SUITE("image registry") {

TEST_CASE("pull stores the manifest, config and layers, then finds them present" * doctest::skip(skip_registry())) {
  TestRegistry registry;
  REQUIRE_MESSAGE(registry.ok(), registry.error());
  Fixture f;
  auto pushed = registry.push(f.layout.dir(), "v1", "app:v1");
  REQUIRE_MESSAGE(pushed.status == 0, pushed.err);
  auto m = f.manifest();
  REQUIRE(m.layers.size() == 2);

  ProgressLog log;
  log.attach(f.options);
  std::string name = registry.host() + "/app:v1";
  auto r = f.pull(name);
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->target.digest == digest(f.image.digest));
  CHECK(r->manifest.digest == digest(f.image.digest));
  CHECK(r->target.media_type == "application/vnd.oci.image.manifest.v1+json");
  CHECK(f.store.read(digest(f.image.digest)).value() == f.layout.read_blob(f.image.digest));
  CHECK(f.store.read(m.config.digest).value() == f.layout.read_blob(m.config.digest.str()));
  for (const auto& l : m.layers) {
    CHECK(f.store.size(l.digest).value() == l.size);
    REQUIRE(log.by_blob.count(l.digest) == 1);
    CHECK(log.last(l.digest) == PullProgress::Phase::Done);
    int64_t downloaded = 0;
    for (const auto& p : log.by_blob[l.digest]) {
      CHECK(p.total == l.size);
      if (p.phase == PullProgress::Phase::Downloading) downloaded = p.done;
    }
    CHECK(downloaded == l.size);
  }
  CHECK(log.last(m.config.digest) == PullProgress::Phase::Done);

  auto rec = f.index.get(name).value();
  REQUIRE(rec.has_value());
  CHECK(rec->name == name);
  CHECK(rec->target.digest == digest(f.image.digest));
  CHECK_FALSE(rec->created.empty());

  ProgressLog again;
  again.attach(f.options);
  auto r2 = f.pull(name);
  REQUIRE_MESSAGE(r2.ok(), why(r2));
  CHECK(again.by_blob.size() == 3);
  for (const auto& [d, reports] : again.by_blob) {
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].phase == PullProgress::Phase::Exists);
  }
}

TEST_CASE("pull by digest, one blob at a time" * doctest::skip(skip_registry())) {
  TestRegistry registry;
  REQUIRE_MESSAGE(registry.ok(), registry.error());
  Fixture f;
  REQUIRE(registry.push(f.layout.dir(), "v1", "app:v1").status == 0);
  f.options.parallel = 1;
  std::string name = registry.host() + "/app@" + f.image.digest;
  auto r = f.pull(name);
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->target.digest == digest(f.image.digest));
  CHECK(f.index.get(name).value().has_value());
  for (const auto& l : f.manifest().layers) CHECK(f.store.has(l.digest));
}

TEST_CASE("pull of a multi-platform index selects the platform" * doctest::skip(skip_registry())) {
  TestRegistry registry;
  REQUIRE_MESSAGE(registry.ok(), registry.error());
  Fixture f;
  OciBlob arm = berth::test::add_busybox_image(f.layout, f.work / "trees", "arm64", "arm64");
  OciBlob index = f.layout.add_index({{arm, "arm64"}, {f.image, "amd64"}});
  f.layout.tag("multi", index);
  auto pushed = registry.push(f.layout.dir(), "multi", "multi:v1", true);
  REQUIRE_MESSAGE(pushed.status == 0, pushed.err);

  auto arm_manifest = berth::image::parse_manifest(f.layout.read_blob(arm.digest)).value();
  auto r = f.pull(registry.host() + "/multi:v1");
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->target.digest == digest(index.digest));
  CHECK(berth::image::media::is_index(r->target.media_type));
  CHECK(r->manifest.digest == digest(f.image.digest));
  CHECK(f.store.has(digest(index.digest)));
  CHECK(f.store.has(digest(f.image.digest)));
  CHECK_FALSE(f.store.has(digest(arm.digest)));
  CHECK_FALSE(f.store.has(arm_manifest.layers[1].digest));  // arm64's own /etc layer
  CHECK_FALSE(f.store.has(arm_manifest.config.digest));

  f.options.platform = {"linux", "arm64", ""};
  auto r2 = f.pull(registry.host() + "/multi:v1");
  REQUIRE_MESSAGE(r2.ok(), why(r2));
  CHECK(r2->manifest.digest == digest(arm.digest));
  CHECK(f.store.has(arm_manifest.config.digest));

  f.options.platform = {"linux", "s390x", ""};
  auto r3 = f.pull(registry.host() + "/multi:v1");
  REQUIRE_FALSE(r3.ok());
  CHECK_MESSAGE(contains(r3.error().message(), "s390x"), r3.error().message());
}

TEST_CASE("an unknown tag fails with the registry's message and leaves the index alone" *
          doctest::skip(skip_registry())) {
  TestRegistry registry;
  REQUIRE_MESSAGE(registry.ok(), registry.error());
  Fixture f;
  REQUIRE(registry.push(f.layout.dir(), "v1", "app:v1").status == 0);
  REQUIRE(f.pull(registry.host() + "/app:v1").ok());
  auto before = f.index.list().value();

  auto r = f.pull(registry.host() + "/app:nope");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "pull " + registry.host() + "/app:nope: manifest unknown");
  auto unknown_repo = f.pull(registry.host() + "/nothing:v1");
  REQUIRE_FALSE(unknown_repo.ok());
  CHECK_MESSAGE(contains(unknown_repo.error().message(), "unknown"), unknown_repo.error().message());

  auto after = f.index.list().value();
  REQUIRE(after.size() == before.size());
  CHECK(after[0].name == before[0].name);
}

TEST_CASE("a corrupted blob in the registry fails naming its digest and is not stored" *
          doctest::skip(skip_registry())) {
  TestRegistry registry;
  REQUIRE_MESSAGE(registry.ok(), registry.error());
  Fixture f;
  REQUIRE(registry.push(f.layout.dir(), "v1", "app:v1").status == 0);
  Digest layer = f.manifest().layers[0].digest;

  // Same size, different bytes: only the digest can tell.
  std::string data_path = registry.blob_data_path(layer.str());
  std::string data = berth::test::slurp(data_path);
  REQUIRE(data.size() > 1000);
  data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x55);
  REQUIRE(berth::write_file(data_path, data).ok());

  auto r = f.pull(registry.host() + "/app:v1");
  REQUIRE_FALSE(r.ok());
  std::string msg = r.error().message();
  CHECK_MESSAGE(contains(msg, layer.str() + ": digest mismatch: got sha256:"), msg);
  CHECK(starts_with(msg, "pull " + registry.host() + "/app:v1: "));
  CHECK_FALSE(f.store.has(layer));
  CHECK_FALSE(f.store.has(digest(f.image.digest)));
  CHECK(f.index.list().value().empty());
  CHECK(berth::test::count_entries(f.store.root() + "/ingest") == 0);
  // The store is as it was: the config and the sound layer, verified on the
  // way, went again with the failure.
  CHECK(f.store.list().value().empty());
}

TEST_CASE("a registry that went away is a clear error" * doctest::skip(skip_registry())) {
  TestRegistry registry;
  REQUIRE_MESSAGE(registry.ok(), registry.error());
  Fixture f;
  std::string host = registry.host();
  registry.stop();
  auto r = f.pull(host + "/app:v1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "pull " + host + "/app:v1: connect to " + host + ": Connection refused");
  CHECK(f.index.list().value().empty());
}

TEST_CASE("basic authentication with credentials from a docker config.json" * doctest::skip(skip_registry())) {
  TestRegistry registry(berth::test::htpasswd_line("alice", "s3cret"));
  REQUIRE_MESSAGE(registry.ok(), registry.error());
  Fixture f;
  auto pushed = registry.push(f.layout.dir(), "v1", "private/app:v1", false, "alice:s3cret");
  REQUIRE_MESSAGE(pushed.status == 0, pushed.err);
  std::string name = registry.host() + "/private/app:v1";

  SUBCASE("no credentials") {
    auto r = f.pull(name);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(contains(r.error().message(), "requires a login"), r.error().message());
  }
  SUBCASE("wrong password") {
    std::string cfg = berth::test::json{{"auths", {{registry.host(), {{"auth", base64("alice:wrong")}}}}}}.dump();
    REQUIRE(berth::write_file(f.options.docker_config, cfg, true).ok());
    auto r = f.pull(name);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(contains(r.error().message(), "unauthorized"), r.error().message());
    CHECK(f.index.list().value().empty());
  }
  SUBCASE("auth field under an http:// key") {
    std::string cfg =
        berth::test::json{{"auths", {{"http://" + registry.host(), {{"auth", base64("alice:s3cret")}}}}}}.dump();
    REQUIRE(berth::write_file(f.options.docker_config, cfg, true).ok());
    auto r = f.pull(name);
    REQUIRE_MESSAGE(r.ok(), why(r));
    CHECK(f.store.has(digest(f.image.digest)));
  }
  SUBCASE("username and password fields") {
    std::string cfg =
        berth::test::json{{"auths", {{registry.host(), {{"username", "alice"}, {"password", "s3cret"}}}}}}.dump();
    REQUIRE(berth::write_file(f.options.docker_config, cfg, true).ok());
    auto r = f.pull(name);
    REQUIRE_MESSAGE(r.ok(), why(r));
  }
}

TEST_CASE("bearer tokens: fetched from the realm, reused, renewed, kept from other hosts") {
  FakeRegistry fake;
  Fixture f;
  std::string cfg = berth::test::json{{"auths", {{fake.host(), {{"auth", base64("alice:s3cret")}}}}}}.dump();
  REQUIRE(berth::write_file(f.options.docker_config, cfg, true).ok());
  fake.expire_once = true;
  f.options.parallel = 1;

  auto r = f.pull(fake.host() + "/app:v1");
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->target.digest == fake.manifest());
  CHECK(f.store.read(fake.layer()).value() == std::string(300000, 'L'));
  // One token for the probe's challenge and one after the expiry; every
  // other request reused them.
  CHECK(fake.token_requests == 2);
  std::lock_guard lock(fake.mu);
  for (const auto& q : fake.token_queries) CHECK(q == "service=fake&scope=repository%3Aapp%3Apull");
  for (const auto& a : fake.token_auth) CHECK(a == "Basic " + base64("alice:s3cret"));
  REQUIRE(fake.storage_auth.size() == 1);
  CHECK(fake.storage_auth[0] == "");
}

TEST_CASE("a connection dropped mid-blob is a clear error and leaves nothing behind") {
  FakeRegistry fake;
  Fixture f;
  auto r = f.pull(fake.host() + "/app:drop");
  REQUIRE_FALSE(r.ok());
  std::string msg = r.error().message();
  CHECK_MESSAGE(contains(msg, "fetch blob " + fake.dropped_layer().str() + ": connection to " + fake.host() +
                                  " dropped"),
                msg);
  CHECK_FALSE(f.store.has(fake.dropped_layer()));
  CHECK_FALSE(f.store.has(fake.manifest()));
  CHECK(f.index.list().value().empty());
  CHECK(berth::test::count_entries(f.store.root() + "/ingest") == 0);
}

}  // TEST_SUITE
