#include "image/import.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/path_safety.hpp"
#include "common/time.hpp"
#include "image/reference.hpp"

namespace berth::image {

using nlohmann::json;

namespace {

constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

// Copies one file of the layout (beneath its root) into the store,
// verifying digest and size.
Status copy_blob(int layout_fd, std::string_view rel, const Descriptor& d, const ContentStore& store) {
  if (store.has(d.digest)) return {};
  auto in = open_in_root(layout_fd, rel, O_RDONLY);
  if (!in) return std::move(in).error().wrap(cat("open ", rel));
  auto w = store.writer(d.digest, d.size);
  if (!w) return std::move(w).error();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in->get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read ", rel);
    }
    if (n == 0) break;
    BERTH_TRY(w->write(buf, static_cast<size_t>(n)));
  }
  return w->commit();
}

Status copy_layout_blob(int layout_fd, const Descriptor& d, const ContentStore& store) {
  return copy_blob(layout_fd, cat("blobs/sha256/", d.digest.hex()), d, store);
}

Result<std::string> read_in_root(int root_fd, std::string_view rel) {
  auto fd = open_in_root(root_fd, rel, O_RDONLY);
  if (!fd) return std::move(fd).error().wrap(cat("open ", rel));
  auto text = read_fd(fd->get());
  if (!text) return std::move(text).error().wrap(cat("read ", rel));
  return text;
}

// Copies what `top` needs for `platform`: nested indexes, the chosen
// manifest, its config and layers.
Status copy_image(int layout_fd, const Descriptor& top, const Platform& platform, const ContentStore& store,
                  int depth = 0) {
  if (depth > 4) return make_error("index ", top.digest.str(), ": nested too deeply");
  BERTH_TRY(copy_layout_blob(layout_fd, top, store));
  auto text = store.read(top.digest);
  if (!text) return std::move(text).error();
  if (media::is_index(top.media_type)) {
    auto idx = parse_index(*text);
    if (!idx) return std::move(idx).error().wrap(top.digest.str());
    if (idx->manifests.size() == 1 && media::is_index(idx->manifests[0].media_type))
      return copy_image(layout_fd, idx->manifests[0], platform, store, depth + 1);
    auto sel = select_platform(*idx, platform);
    if (!sel) return std::move(sel).error().wrap(top.digest.str());
    return copy_image(layout_fd, *sel, platform, store, depth + 1);
  }
  if (!media::is_manifest(top.media_type)) return make_error(top.digest.str(), ": unsupported media type \"", top.media_type, "\"");
  auto m = parse_manifest(*text);
  if (!m) return std::move(m).error().wrap(top.digest.str());
  BERTH_TRY(copy_layout_blob(layout_fd, m->config, store));
  for (const auto& l : m->layers) BERTH_TRY(copy_layout_blob(layout_fd, l, store));
  return {};
}

// The name an image of the layout is stored under.
Result<std::string> layout_image_name(const Descriptor& d, const ImportOptions& o, size_t count) {
  std::string ann;
  if (auto it = d.annotations.find(std::string(kContainerdNameAnnotation)); it != d.annotations.end()) ann = it->second;
  if (ann.empty())
    if (auto it = d.annotations.find(std::string(kRefNameAnnotation)); it != d.annotations.end()) ann = it->second;
  // A full reference in the annotation names the image by itself.
  if (!ann.empty() && (ann.find('/') != std::string::npos || ann.find(':') != std::string::npos) && o.name.empty()) {
    auto r = parse_reference(ann);
    if (r) return r->str();
  }
  if (o.name.empty()) {
    if (!ann.empty()) return make_error("the layout names an image only by \"", ann, "\": give a name to import it as");
    return d.digest.str();  // no name at all: known by its digest
  }
  auto r = parse_reference(o.name);
  if (!r) return std::move(r).error();
  // A tag-only annotation ("latest", "v1") tags the given repository, unless
  // the name already carries its own tag and only one image is imported.
  bool name_has_tag = o.name.find(':', o.name.rfind('/') == std::string::npos ? 0 : o.name.rfind('/')) != std::string::npos;
  if (!ann.empty() && ann.find('/') == std::string::npos && ann.find(':') == std::string::npos && !(name_has_tag && count == 1))
    r->tag = ann;
  return r->str();
}

