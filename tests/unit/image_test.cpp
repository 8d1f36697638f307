// The image library without root: references, the formats, platform
// selection, chain IDs, the content store and image index, imports of OCI
// layouts and docker-archives, and the image-config-to-process rules.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "image/digest.hpp"
#include "image/import.hpp"
#include "image/media.hpp"
#include "image/prune.hpp"
#include "image/reference.hpp"
#include "image/runconfig.hpp"
#include "image/snapshot.hpp"
#include "image/store.hpp"
#include "registry.hpp"
#include "test_support.hpp"

namespace {

using namespace berth::image;
using berth::test::OciLayout;
using berth::test::TempDir;
using berth::test::contains;
using nlohmann::json;

const std::string kHexA(64, 'a');

std::string norm(const std::string& s) {
  auto r = parse_reference(s);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message()));
  return r->str();
}

std::string ref_error(const std::string& s) {
  auto r = parse_reference(s);
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}

}  // namespace

TEST_CASE("image: references are normalised as docker does") {
  CHECK(norm("busybox") == "docker.io/library/busybox:latest");
  CHECK(norm("busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(norm("user/app") == "docker.io/user/app:latest");
  CHECK(norm("docker.io/busybox") == "docker.io/library/busybox:latest");
  CHECK(norm("index.docker.io/library/busybox") == "docker.io/library/busybox:latest");
  CHECK(norm("127.0.0.1:5000/app") == "127.0.0.1:5000/app:latest");
  CHECK(norm("localhost/app:v1") == "localhost/app:v1");
  CHECK(norm("quay.io/a/b/c:v2") == "quay.io/a/b/c:v2");
  CHECK(norm("app@sha256:" + kHexA) == "docker.io/library/app@sha256:" + kHexA);
  CHECK(norm("app:v1@sha256:" + kHexA) == "docker.io/library/app:v1@sha256:" + kHexA);
  CHECK(norm("my_app.x-y__z") == "docker.io/library/my_app.x-y__z:latest");

  auto r = parse_reference("127.0.0.1:5000/team/app:v1");
  REQUIRE(r.ok());
  CHECK(r->domain == "127.0.0.1:5000");
  CHECK(r->repository == "team/app");
  CHECK(r->tag == "v1");
  CHECK(r->familiar() == "127.0.0.1:5000/team/app:v1");
  CHECK(r->registry_host() == "127.0.0.1:5000");
  CHECK(r->manifest_ref() == "v1");
  auto hub = parse_reference("busybox");
  REQUIRE(hub.ok());
  CHECK(hub->familiar() == "busybox:latest");
  CHECK(hub->registry_host() == "registry-1.docker.io");
  auto pinned = parse_reference("app@sha256:" + kHexA);
  REQUIRE(pinned.ok());
  CHECK(pinned->manifest_ref() == "sha256:" + kHexA);
}

TEST_CASE("image: malformed references are refused, naming the reference") {
  CHECK(contains(ref_error(""), "empty"));
  CHECK(contains(ref_error("Busybox"), "must be lowercase"));
  CHECK(contains(ref_error("busybox:"), "invalid tag"));
  CHECK(contains(ref_error("busybox:-x"), "invalid tag"));
  CHECK(contains(ref_error("bad//name"), "invalid repository name"));
  CHECK(contains(ref_error("-app"), "invalid repository name"));
  CHECK(contains(ref_error("app@sha256:abc"), "64 lower-case hex digits"));
  CHECK(contains(ref_error("app@md5:" + kHexA), "unsupported algorithm"));
  CHECK(contains(ref_error("host:5000/"), "missing repository"));
  CHECK(contains(ref_error("a/b:" + std::string(129, 't')), "invalid tag"));
  CHECK(contains(ref_error("app@"), "\"app@\""));
}

TEST_CASE("image: loopback registries are the ones reached over plain HTTP by default") {
  CHECK(is_loopback_registry("localhost"));
  CHECK(is_loopback_registry("localhost:5000"));
  CHECK(is_loopback_registry("127.0.0.1:5000"));
  CHECK(is_loopback_registry("127.1.2.3"));
  CHECK(is_loopback_registry("[::1]:5000"));
  CHECK_FALSE(is_loopback_registry("registry-1.docker.io"));
  CHECK_FALSE(is_loopback_registry("10.0.0.1:5000"));
  CHECK_FALSE(is_loopback_registry("localhost.example.com"));
}

TEST_CASE("image: digests") {
  CHECK(Digest::of("").str() == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Digest::of("abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Hasher h;
  h.update("a");
  h.update("bc");
  CHECK(h.bytes() == 3);
  CHECK(h.finish() == Digest::of("abc"));
  CHECK(Digest::parse("sha256:" + kHexA).ok());
  CHECK_FALSE(Digest::parse("sha256:" + std::string(64, 'A')).ok());
  CHECK_FALSE(Digest::parse(kHexA).ok());
}

TEST_CASE("image: manifests, indexes and configs parse into typed structs, errors name the field") {
  std::string d = "sha256:" + kHexA;
  std::string m = json{{"schemaVersion", 2},
                       {"mediaType", media::kDockerManifest},
                       {"config", {{"mediaType", media::kDockerConfig}, {"digest", d}, {"size", 10}}},
                       {"layers", {{{"mediaType", media::kDockerLayerGzip}, {"digest", d}, {"size", 20}}}}}
                      .dump();
  auto man = parse_manifest(m);
  REQUIRE(man.ok());
  CHECK(man->config.size == 10);
  REQUIRE(man->layers.size() == 1);
  CHECK(man->layers[0].media_type == media::kDockerLayerGzip);

  // No mediaType: the shape says what it is (OCI makes the field optional).
  json oci = json::parse(m);
  oci.erase("mediaType");
  CHECK(sniff_media_type(oci.dump()).value() == media::kOciManifest);
  json idx = {{"schemaVersion", 2}, {"manifests", json::array()}};
  CHECK(sniff_media_type(idx.dump()).value() == media::kOciIndex);

  json bad = json::parse(m);
  bad["layers"][0]["size"] = -1;
  CHECK(contains(parse_manifest(bad.dump()).error().message(), "manifest.layers[0].size"));
  bad = json::parse(m);
  bad["layers"][0]["mediaType"] = "application/x-foo";
  CHECK(contains(parse_manifest(bad.dump()).error().message(), "unsupported layer type"));
  bad = json::parse(m);
  bad["config"]["digest"] = "sha256:xyz";
  CHECK(contains(parse_manifest(bad.dump()).error().message(), "manifest.config.digest"));
  CHECK(contains(parse_manifest("{").error().message(), "not valid JSON"));

  std::string cfg = json{{"os", "linux"},
                         {"architecture", "amd64"},
                         {"rootfs", {{"type", "layers"}, {"diff_ids", {d}}}},
                         {"config",
                          {{"Env", {"A=1"}},
                           {"Entrypoint", nullptr},
                           {"Cmd", {"sh"}},
                           {"User", "app"},
                           {"WorkingDir", "/srv"},
                           {"ExposedPorts", {{"80/tcp", json::object()}}},
                           {"Volumes", {{"/data", json::object()}}},
                           {"Labels", {{"k", "v"}}},
                           {"StopSignal", "SIGQUIT"}}}}
                        .dump();
  auto ic = parse_image_config(cfg);
  REQUIRE(ic.ok());
  CHECK(ic->diff_ids.size() == 1);
  CHECK_FALSE(ic->config.has_entrypoint);
  CHECK(ic->config.has_cmd);
  CHECK(ic->config.exposed_ports == std::vector<std::string>{"80/tcp"});
  CHECK(ic->config.volumes == std::vector<std::string>{"/data"});
  CHECK(ic->config.labels.at("k") == "v");
  CHECK(ic->config.stop_signal == "SIGQUIT");
  json badcfg = json::parse(cfg);
  badcfg["config"]["Cmd"] = "sh";
  CHECK(contains(parse_image_config(badcfg.dump()).error().message(), "image config.config.Cmd"));
}

TEST_CASE("image: platform selection picks linux/amd64 and says what an index has") {
  auto desc = [](std::string arch, std::string variant = "", std::string os = "linux") {
    Descriptor d;
    d.media_type = media::kOciManifest;
    d.digest = Digest::of(arch + variant + os);
    d.platform = Platform{std::move(os), std::move(arch), std::move(variant)};
    return d;
  };
  Index idx;
  idx.manifests = {desc("arm", "v7"), desc("arm64", "v8"), desc("amd64"), desc("unknown", "", "unknown")};
  auto sel = select_platform(idx, {"linux", "amd64", ""});
  REQUIRE(sel.ok());
  CHECK(sel->digest == Digest::of("amd64linux"));
  auto arm64 = select_platform(idx, {"linux", "arm64", ""});
  REQUIRE(arm64.ok());
  CHECK(arm64->digest == Digest::of("arm64v8linux"));
  auto none = select_platform(idx, {"linux", "s390x", ""});
  REQUIRE_FALSE(none.ok());
  CHECK(contains(none.error().message(), "no manifest for platform linux/s390x"));
  CHECK(contains(none.error().message(), "linux/arm/v7, linux/arm64/v8, linux/amd64"));
}

TEST_CASE("image: chain IDs follow the OCI image spec") {
  Digest a = Digest::of("a"), b = Digest::of("b"), c = Digest::of("c");
  auto chain = chain_ids({a, b, c});
  REQUIRE(chain.size() == 3);
  CHECK(chain[0] == a);
  CHECK(chain[1] == Digest::of(a.str() + " " + b.str()));
  CHECK(chain[2] == Digest::of(chain[1].str() + " " + c.str()));
  CHECK(chain_ids({}).empty());
}

TEST_CASE("image: the content store publishes a blob only once verified") {
  TempDir tmp;
  auto store = ContentStore::open(tmp / "store");
  REQUIRE(store.ok());
  Digest d = Digest::of("hello");
  CHECK_FALSE(store->has(d));
  REQUIRE(store->put("hello", d).ok());
  CHECK(store->has(d));
  CHECK(store->read(d).value() == "hello");
  CHECK(store->size(d).value() == 5);

  // A wrong digest: refused, nothing visible, nothing left in ingest/.
  Digest other = Digest::of("other");
  auto bad = store->put("tampered", other);
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error().message(), "digest mismatch"));
  CHECK(contains(bad.error().message(), other.str()));
  CHECK_FALSE(store->has(other));
  CHECK(berth::test::count_entries(tmp / "store/ingest") == 0);

  // Short and long writes against a known size.
  {
    auto w = store->writer(Digest::of("12345"), 5);
    REQUIRE(w.ok());
    REQUIRE(w->write("123").ok());
    CHECK(contains(w->commit().error().message(), "size mismatch: got 3 bytes, want 5"));
    auto w2 = store->writer(Digest::of("12345"), 5);
    REQUIRE(w2.ok());
    CHECK_FALSE(w2->write("123456").ok());
  }
  CHECK_FALSE(store->has(Digest::of("12345")));

  // A writer abandoned mid-way (a dropped connection) leaves nothing.
  {
    auto w3 = store->writer(Digest::of("abandoned"), 9);
    REQUIRE(w3.ok());
    REQUIRE(w3->write("aband").ok());
    CHECK(berth::test::count_entries(tmp / "store/ingest") >= 1);
  }
  CHECK(berth::test::count_entries(tmp / "store/ingest") == 0);
  CHECK_FALSE(store->has(Digest::of("abandoned")));

  auto all = store->list();
  REQUIRE(all.ok());
  CHECK(all->size() == 1);
  REQUIRE(store->remove(d).ok());
  CHECK_FALSE(store->has(d));
}

TEST_CASE("image: the image index is replaced atomically and keeps names unique") {
  TempDir tmp;
  auto index = ImageIndex::open(tmp.path());
  REQUIRE(index.ok());
  CHECK(index->list().value().empty());
  Descriptor d{std::string(media::kOciManifest), Digest::of("m1"), 10, {}, {}, {}};
  REQUIRE(index->put({"docker.io/library/a:latest", d, "2026-01-01T00:00:00Z"}).ok());
  Descriptor d2 = d;
  d2.digest = Digest::of("m2");
  REQUIRE(index->put({"docker.io/library/a:latest", d2, "2026-01-02T00:00:00Z"}).ok());
  REQUIRE(index->put({"docker.io/library/b:latest", d, "2026-01-02T00:00:00Z"}).ok());
  auto all = index->list();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].target.digest == d2.digest);
  auto got = index->get("docker.io/library/b:latest");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->target.size == 10);
  CHECK(index->remove("docker.io/library/a:latest").ok());
  CHECK(contains(index->remove("docker.io/library/a:latest").error().message(), "no such image"));
  // A torn index file is an error, never an empty list.
  REQUIRE(berth::write_file(tmp / "images.json", "{\"images\": [", true).ok());
  CHECK_FALSE(index->list().ok());
}

