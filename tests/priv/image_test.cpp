// Images end to end, as root: the built-in image imported, unpacked into
// shared snapshots, mounted as an overlay and run by berth-runtime; and a
// layer stack with whiteouts, an opaque dir, links, xattrs and a file
// capability, whose merged rootfs must equal what umoci unpacks.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "image/digest.hpp"
#include "image/import.hpp"
#include "image/reference.hpp"
#include "image/registry.hpp"
#include "image/runconfig.hpp"
#include "image/snapshot.hpp"
#include "image/store.hpp"
#include "layer_builder.hpp"
#include "registry.hpp"
#include "test_support.hpp"

using namespace berth::test;
using namespace berth::image;

namespace {

// The built-in image that the build makes (tools/mkimage.sh), found from
// this binary's place in the build tree.
std::string builtin_image() {
  if (const char* p = std::getenv("BERTH_BUILTIN_IMAGE"); p && *p) return p;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(n > 0);
  std::string exe(self, static_cast<size_t>(n));
  std::string build = exe.substr(0, exe.rfind('/'));
  build = build.substr(0, build.rfind('/'));
  return build + "/tools/busybox-image";
}

// A data root with its stores; unmounts what a test mounted below it.
struct DataRoot {
  TempDir dir{"berth-image"};
  ContentStore store = ContentStore::open(dir / "root").value();
  ImageIndex index = ImageIndex::open(dir / "root").value();
  SnapshotStore snaps = SnapshotStore::open(dir / "root").value();
  std::vector<std::string> mounts;
  ~DataRoot() {
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  }
  // Mounts the image's rootfs for container `id`; returns its path.
  std::string mount_rootfs(const std::vector<Digest>& chain, const std::string& id) {
    std::string c = dir / ("containers/" + id);
    std::string target = c + "/rootfs";
    auto st = mount_overlay(snaps, chain, c + "/upper", c + "/work", target);
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message()));
    mounts.push_back(target);
    return target;
  }
};