Result<std::vector<ImageRecord>> import_layout_fd(int layout_fd, const std::string& what, const ContentStore& store,
                                                  const ImageIndex& index, const ImportOptions& o) {
  auto layout = read_in_root(layout_fd, "oci-layout");
  if (!layout) return std::move(layout).error().wrap(cat(what, ": not an OCI image layout"));
  json lj = json::parse(*layout, nullptr, false);
  if (lj.is_discarded() || !lj.is_object() || !lj.contains("imageLayoutVersion"))
    return make_error(what, ": oci-layout: no imageLayoutVersion");
  auto text = read_in_root(layout_fd, "index.json");
  if (!text) return std::move(text).error().wrap(what);
  auto idx = parse_index(*text);
  if (!idx) return std::move(idx).error().wrap(cat(what, ": index.json"));
  if (idx->manifests.empty()) return make_error(what, ": index.json lists no images");
  std::vector<ImageRecord> out;
  for (const auto& d : idx->manifests) {
    auto name = layout_image_name(d, o, idx->manifests.size());
    if (!name) return std::move(name).error().wrap(what);
    BERTH_TRY_CTX(copy_image(layout_fd, d, o.platform, store), cat(what, ": ", *name));
    Descriptor target = d;
    target.annotations.clear();
    target.platform.reset();
    out.push_back({std::move(*name), std::move(target), rfc3339_now()});
  }
  // Named only once every blob is in: a failed import leaves no name behind.
  for (const auto& r : out) BERTH_TRY(index.put(r));
  return out;
}

// --- archives ---

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// Unpacks the regular files, directories and symlinks of an image archive
// into `dir_fd`, each name resolved beneath it; anything else is skipped.
Status extract_archive(const std::string& path, int dir_fd) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return make_error("open ", path, ": ", archive_error_string(a.get()));
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return make_error("read ", path, ": ", archive_error_string(a.get()));
    std::string name = clean_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    if (name.starts_with("/")) name = name.substr(1);
    if (name.empty() || name == "." ) continue;
    if (name == ".." || name.starts_with("../")) return make_error(path, ": entry \"", name, "\" escapes the archive");
    auto type = archive_entry_filetype(e);
    std::string parent = name.rfind('/') == std::string::npos ? "." : name.substr(0, name.rfind('/'));
    std::string base = name.substr(name.rfind('/') + 1);
    auto pfd = mkdir_all_in_root(dir_fd, parent, 0700);
    if (!pfd) return std::move(pfd).error().wrap(cat(path, ": ", name));
    auto pdir = open_in_root(dir_fd, parent, O_RDONLY | O_DIRECTORY);
    if (!pdir) return std::move(pdir).error().wrap(cat(path, ": ", name));
    if (type == AE_IFDIR) {
      if (::mkdirat(pdir->get(), base.c_str(), 0700) < 0 && errno != EEXIST) return sys_error(path, ": mkdir ", name);
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      ::unlinkat(pdir->get(), base.c_str(), 0);
      if (!target || ::symlinkat(target, pdir->get(), base.c_str()) < 0) return sys_error(path, ": symlink ", name);
    } else if (type == AE_IFREG) {
      ::unlinkat(pdir->get(), base.c_str(), 0);
      UniqueFd out(::openat(pdir->get(), base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) return sys_error(path, ": create ", name);
      const void* buf;
      size_t size;
      la_int64_t off;
      for (;;) {
        int rr = archive_read_data_block(a.get(), &buf, &size, &off);
        if (rr == ARCHIVE_EOF) break;
        if (rr < ARCHIVE_WARN) return make_error("read ", path, ": ", name, ": ", archive_error_string(a.get()));
        if (::pwrite(out.get(), buf, size, off) != static_cast<ssize_t>(size)) return sys_error(path, ": write ", name);
      }
    }
  }
  return {};
}

// The media type of a docker-archive layer file, from its first bytes.
Result<std::string> sniff_layer(int fd) {
  unsigned char magic[4] = {};
  ssize_t n = ::pread(fd, magic, sizeof magic, 0);
  if (n < 0) return sys_error("read layer");
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return std::string(media::kDockerLayerGzip);
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return std::string(media::kOciLayerZstd);
  return std::string(media::kDockerLayer);
}

// Hashes a file of the extracted archive and stores it; returns its descriptor.
Result<Descriptor> store_file(int root_fd, const std::string& rel, std::string media_type, const ContentStore& store) {
  auto fd = open_in_root(root_fd, rel, O_RDONLY);
  if (!fd) return std::move(fd).error().wrap(cat("open ", rel));
  if (media_type.empty()) {
    auto mt = sniff_layer(fd->get());
    if (!mt) return std::move(mt).error().wrap(rel);
    media_type = std::move(*mt);
  }
  Hasher h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0) return sys_error("read ", rel);
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
  }
  Descriptor d{std::move(media_type), h.finish(), static_cast<int64_t>(h.bytes()), {}, {}, {}};
  BERTH_TRY(copy_blob(root_fd, rel, d, store));
  return d;
}

