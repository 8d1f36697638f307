// berth-image: the image library from the command line, for tests, the
// benchmarks and developers until berthd puts it behind `berth pull`.
//
//   berth-image [--root DIR] pull [--insecure-registry HOST]... [--no-unpack] REF
//   berth-image [--root DIR] import [--name REF] PATH     (OCI layout dir, oci-archive, docker-archive)
//   berth-image [--root DIR] unpack REF                   (snapshots for REF's layers)
//   berth-image [--root DIR] mount REF DIR                (an overlay rootfs of REF at DIR/rootfs)
//   berth-image [--root DIR] images
//   berth-image [--root DIR] prune
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

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
    "usage: berth-image [--root DIR] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  pull [--insecure-registry HOST]... [--no-unpack] REF   pull from a registry and unpack\n"
    "  import [--name REF] PATH     import an OCI layout directory, oci-archive or docker-archive\n"
    "  unpack REF                   unpack REF's layers into snapshots\n"
    "  mount REF DIR                mount an overlay rootfs of REF at DIR/rootfs (upper, work in DIR)\n"
    "  images                       list the images\n"
    "  prune                        remove blobs and snapshots no image needs\n"
    "\n"
    "Global options:\n"
    "  --root DIR                   data root (default /var/lib/berth)\n";

int fail(const Error& e) {
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

Result<ResolvedImage> find_image(const Stores& s, const std::string& name) {
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
    std::fprintf(stderr, "unpacking layer %zu/%zu %s\n", i + 1, img->manifest.layers.size(),
                 img->manifest.layers[i].digest.str().c_str());
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string root = "/var/lib/berth";
  cli::FlagSet global;
  global.add_string("root", 0, &root, "DIR", "data root");
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
  if (cmd == "pull") {
    flags.add_list("insecure-registry", 0, &insecure, "HOST", "reach HOST over plain HTTP");
    flags.add_bool("no-unpack", 0, &no_unpack, "store the blobs only");
  } else if (cmd == "import") {
    flags.add_string("name", 0, &name, "REF", "the name to store the image under");
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
    o.progress = [&](const PullProgress& p) {
      if (p.phase == PullProgress::Phase::Downloading && !tty) return;  // lines only for changes of phase
      std::fprintf(stderr, "%s%s: %s %lld/%lld%s", tty ? "\r" : "", p.digest.hex().substr(0, 12).c_str(),
                   phase_name(p.phase), static_cast<long long>(p.done), static_cast<long long>(p.total),
                   tty && p.phase == PullProgress::Phase::Downloading ? "" : "\n");
    };
    auto r = pull(*ref, stores->store, stores->index, o);
    if (!r) return fail(r.error());
    if (!no_unpack)
      if (auto c = unpack(*stores, ref->str()); !c) return fail(c.error());
    std::printf("%s\n%s\n", ref->str().c_str(), r->target.digest.str().c_str());
    return 0;
  }
  if (cmd == "import") {
    if (!want(1)) return 2;
    struct stat st {};
    if (::stat((*pos)[0].c_str(), &st) < 0) return fail(sys_error("import ", (*pos)[0]));
    ImportOptions o;
    o.name = name;
    auto recs = S_ISDIR(st.st_mode) ? import_oci_layout((*pos)[0], stores->store, stores->index, o)
                                    : import_archive((*pos)[0], stores->store, stores->index, o);
    if (!recs) return fail(recs.error());
    for (const auto& r : *recs) std::printf("%s %s\n", r.name.c_str(), r.target.digest.str().c_str());
    return 0;
  }
  if (cmd == "unpack") {
    if (!want(1)) return 2;
    auto chain = unpack(*stores, (*pos)[0]);
    if (!chain) return fail(chain.error());
    for (const auto& c : *chain) std::printf("%s\n", stores->snaps.layer_dir(c).c_str());
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