ResolvedImage import_and_resolve(DataRoot& r, const std::string& layout, const std::string& name) {
  ImportOptions o;
  o.name = name;
  auto recs = import_oci_layout(layout, r.store, r.index, o);
  REQUIRE_MESSAGE(recs.ok(), (recs.ok() ? "" : recs.error().message()));
  auto img = resolve_image(r.store, recs->front().target, host_platform());
  REQUIRE_MESSAGE(img.ok(), (img.ok() ? "" : img.error().message()));
  return std::move(*img);
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

// One entry of a tree as the comparison sees it.
struct Node {
  std::string type;
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string content;  // sha256 of a file, target of a link, device numbers
  std::map<std::string, std::string> xattrs;
  bool operator==(const Node&) const = default;
};

std::map<std::string, Node> walk(const std::string& root) {
  std::map<std::string, Node> out;
  std::function<void(const std::string&)> rec = [&](const std::string& rel) {
    std::string p = rel.empty() ? root : root + "/" + rel;
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    Node n;
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    char names[4096];
    ssize_t len = ::llistxattr(p.c_str(), names, sizeof names);
    for (ssize_t i = 0; i < len; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) {
      std::string name(names + i);
      if (name.starts_with("trusted.overlay.")) continue;  // overlayfs's own
      char val[512];
      ssize_t vl = ::lgetxattr(p.c_str(), name.c_str(), val, sizeof val);
      n.xattrs[name] = vl >= 0 ? std::string(val, static_cast<size_t>(vl)) : "?";
    }
    if (S_ISDIR(st.st_mode)) {
      n.type = "dir";
      if (!rel.empty()) out[rel] = n;
      for (const auto& e : entries(p)) rec(rel.empty() ? e : rel + "/" + e);
      return;
    }
    if (S_ISREG(st.st_mode)) {
      n.type = "file";
      n.content = Digest::of(berth::read_file(p).value()).str();
    } else if (S_ISLNK(st.st_mode)) {
      n.type = "symlink";
      char t[4096];
      ssize_t tl = ::readlink(p.c_str(), t, sizeof t);
      n.content.assign(t, static_cast<size_t>(std::max<ssize_t>(tl, 0)));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      n.type = S_ISCHR(st.st_mode) ? "chr" : "blk";
      n.content = berth::cat(major(st.st_rdev), ":", minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      n.type = "fifo";
    }
    out[rel] = n;
  };
  rec("");
  return out;
}

// security.capability for "cap_net_bind_service=ep" (VFS_CAP_REVISION_2).
std::string net_bind_fcap() {
  uint32_t v[5] = {VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, 1u << CAP_NET_BIND_SERVICE, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(v), sizeof v);
}

// Writes an OCI layout of gzip layers built from tar streams.
std::string write_layout(const std::string& dir, const std::vector<std::string>& tars) {
  REQUIRE(berth::mkdir_all(dir + "/blobs/sha256", 0755).ok());
  auto blob = [&](const std::string& data, std::string_view mt) {
    Digest d = Digest::of(data);
    REQUIRE(berth::write_file(dir + "/blobs/sha256/" + d.hex(), data, true).ok());
    return json{{"mediaType", mt}, {"digest", d.str()}, {"size", data.size()}};
  };
  json layers = json::array(), diffs = json::array();
  for (const auto& t : tars) {
    diffs.push_back(Digest::of(t).str());
    layers.push_back(blob(compress(t, Compression::gzip), media::kOciLayerGzip));
  }
  json cfg = {{"os", "linux"}, {"architecture", "amd64"}, {"config", {{"Cmd", {"sh"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diffs}}}};
  json m = {{"schemaVersion", 2}, {"mediaType", media::kOciManifest},
            {"config", blob(cfg.dump(), media::kOciConfig)}, {"layers", layers}};
  json md = blob(m.dump(), media::kOciManifest);
  md["annotations"] = {{"org.opencontainers.image.ref.name", "latest"}};
  REQUIRE(berth::write_file(dir + "/index.json", json{{"schemaVersion", 2}, {"manifests", {md}}}.dump(), true).ok());
  REQUIRE(berth::write_file(dir + "/oci-layout", R"({"imageLayoutVersion": "1.0.0"})", true).ok());
  return dir;
}

}  // namespace

TEST_CASE("image: the built-in busybox image runs under berth-runtime from shared overlay snapshots") {
  DataRoot r;
  auto img = import_and_resolve(r, builtin_image(), "");
  REQUIRE(img.manifest.layers.size() >= 2);
  auto rec = r.index.get("docker.io/library/busybox:latest");
  REQUIRE((rec.ok() && rec->has_value()));

  std::vector<size_t> unpacked;
  auto chain = r.snaps.prepare(r.store, img, {}, [&](size_t i) { unpacked.push_back(i); });
  REQUIRE_MESSAGE(chain.ok(), (chain.ok() ? "" : chain.error().message()));
  CHECK(unpacked.size() == img.manifest.layers.size());
  // A second container of the same image unpacks nothing again.
  unpacked.clear();
  auto again = r.snaps.prepare(r.store, img, {}, [&](size_t i) { unpacked.push_back(i); });
  REQUIRE(again.ok());
  CHECK(unpacked.empty());
  CHECK(r.snaps.list().value().size() == img.manifest.layers.size());

  auto spec = run({runtime_binary(), "spec", "--bundle", r.dir.path()});
  REQUIRE(spec.status == 0);
  std::string base = berth::read_file(r.dir / "config.json").value();
  for (const char* id : {"img1", "img2"}) {
    std::string rootfs = r.mount_rootfs(*chain, id);
    auto rootfd = berth::open_file(rootfs, O_RDONLY | O_DIRECTORY);
    REQUIRE(rootfd.ok());
    RunOverrides o;
    o.cmd = {"sh", "-c", std::string("echo hello from ") + id + " > /tmp/out; cat /tmp/out; id -u; echo $HOME"};
    o.hostname = id;
    auto config = runtime_config(base, img.config, o, rootfd->get(), rootfs);
    REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.error().message()));
    std::string bundle = r.dir / (std::string("bundle-") + id);
    REQUIRE(berth::mkdir_all(bundle, 0700).ok());
    REQUIRE(berth::write_file(bundle + "/config.json", *config, true).ok());
    auto out = run({runtime_binary(), "--root", r.dir / "state", "run", "--bundle", bundle, id});
    CHECK(out.status == 0);
    CHECK(out.out == std::string("hello from ") + id + "\n0\n/root\n");
    // The write went to this container's upper dir, not to the shared layers.
    CHECK(berth::path_exists(r.dir / (std::string("containers/") + id + "/upper/tmp/out")));
  }
  for (const auto& c : *chain) CHECK_FALSE(berth::path_exists(r.snaps.layer_dir(c) + "/tmp/out"));
}