TEST_CASE("image: an OCI layout imports under its names, with only the host platform's blobs") {
  TempDir tmp;
  OciLayout layout(tmp / "layout");
  std::string tree = tmp / "tree";
  REQUIRE(berth::mkdir_all(tree + "/etc", 0755).ok());
  REQUIRE(berth::write_file(tree + "/etc/hello", "hi\n", true).ok());
  auto layer = layout.add_layer(tree);
  auto amd64 = layout.add_image({layer}, "amd64");
  REQUIRE(berth::write_file(tree + "/etc/hello", "arm\n", true).ok());
  auto arm_layer = layout.add_layer(tree);
  auto arm64 = layout.add_image({arm_layer}, "arm64");
  auto index_blob = layout.add_index({{amd64, "amd64"}, {arm64, "arm64"}});
  layout.tag("v1", index_blob);

  auto store = ContentStore::open(tmp / "root");
  auto index = ImageIndex::open(tmp / "root");
  REQUIRE((store.ok() && index.ok()));
  // A tag-only name needs a repository to tag.
  auto unnamed = import_oci_layout(layout.dir(), *store, *index);
  REQUIRE_FALSE(unnamed.ok());
  CHECK(contains(unnamed.error().message(), "give a name"));

  ImportOptions o;
  o.name = "127.0.0.1:5000/app";
  auto recs = import_oci_layout(layout.dir(), *store, *index, o);
  REQUIRE_MESSAGE(recs.ok(), (recs.ok() ? "" : recs.error().message()));
  REQUIRE(recs->size() == 1);
  CHECK((*recs)[0].name == "127.0.0.1:5000/app:v1");
  CHECK((*recs)[0].target.digest.str() == index_blob.digest);
  CHECK(store->has(Digest::parse(layer.blob.digest).value()));
  CHECK_FALSE(store->has(Digest::parse(arm_layer.blob.digest).value()));

  auto img = resolve_image(*store, (*recs)[0].target, host_platform());
  REQUIRE(img.ok());
  CHECK(img->manifest_desc.digest.str() == amd64.digest);
  CHECK(img->config.diff_ids.at(0).str() == layer.diff_id);
  auto other = resolve_image(*store, (*recs)[0].target, {"linux", "arm64", ""});
  CHECK_FALSE(other.ok());  // its blobs were not imported
  auto reach = reachable_blobs(*store, (*recs)[0].target);
  REQUIRE(reach.ok());
  CHECK(reach->size() >= 4);  // index, 2 manifests, config, layer
}

