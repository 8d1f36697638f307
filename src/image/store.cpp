#include "image/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"

namespace berth::image {

using nlohmann::json;

namespace {

constexpr const char* kImagesFile = "images.json";

}  // namespace

// --- ContentStore ---

Result<ContentStore> ContentStore::open(const std::string& root) {
  BERTH_TRY_CTX(mkdir_all(root + kBlobsDir, 0700), cat("create content store ", root));
  BERTH_TRY_CTX(mkdir_all(root + kIngestDir, 0700), cat("create content store ", root));
  // Leftovers of writers that died; a live writer in another process keeps
  // its file open, so only files older than a day are swept.
  if (DIR* d = ::opendir((root + kIngestDir).c_str())) {
    time_t cutoff = ::time(nullptr) - 24 * 3600;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime < cutoff)
        ::unlinkat(::dirfd(d), e->d_name, 0);
    }
    ::closedir(d);
  }
  return ContentStore(root);
}

std::string ContentStore::blob_path(const Digest& d) const { return cat(root_, kBlobsDir, "/", d.hex()); }

bool ContentStore::has(const Digest& d) const { return !d.empty() && ::access(blob_path(d).c_str(), F_OK) == 0; }

Result<int64_t> ContentStore::size(const Digest& d) const {
  struct stat st {};
  if (::stat(blob_path(d).c_str(), &st) < 0) return sys_error("blob ", d.str());
  return static_cast<int64_t>(st.st_size);
}

Result<std::string> ContentStore::read(const Digest& d) const {
  auto text = read_file(blob_path(d));
  if (!text) return std::move(text).error().wrap(cat("read blob ", d.str()));
  return text;
}

Result<UniqueFd> ContentStore::open_blob(const Digest& d) const {
  auto fd = open_file(blob_path(d), O_RDONLY);
  if (!fd) return std::move(fd).error().wrap(cat("open blob ", d.str()));
  return fd;
}

Status ContentStore::remove(const Digest& d) const {
  if (::unlink(blob_path(d).c_str()) < 0 && errno != ENOENT) return sys_error("remove blob ", d.str());
  return {};
}

Result<std::vector<Digest>> ContentStore::list() const {
  std::vector<Digest> out;
  std::string dir = root_ + kBlobsDir;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error("list ", dir);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (auto dg = Digest::parse(cat("sha256:", e->d_name))) out.push_back(std::move(*dg));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// --- ImageIndex ---

namespace {

json descriptor_json(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
  if (d.platform) {
    j["platform"] = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
    if (!d.platform->variant.empty()) j["platform"]["variant"] = d.platform->variant;
  }
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  return j;
}

// The index file's lock: held for one read-modify-write.
class IndexLock {
 public:
  static Result<IndexLock> take(const std::string& root) {
    auto fd = open_file(root + "/lock", O_RDWR | O_CREAT, 0600);
    if (!fd) return std::move(fd).error().wrap("lock the image index");
    while (::flock(fd->get(), LOCK_EX) < 0)
      if (errno != EINTR) return sys_error("lock the image index ", root, "/lock");
    return IndexLock(std::move(*fd));
  }

 private:
  explicit IndexLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing releases the lock
};

Result<std::vector<ImageRecord>> load_index(const std::string& root) {
  std::vector<ImageRecord> out;
  std::string path = root + "/" + kImagesFile;
  if (!path_exists(path)) return out;
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("images") || !j["images"].is_array())
    return make_error(path, ": not an image index");
  for (const auto& e : j["images"]) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("target"))
      return make_error(path, ": malformed entry");
    auto d = parse_descriptor(e["target"].dump(), "target");
    if (!d) return std::move(d).error().wrap(path);
    out.push_back({e["name"].get<std::string>(), std::move(*d), e.value("created", std::string())});
  }
  return out;
}

Status save_index(const std::string& root, const std::vector<ImageRecord>& recs) {
  json arr = json::array();
  for (const auto& r : recs) arr.push_back({{"name", r.name}, {"target", descriptor_json(r.target)}, {"created", r.created}});
  json j = {{"images", arr}};
  auto dir = open_file(root, O_RDONLY | O_DIRECTORY);
  if (!dir) return std::move(dir).error();
  return write_file_atomic(dir->get(), kImagesFile, j.dump(2) + "\n", 0600);
}

}  // namespace