TEST_CASE("image: a merged overlay rootfs equals umoci's unpack of the same image") {
  if (!berth::path_exists("/usr/bin/umoci")) {
    MESSAGE("umoci is not installed");
    return;
  }
  std::string busybox = berth::read_file("/bin/busybox").value();
  auto owned = [](uid_t u, gid_t g) {
    return [=](archive_entry* e) {
      archive_entry_set_uid(e, u);
      archive_entry_set_gid(e, g);
    };
  };
  LayerBuilder l1;
  l1.dir("bin", 0755)
      .file("bin/busybox", busybox, 0755)
      .symlink("bin/sh", "busybox")
      .dir("etc", 0755)
      .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
      .file("etc/gone", "removed by the next layer\n")
      .dir("data", 0750, owned(1000, 1000))
      .file("data/old1", "old\n", 0640, owned(1000, 1000))
      .file("data/old2", "old\n")
      .file("srv/original", "linked\n", 0600)
      .hardlink("srv/link", "srv/original")
      .file("srv/setuid", "s", 04755)
      .file("srv/xattr", "x", 0644, [](archive_entry* e) { archive_entry_xattr_add_entry(e, "user.berth", "yes", 3); })
      .file("srv/ping", "p", 0755, [](archive_entry* e) {
        std::string cap = net_bind_fcap();
        archive_entry_xattr_add_entry(e, "security.capability", cap.data(), cap.size());
      })
      .fifo("srv/fifo")
      .device("srv/null", false, 1, 3, 0666)
      .dir("tmp", 01777);
  LayerBuilder l2;
  l2.dir("etc", 0755)
      .file("etc/.wh.gone", "")
      .dir("data", 0750, owned(1000, 1000))
      .file("data/.wh..wh..opq", "")
      .file("data/new", "new\n", 0644, owned(1000, 1000))
      .file("etc/motd", "layer two\n")
      .file("srv/original", "changed\n", 0600);
  TempDir work;
  std::string layout = write_layout(work / "layout", {l1.finish(), l2.finish()});

  // Through a real registry, as a user gets it: pushed by skopeo, pulled by berth.
  DataRoot r;
  ResolvedImage img;
  std::unique_ptr<TestRegistry> registry;
  if (have_registry_tools()) {
    registry = std::make_unique<TestRegistry>();
    REQUIRE_MESSAGE(registry->ok(), registry->error());
    REQUIRE(registry->push(layout, "latest", "compare:v1").status == 0);
    auto ref = parse_reference(registry->host() + "/compare:v1");
    REQUIRE(ref.ok());
    auto pulled = pull(*ref, r.store, r.index);
    REQUIRE_MESSAGE(pulled.ok(), (pulled.ok() ? "" : pulled.error().message()));
    auto resolved = resolve_image(r.store, pulled->target, host_platform());
    REQUIRE(resolved.ok());
    img = std::move(*resolved);
  } else {
    MESSAGE("docker-registry or skopeo missing: the image is imported from its layout instead");
    img = import_and_resolve(r, layout, "compare");
  }
  auto chain = r.snaps.prepare(r.store, img);
  REQUIRE_MESSAGE(chain.ok(), (chain.ok() ? "" : chain.error().message()));
  std::string merged = r.mount_rootfs(*chain, "cmp");

  auto u = run({"umoci", "unpack", "--image", layout + ":latest", work / "umoci"});
  REQUIRE_MESSAGE(u.status == 0, u.err);
  auto ours = walk(merged);
  auto theirs = walk(work / "umoci/rootfs");
  // What the layers say, seen through the overlay.
  CHECK(ours.count("etc/gone") == 0);
  CHECK(ours.count("data/old1") == 0);
  CHECK(ours.count("data/new") == 1);
  CHECK(ours.at("srv/ping").xattrs.count("security.capability") == 1);
  CHECK(ours.at("srv/xattr").xattrs.at("user.berth") == "yes");
  CHECK(ours.at("srv/null").content == "1:3");
  CHECK(ours.at("data").uid == 1000);
  CHECK(ours.at("srv/setuid").mode == 04755);
  // And the same as umoci's, entry by entry.
  for (const auto& [path, node] : theirs) {
    INFO("path: ", path);
    REQUIRE(ours.count(path) == 1);
    CHECK(ours.at(path).type == node.type);
    CHECK(ours.at(path).mode == node.mode);
    CHECK(ours.at(path).uid == node.uid);
    CHECK(ours.at(path).gid == node.gid);
    CHECK(ours.at(path).content == node.content);
    CHECK(ours.at(path).xattrs == node.xattrs);
  }
  CHECK(ours.size() == theirs.size());
}

TEST_CASE("image: a layer whose content does not match the config's diff ID is not kept") {
  LayerBuilder l1;
  l1.file("a", "one\n");
  LayerBuilder other;
  other.file("a", "two\n");
  TempDir work;
  std::string layout = write_layout(work / "layout", {l1.finish()});
  // The config now claims another diff ID for the same blob.
  DataRoot r;
  auto img = import_and_resolve(r, layout, "liar");
  img.config.diff_ids[0] = Digest::of(other.finish());
  auto chain = r.snaps.prepare(r.store, img);
  REQUIRE_FALSE(chain.ok());
  CHECK(contains(chain.error().message(), "diff ID mismatch"));
  CHECK(r.snaps.list().value().empty());
  CHECK(count_entries(r.dir / "root/snapshots") == 0);
}
