// berth-image: the image library from the command line. berthd runs it for
// every pull, load and unpack (with --json), so that the registry client,
// the archive readers and libcrypto never live in the daemon's memory;
// tests, the benchmarks and developers run it by hand.
//
//   berth-image [--root DIR] [--json] pull [--insecure-registry HOST]... [--no-unpack] REF
//   berth-image [--root DIR] [--json] import [--name REF] [--unpack] [--if-missing] PATH
//                                                         (OCI layout dir, oci-archive, docker-archive)
//   berth-image [--root DIR] [--json] unpack REF|ID       (snapshots for the image's layers)
//   berth-image [--root DIR] mount REF DIR                (an overlay rootfs of REF at DIR/rootfs)
//   berth-image [--root DIR] images
//   berth-image [--root DIR] prune
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/flags.hpp"
#include "common/strings.hpp"
#include "image/import.hpp"
#include "image/prune.hpp"
#include "image/reference.hpp"
#include "image/registry.hpp"
#include "image/snapshot.hpp"
#include "image/store.hpp"

namespace {

using namespace berth;
using namespace berth::image;

constexpr const char* kUsage =
    "usage: berth-image [--root DIR] [--json] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  pull [--insecure-registry HOST]... [--no-unpack] REF   pull from a registry and unpack\n"
    "  import [--name REF] [--unpack] [--if-missing] PATH\n"
    "                               import an OCI layout directory, oci-archive or docker-archive\n"
    "  unpack REF|ID                unpack the image's layers into snapshots\n"
    "  mount REF DIR                mount an overlay rootfs of REF at DIR/rootfs (upper, work in DIR)\n"
    "  images                       list the images\n"
    "  prune                        remove blobs and snapshots no image needs\n"
    "\n"
    "Global options:\n"
    "  --root DIR                   data root (default /var/lib/berth)\n"
    "  --json                       report progress and results as JSON lines on stdout\n"
    "                               (the interface berthd reads; see src/daemon/image_helper.hpp)\n";

using json = nlohmann::json;

// With --json every event is one line on stdout, flushed at once: berthd
// relays them to its client as they come.
bool json_mode = false;

void emit(const json& j) {
  std::string line = j.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

int fail(const Error& e) {
  if (json_mode) emit({{"error", e.message()}, {"errno", e.code()}});
  std::fprintf(stderr, "berth-image: %s\n", e.message().c_str());
  return 1;
}

struct Stores {
  ContentStore store;
  ImageIndex index;
  SnapshotStore snaps;
};

Result<Stores> open_stores(const std::string& root) {
  auto store = ContentStore::open(root);
  if (!store) return std::move(store).error();
  auto index = ImageIndex::open(root);
  if (!index) return std::move(index).error();
  auto snaps = SnapshotStore::open(root);
  if (!snaps) return std::move(snaps).error();
  return Stores{std::move(*store), std::move(*index), std::move(*snaps)};
}

// An image by reference, or by ID (its config digest, as berthd and docker
// show it) or manifest digest.
Result<ResolvedImage> find_image(const Stores& s, const std::string& name) {
  if (auto id = Digest::parse(name); id) {
    auto all = s.index.list();
    if (!all) return std::move(all).error();
    for (const auto& r : *all) {
      auto img = resolve_image(s.store, r.target, host_platform());
      if (img && (img->manifest_desc.digest == *id || r.target.digest == *id || img->manifest.config.digest == *id))
        return img;
    }
    return make_error("no such image: ", name);
  }
  auto ref = parse_reference(name);
  if (!ref) return std::move(ref).error();
  auto rec = s.index.get(ref->str());
  if (!rec) return std::move(rec).error();
  if (!rec->has_value()) return make_error("no such image: ", ref->familiar());
  return resolve_image(s.store, (*rec)->target, host_platform());
}

Result<std::vector<Digest>> unpack(const Stores& s, const std::string& name) {
  auto img = find_image(s, name);
  if (!img) return std::move(img).error();
  return s.snaps.prepare(s.store, *img, {}, [&](size_t i) {
    const Digest& layer = img->manifest.layers[i].digest;
    if (json_mode)
      emit({{"extracting", layer.str()}});
    else
      std::fprintf(stderr, "unpacking layer %zu/%zu %s\n", i + 1, img->manifest.layers.size(), layer.str().c_str());
  });
}

const char* phase_name(PullProgress::Phase p) {
  switch (p) {
    case PullProgress::Phase::Waiting: return "waiting";
    case PullProgress::Phase::Downloading: return "downloading";
    case PullProgress::Phase::Verifying: return "verifying";
    case PullProgress::Phase::Done: return "done";
    case PullProgress::Phase::Exists: return "exists";
  }
  return "?";
}

// Pull progress as JSON lines: every change of phase, and downloads at most
// every 100 ms per blob (and at their end), which is as often as a client
// redraws.
class JsonProgress {
 public:
  void operator()(const PullProgress& p) {
    auto now = std::chrono::steady_clock::now();
    auto& [phase, last] = seen_[p.digest];
    if (p.phase == PullProgress::Phase::Downloading && phase == p.phase && p.done != p.total &&
        now - last < std::chrono::milliseconds(100))
      return;
    phase = p.phase;
    last = now;
    emit({{"progress",
           {{"digest", p.digest.str()}, {"media_type", p.media_type}, {"phase", phase_name(p.phase)},
            {"done", p.done}, {"total", p.total}}}});
  }

 private:
  std::map<Digest, std::pair<PullProgress::Phase, std::chrono::steady_clock::time_point>> seen_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string root = "/var/lib/berth";
  cli::FlagSet global;
  global.add_string("root", 0, &root, "DIR", "data root");
  global.add_bool("json", 0, &json_mode, "JSON lines on stdout");
  bool help = false;
  auto rest = global.parse(args, true, &help);
  if (!rest) return fail(rest.error());
  if (help || rest->empty()) {
    std::fputs(kUsage, help ? stdout : stderr);
    return help ? 0 : 2;
  }
  std::string cmd = rest->front();
  std::vector<std::string> cargs(rest->begin() + 1, rest->end());

  cli::FlagSet flags;
  std::vector<std::string> insecure;
  std::string name;
  bool no_unpack = false;
  bool do_unpack = false;
  bool if_missing = false;
  if (cmd == "pull") {
    flags.add_list("insecure-registry", 0, &insecure, "HOST", "reach HOST over plain HTTP");
    flags.add_bool("no-unpack", 0, &no_unpack, "store the blobs only");
  } else if (cmd == "import") {
    flags.add_string("name", 0, &name, "REF", "the name to store the image under");
    flags.add_bool("unpack", 0, &do_unpack, "also unpack the imported images");
    flags.add_bool("if-missing", 0, &if_missing, "do nothing when an image named --name exists");
  }
  auto pos = flags.parse(cargs, false, &help);
  if (!pos) return fail(pos.error());
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto want = [&](size_t n) {
    if (pos->size() == n) return true;
    std::fprintf(stderr, "berth-image %s: want %zu argument%s\n%s", cmd.c_str(), n, n == 1 ? "" : "s", kUsage);
    return false;
  };

  auto stores = open_stores(root);
  if (!stores) return fail(stores.error());

  if (cmd == "pull") {
    if (!want(1)) return 2;
    auto ref = parse_reference((*pos)[0]);
    if (!ref) return fail(ref.error());
    PullOptions o;
    o.insecure_registries = insecure;
    bool tty = ::isatty(STDERR_FILENO);
    if (json_mode) o.progress = JsonProgress();
    else o.progress = [&](const PullProgress& p) {
      if (p.phase == PullProgress::Phase::Downloading && !tty) return;  // lines only for changes of phase
      std::fprintf(stderr, "%s%s: %s %lld/%lld%s", tty ? "\r" : "", p.digest.hex().substr(0, 12).c_str(),
                   phase_name(p.phase), static_cast<long long>(p.done), static_cast<long long>(p.total),
                   tty && p.phase == PullProgress::Phase::Downloading ? "" : "\n");
    };
    auto r = pull(*ref, stores->store, stores->index, o);
    if (!r) return fail(r.error());
    if (!no_unpack)
      if (auto c = unpack(*stores, ref->str()); !c) return fail(c.error());
    if (json_mode)
      emit({{"pulled", {{"name", ref->str()}, {"digest", r->target.digest.str()}}}});
    else
      std::printf("%s\n%s\n", ref->str().c_str(), r->target.digest.str().c_str());
    return 0;
  }
  if (cmd == "import") {
    if (!want(1)) return 2;
    struct stat st {};
    if (::stat((*pos)[0].c_str(), &st) < 0) return fail(sys_error("import ", (*pos)[0]));
    if (if_missing) {
      if (name.empty()) return fail(make_error("import --if-missing needs --name"));
      auto imported = import_if_missing((*pos)[0], name, stores->store, stores->index);
      if (!imported) return fail(imported.error());
      if (*imported && do_unpack)
        if (auto c = unpack(*stores, name); !c) return fail(c.error());
      return 0;
    }
    ImportOptions o;
    o.name = name;
    auto recs = S_ISDIR(st.st_mode) ? import_oci_layout((*pos)[0], stores->store, stores->index, o)
                                    : import_archive((*pos)[0], stores->store, stores->index, o);
    if (!recs) return fail(recs.error());
    for (const auto& r : *recs) {
      if (do_unpack)
        if (auto c = unpack(*stores, r.name.empty() ? r.target.digest.str() : r.name); !c) return fail(c.error());
      if (json_mode)
        emit({{"loaded", {{"name", r.name}, {"digest", r.target.digest.str()}}}});
      else
        std::printf("%s %s\n", r.name.c_str(), r.target.digest.str().c_str());
    }
    return 0;
  }
  if (cmd == "unpack") {
    if (!want(1)) return 2;
    auto chain = unpack(*stores, (*pos)[0]);
    if (!chain) return fail(chain.error());
    if (json_mode) {
      json dirs = json::array();
      for (const auto& c : *chain) dirs.push_back(stores->snaps.layer_dir(c));
      emit({{"unpacked", dirs}});
    } else {
      for (const auto& c : *chain) std::printf("%s\n", stores->snaps.layer_dir(c).c_str());
    }
    return 0;
  }
  if (cmd == "mount") {
    if (!want(2)) return 2;
    auto chain = unpack(*stores, (*pos)[0]);
    if (!chain) return fail(chain.error());
    const std::string& dir = (*pos)[1];
    auto st = mount_overlay(stores->snaps, *chain, dir + "/upper", dir + "/work", dir + "/rootfs");
    if (!st) return fail(st.error());
    std::printf("%s/rootfs\n", dir.c_str());
    return 0;
  }
  if (cmd == "images") {
    if (!want(0)) return 2;
    auto all = stores->index.list();
    if (!all) return fail(all.error());
    for (const auto& r : *all) std::printf("%s\t%s\n", r.name.c_str(), r.target.digest.str().c_str());
    return 0;
  }
  if (cmd == "prune") {
    if (!want(0)) return 2;
    auto r = prune(stores->store, stores->index, stores->snaps);
    if (!r) return fail(r.error());
    std::printf("removed %zu blobs (%llu bytes) and %zu snapshots\n", r->blobs_removed,
                static_cast<unsigned long long>(r->bytes_freed), r->snapshots_removed);
    return 0;
  }
  std::fprintf(stderr, "berth-image: unknown command \"%s\"\n%s", cmd.c_str(), kUsage);
  return 2;
}