TEST_CASE("image: a layout whose blob does not match its digest is refused and names nothing") {
  TempDir tmp;
  OciLayout layout(tmp / "layout");
  REQUIRE(berth::mkdir_all(tmp / "tree/x", 0755).ok());
  auto layer = layout.add_layer(tmp / "tree");
  auto m = layout.add_image({layer});
  layout.tag("latest", m);
  std::string blob = layout.dir() + "/blobs/sha256/" + layer.blob.digest.substr(7);
  std::string data = berth::read_file(blob).value();
  data[data.size() / 2] ^= 1;
  REQUIRE(berth::write_file(blob, data).ok());
  auto store = ContentStore::open(tmp / "root");
  auto index = ImageIndex::open(tmp / "root");
  ImportOptions o;
  o.name = "app";
  auto r = import_oci_layout(layout.dir(), *store, *index, o);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message(), layer.blob.digest));
  CHECK(index->list().value().empty());
  CHECK_FALSE(store->has(Digest::parse(layer.blob.digest).value()));
}

TEST_CASE("image: a docker-archive (docker save) imports under its RepoTags") {
  TempDir tmp;
  std::string tree = tmp / "tree";
  REQUIRE(berth::mkdir_all(tree + "/bin", 0755).ok());
  REQUIRE(berth::write_file(tree + "/bin/x", "x", true).ok());
  std::string save = tmp / "save";
  REQUIRE(berth::mkdir_all(save + "/l1", 0755).ok());
  auto tar = berth::test::run({"tar", "--owner=0", "--group=0", "-C", tree, "-cf", save + "/l1/layer.tar", "."});
  REQUIRE(tar.status == 0);
  std::string diff = Digest::of(berth::read_file(save + "/l1/layer.tar").value()).str();
  json cfg = {{"os", "linux"}, {"architecture", "amd64"}, {"config", {{"Cmd", {"sh"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", {diff}}}}};
  std::string cfg_text = cfg.dump();
  std::string cfg_name = Digest::of(cfg_text).hex() + ".json";
  REQUIRE(berth::write_file(save + "/" + cfg_name, cfg_text, true).ok());
  json manifest = json::array({{{"Config", cfg_name}, {"RepoTags", {"myapp:1.0", "myapp:latest"}}, {"Layers", {"l1/layer.tar"}}}});
  REQUIRE(berth::write_file(save + "/manifest.json", manifest.dump(), true).ok());
  REQUIRE(berth::test::run({"tar", "-C", save, "-czf", tmp / "image.tar.gz", "."}).status == 0);

  auto store = ContentStore::open(tmp / "root");
  auto index = ImageIndex::open(tmp / "root");
  auto recs = import_archive(tmp / "image.tar.gz", *store, *index);
  REQUIRE_MESSAGE(recs.ok(), (recs.ok() ? "" : recs.error().message()));
  REQUIRE(recs->size() == 2);
  CHECK((*recs)[0].name == "docker.io/library/myapp:1.0");
  auto img = resolve_image(*store, (*recs)[0].target, host_platform());
  REQUIRE_MESSAGE(img.ok(), (img.ok() ? "" : img.error().message()));
  CHECK(img->manifest.layers.at(0).media_type == media::kDockerLayer);
  CHECK(img->manifest.layers.at(0).digest.str() == diff);  // uncompressed: the blob is the diff
  CHECK(berth::test::count_entries(tmp / "root/ingest") == 0);

  // Not an image archive at all.
  REQUIRE(berth::test::run({"tar", "-C", tree, "-cf", tmp / "plain.tar", "."}).status == 0);
  auto plain = import_archive(tmp / "plain.tar", *store, *index);
  REQUIRE_FALSE(plain.ok());
  CHECK(contains(plain.error().message(), "neither an oci-archive"));
}

TEST_CASE("image: an archive entry that climbs out of the archive is refused") {
  TempDir tmp;
  REQUIRE(berth::write_file(tmp / "evil", "x", true).ok());
  auto r = berth::test::run({"tar", "-C", tmp.path(), "-P", "--transform=s,^evil,../../evil,", "-cf", tmp / "evil.tar", "evil"});
  REQUIRE(r.status == 0);
  auto store = ContentStore::open(tmp / "root");
  auto index = ImageIndex::open(tmp / "root");
  auto recs = import_archive(tmp / "evil.tar", *store, *index);
  REQUIRE_FALSE(recs.ok());
  CHECK(contains(recs.error().message(), "escapes the archive"));
}

TEST_CASE("image: users resolve through the rootfs's passwd and group files") {
  TempDir tmp;
  REQUIRE(berth::mkdir_all(tmp / "etc", 0755).ok());
  REQUIRE(berth::write_file(tmp / "etc/passwd",
                            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n", true)
              .ok());
  REQUIRE(berth::write_file(tmp / "etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app,other\nwheel:x:10:root\n", true).ok());
  auto fd = berth::open_file(tmp.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd.ok());
  auto app = resolve_user(fd->get(), "app");
  REQUIRE(app.ok());
  CHECK(app->uid == 1000);
  CHECK(app->gid == 1000);
  CHECK(app->home == "/home/app");
  CHECK(app->additional_gids == std::vector<uint32_t>{50});
  auto ug = resolve_user(fd->get(), "app:staff");
  REQUIRE(ug.ok());
  CHECK(ug->gid == 50);
  auto num = resolve_user(fd->get(), "4242:4343");
  REQUIRE(num.ok());
  CHECK((num->uid == 4242 && num->gid == 4343 && num->home == "/"));
  auto root = resolve_user(fd->get(), "");
  REQUIRE(root.ok());
  CHECK((root->uid == 0 && root->home == "/root"));
  CHECK(contains(resolve_user(fd->get(), "ghost").error().message(), "unable to find user ghost"));
  CHECK(contains(resolve_user(fd->get(), "app:ghosts").error().message(), "unable to find group ghosts"));
}

TEST_CASE("image: Entrypoint, Cmd, Env and WorkingDir follow docker's rules") {
  TempDir tmp;
  auto fd = berth::open_file(tmp.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd.ok());
  ImageConfig ic;
  ic.config.entrypoint = {"/entry"};
  ic.config.cmd = {"default"};
  ic.config.env = {"A=1", "B=2"};
  ic.config.working_dir = "/srv";

  auto p = image_process(ic, {}, fd->get());
  REQUIRE(p.ok());
  CHECK(p->args == std::vector<std::string>{"/entry", "default"});
  CHECK(p->cwd == "/srv");
  CHECK(p->env.front().starts_with("PATH=/usr/local/sbin"));
  CHECK(std::find(p->env.begin(), p->env.end(), "HOME=/") != p->env.end());

  RunOverrides o;
  o.cmd = {"other"};
  o.env = {"B=3", "C=4"};
  o.tty = true;
  p = image_process(ic, o, fd->get());
  REQUIRE(p.ok());
  CHECK(p->args == std::vector<std::string>{"/entry", "other"});
  CHECK(std::count(p->env.begin(), p->env.end(), "B=3") == 1);
  CHECK(std::find(p->env.begin(), p->env.end(), "B=2") == p->env.end());
  CHECK(std::find(p->env.begin(), p->env.end(), "TERM=xterm") != p->env.end());

  // --entrypoint drops the image's Cmd.
  RunOverrides e;
  e.entrypoint = std::vector<std::string>{"/bin/echo"};
  p = image_process(ic, e, fd->get());
  REQUIRE(p.ok());
  CHECK(p->args == std::vector<std::string>{"/bin/echo"});

  ImageConfig empty;
  CHECK(contains(image_process(empty, {}, fd->get()).error().message(), "no command specified"));
  RunOverrides rel;
  rel.cmd = {"x"};
  rel.working_dir = "srv";
  CHECK(contains(image_process(empty, rel, fd->get()).error().message(), "not an absolute path"));
}

TEST_CASE("image: runtime_config fills a base config.json from the image") {
  TempDir tmp;
  auto fd = berth::open_file(tmp.path(), O_RDONLY | O_DIRECTORY);
  ImageConfig ic;
  ic.platform = {"linux", "amd64", ""};
  ic.config.cmd = {"sh"};
  ic.config.stop_signal = "SIGQUIT";
  ic.config.exposed_ports = {"80/tcp", "53/udp"};
  ic.config.labels = {{"maintainer", "berth"}};
  RunOverrides o;
  o.hostname = "web";
  std::string base = R"({"ociVersion": "1.2.0", "process": {"args": ["x"], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {}})";
  auto text = runtime_config(base, ic, o, fd->get(), "/var/lib/berth/c1/rootfs");
  REQUIRE(text.ok());
  json j = json::parse(*text);
  CHECK(j["process"]["args"] == json{"sh"});
  CHECK(j["root"]["path"] == "/var/lib/berth/c1/rootfs");
  CHECK(j["hostname"] == "web");
  CHECK(j["annotations"]["org.opencontainers.image.stopSignal"] == "SIGQUIT");
  CHECK(j["annotations"]["org.opencontainers.image.exposedPorts"] == "53/udp,80/tcp");
  CHECK(j["annotations"]["maintainer"] == "berth");
  CHECK(j["linux"].is_object());
  CHECK_FALSE(j.contains("mounts"));  // no volume root: Volumes stay in the rootfs
  CHECK_FALSE(runtime_config("[", ic, o, fd->get(), "r").ok());

  // Anonymous volumes: a directory each, bind-mounted at the image's paths.
  ic.config.volumes = {"/var/lib/data", "/cache"};
  o.volume_root = tmp / "volumes";
  text = runtime_config(base, ic, o, fd->get(), "/r");
  REQUIRE(text.ok());
  j = json::parse(*text);
  REQUIRE(j["mounts"].size() == 2);
  CHECK(j["mounts"][0]["destination"] == "/cache");
  CHECK(j["mounts"][0]["source"] == tmp / "volumes/0");
  CHECK(j["mounts"][1]["destination"] == "/var/lib/data");
  CHECK(j["mounts"][1]["type"] == "bind");
  CHECK(berth::path_exists(tmp / "volumes/1"));
  ic.config.volumes = {"relative"};
  CHECK(contains(runtime_config(base, ic, o, fd->get(), "/r").error().message(), "not an absolute path"));
}

TEST_CASE("image: prune frees what no image reaches, blobs and snapshots alike") {
  TempDir tmp;
  OciLayout layout(tmp / "layout");
  REQUIRE(berth::mkdir_all(tmp / "tree/etc", 0755).ok());
  auto layer = layout.add_layer(tmp / "tree");
  layout.tag("latest", layout.add_image({layer}));
  auto store = ContentStore::open(tmp / "root");
  auto index = ImageIndex::open(tmp / "root");
  auto snaps = SnapshotStore::open(tmp / "root");
  REQUIRE((store.ok() && index.ok() && snaps.ok()));
  ImportOptions o;
  o.name = "kept";
  auto recs = import_oci_layout(layout.dir(), *store, *index, o);
  REQUIRE(recs.ok());
  auto img = resolve_image(*store, recs->front().target, host_platform());
  REQUIRE(img.ok());
  Digest chain = chain_ids(img->config.diff_ids).at(0);
  // Snapshots stand in as directories: prune decides by name, not content.
  Digest stale = Digest::of("stale"), used = Digest::of("used by a container");
  for (const Digest& d : {chain, stale, used}) REQUIRE(berth::mkdir_all(snaps->layer_dir(d), 0755).ok());
  auto orphan = store->put("an orphan blob");
  REQUIRE(orphan.ok());
  size_t before = store->list().value().size();

  auto r = prune(*store, *index, *snaps, {used});
  REQUIRE(r.ok());
  CHECK(r->blobs_removed == 1);
  CHECK(r->bytes_freed == std::string("an orphan blob").size());
  CHECK(r->snapshots_removed == 1);
  CHECK_FALSE(store->has(*orphan));
  CHECK(store->list().value().size() == before - 1);
  CHECK(snaps->has(chain));
  CHECK(snaps->has(used));
  CHECK_FALSE(snaps->has(stale));

  // Once the name goes, so does everything it kept.
  REQUIRE(index->remove("docker.io/library/kept:latest").ok());
  auto all = prune(*store, *index, *snaps);
  REQUIRE(all.ok());
  CHECK(store->list().value().empty());
  CHECK(snaps->list().value().empty());
}

TEST_CASE("image: the built-in image is imported once, on first use") {
  TempDir tmp;
  OciLayout layout(tmp / "layout");
  REQUIRE(berth::mkdir_all(tmp / "tree/bin", 0755).ok());
  layout.tag("latest", layout.add_image({layout.add_layer(tmp / "tree")}));
  auto store = ContentStore::open(tmp / "root");
  auto index = ImageIndex::open(tmp / "root");
  CHECK(import_if_missing(layout.dir(), "busybox", *store, *index).value() == true);
  CHECK(import_if_missing(layout.dir(), "busybox", *store, *index).value() == false);
  CHECK(index->get("docker.io/library/busybox:latest").value().has_value());
  CHECK_FALSE(import_if_missing(tmp / "missing", "other", *store, *index).ok());
  CHECK(builtin_image_dir().ends_with("/berth/images/busybox-image"));
}