Result<ImageIndex> ImageIndex::open(const std::string& root) {
  BERTH_TRY_CTX(mkdir_all(root, 0700), cat("create image index ", root));
  return ImageIndex(root);
}

Result<std::vector<ImageRecord>> ImageIndex::list() const {
  auto lock = IndexLock::take(root_);
  if (!lock) return std::move(lock).error();
  return load_index(root_);
}

Result<std::optional<ImageRecord>> ImageIndex::get(std::string_view name) const {
  auto all = list();
  if (!all) return std::move(all).error();
  for (auto& r : *all)
    if (r.name == name) return std::optional<ImageRecord>(std::move(r));
  return std::optional<ImageRecord>();
}

Status ImageIndex::put(const ImageRecord& rec) const {
  auto lock = IndexLock::take(root_);
  if (!lock) return std::move(lock).error();
  auto all = load_index(root_);
  if (!all) return std::move(all).error();
  std::erase_if(*all, [&](const ImageRecord& r) { return r.name == rec.name; });
  all->push_back(rec);
  std::sort(all->begin(), all->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return save_index(root_, *all);
}

Status ImageIndex::remove(std::string_view name) const {
  auto lock = IndexLock::take(root_);
  if (!lock) return std::move(lock).error();
  auto all = load_index(root_);
  if (!all) return std::move(all).error();
  auto n = std::erase_if(*all, [&](const ImageRecord& r) { return r.name == name; });
  if (n == 0) return make_error("no such image: ", name);
  return save_index(root_, *all);
}

// --- walking images ---

Result<std::vector<Descriptor>> reachable_blobs(const ContentStore& store, const Descriptor& top) {
  std::vector<Descriptor> out;
  std::vector<Descriptor> todo{top};
  while (!todo.empty()) {
    Descriptor d = std::move(todo.back());
    todo.pop_back();
    out.push_back(d);
    if (!store.has(d.digest)) continue;
    if (media::is_index(d.media_type)) {
      auto text = store.read(d.digest);
      if (!text) return std::move(text).error();
      auto idx = parse_index(*text);
      if (!idx) return std::move(idx).error().wrap(d.digest.str());
      for (auto it = idx->manifests.rbegin(); it != idx->manifests.rend(); ++it) todo.push_back(*it);
    } else if (media::is_manifest(d.media_type)) {
      auto text = store.read(d.digest);
      if (!text) return std::move(text).error();
      auto m = parse_manifest(*text);
      if (!m) return std::move(m).error().wrap(d.digest.str());
      for (auto it = m->layers.rbegin(); it != m->layers.rend(); ++it) todo.push_back(*it);
      todo.push_back(m->config);
    }
  }
  return out;
}

Result<ResolvedImage> resolve_image(const ContentStore& store, const Descriptor& top, const Platform& platform) {
  Descriptor d = top;
  // Nested indexes are allowed, a few levels deep.
  for (int depth = 0; media::is_index(d.media_type); ++depth) {
    if (depth == 4) return make_error("index ", top.digest.str(), ": nested too deeply");
    auto text = store.read(d.digest);
    if (!text) return std::move(text).error();
    auto idx = parse_index(*text);
    if (!idx) return std::move(idx).error().wrap(d.digest.str());
    // An OCI layout's index may point at a further index without platforms.
    if (idx->manifests.size() == 1 && media::is_index(idx->manifests[0].media_type)) {
      d = idx->manifests[0];
      continue;
    }
    auto sel = select_platform(*idx, platform);
    if (!sel) return std::move(sel).error().wrap(d.digest.str());
    d = std::move(*sel);
  }
  if (!media::is_manifest(d.media_type)) return make_error(d.digest.str(), ": not a manifest (", d.media_type, ")");
  auto text = store.read(d.digest);
  if (!text) return std::move(text).error();
  auto m = parse_manifest(*text);
  if (!m) return std::move(m).error().wrap(d.digest.str());
  auto ctext = store.read(m->config.digest);
  if (!ctext) return std::move(ctext).error();
  auto cfg = parse_image_config(*ctext);
  if (!cfg) return std::move(cfg).error().wrap(m->config.digest.str());
  if (cfg->diff_ids.size() != m->layers.size())
    return make_error(d.digest.str(), ": the manifest has ", m->layers.size(), " layers but the config ",
                      cfg->diff_ids.size(), " diff_ids");
  return ResolvedImage{std::move(d), std::move(*m), std::move(*cfg)};
}

}  // namespace berth::image