Result<std::vector<ImageRecord>> import_docker_archive(int root_fd, const std::string& what, const ContentStore& store,
                                                       const ImageIndex& index, const ImportOptions& o) {
  auto text = read_in_root(root_fd, "manifest.json");
  if (!text) return std::move(text).error().wrap(what);
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty()) return make_error(what, ": manifest.json: not a list of images");
  std::vector<ImageRecord> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& img = j[i];
    std::string where = cat(what, ": manifest.json[", i, "]");
    if (!img.is_object() || !img.contains("Config") || !img["Config"].is_string() || !img.contains("Layers") ||
        !img["Layers"].is_array())
      return make_error(where, ": needs Config and Layers");
    auto cfg = store_file(root_fd, img["Config"].get<std::string>(), std::string(media::kDockerConfig), store);
    if (!cfg) return std::move(cfg).error().wrap(where);
    json m = {{"schemaVersion", 2},
              {"mediaType", media::kDockerManifest},
              {"config", {{"mediaType", cfg->media_type}, {"digest", cfg->digest.str()}, {"size", cfg->size}}},
              {"layers", json::array()}};
    for (const auto& l : img["Layers"]) {
      if (!l.is_string()) return make_error(where, ".Layers: must be strings");
      auto ld = store_file(root_fd, l.get<std::string>(), "", store);
      if (!ld) return std::move(ld).error().wrap(where);
      m["layers"].push_back({{"mediaType", ld->media_type}, {"digest", ld->digest.str()}, {"size", ld->size}});
    }
    // The config must describe these layers, or the image cannot be run.
    auto ctext = store.read(cfg->digest);
    if (!ctext) return std::move(ctext).error();
    auto parsed = parse_image_config(*ctext);
    if (!parsed) return std::move(parsed).error().wrap(where);
    if (parsed->diff_ids.size() != m["layers"].size())
      return make_error(where, ": ", m["layers"].size(), " layers but the config has ", parsed->diff_ids.size(), " diff_ids");
    std::string mtext = m.dump();
    auto md = store.put(mtext);
    if (!md) return std::move(md).error();
    Descriptor target{std::string(media::kDockerManifest), *md, static_cast<int64_t>(mtext.size()), {}, {}, {}};
    std::vector<std::string> names;
    if (img.contains("RepoTags") && img["RepoTags"].is_array())
      for (const auto& t : img["RepoTags"])
        if (t.is_string()) names.push_back(t.get<std::string>());
    if (names.empty() && !o.name.empty()) names.push_back(o.name);
    if (names.empty()) out.push_back({cfg->digest.str(), target, rfc3339_now()});
    for (const auto& n : names) {
      auto r = parse_reference(n);
      if (!r) return std::move(r).error().wrap(where);
      out.push_back({r->str(), target, rfc3339_now()});
    }
  }
  for (const auto& r : out) BERTH_TRY(index.put(r));
  return out;
}

}  // namespace

Result<std::vector<ImageRecord>> import_oci_layout(const std::string& dir, const ContentStore& store,
                                                   const ImageIndex& index, const ImportOptions& options) {
  auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return std::move(fd).error().wrap("import");
  return import_layout_fd(fd->get(), dir, store, index, options);
}

Result<std::vector<ImageRecord>> import_archive(const std::string& tar_path, const ContentStore& store,
                                                const ImageIndex& index, const ImportOptions& options) {
  // Extracted next to the blobs (same filesystem), removed afterwards.
  std::string tmp = store.root() + "/ingest/import-XXXXXX";
  if (!::mkdtemp(tmp.data())) return sys_error("create a directory in ", store.root(), "/ingest");
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)remove_all(dir); }
  } cleanup{tmp};
  auto fd = open_file(tmp, O_RDONLY | O_DIRECTORY);
  if (!fd) return std::move(fd).error();
  BERTH_TRY_CTX(extract_archive(tar_path, fd->get()), cat("import ", tar_path));
  if (::faccessat(fd->get(), "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
      ::faccessat(fd->get(), "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return import_layout_fd(fd->get(), tar_path, store, index, options);
  if (::faccessat(fd->get(), "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return import_docker_archive(fd->get(), tar_path, store, index, options);
  return make_error("import ", tar_path, ": neither an oci-archive (oci-layout, index.json) nor a docker-archive (manifest.json)");
}

Result<bool> import_if_missing(const std::string& layout_dir, const std::string& name, const ContentStore& store,
                               const ImageIndex& index) {
  auto ref = parse_reference(name);
  if (!ref) return std::move(ref).error();
  auto have = index.get(ref->str());
  if (!have) return std::move(have).error();
  if (have->has_value()) return false;
  ImportOptions o;
  o.name = name;
  auto recs = import_oci_layout(layout_dir, store, index, o);
  if (!recs) return std::move(recs).error().wrap("import the built-in image");
  return true;
}

}  // namespace berth::image
