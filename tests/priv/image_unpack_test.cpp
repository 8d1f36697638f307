// Layer unpacking as root: whiteouts and opaque directories in overlayfs's
// form, owners, device nodes, trusted xattrs and file capabilities kept; and
// hostile layers, each refused or contained, with the sentinel directory
// beside the target checked to be untouched.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/fs.hpp"
#include "image/unpack.hpp"
#include "layer_builder.hpp"
#include "test_support.hpp"

using namespace berth;
using namespace berth::image;
using namespace berth::test;

namespace {

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path);
  return st;
}

std::string xattr_of(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

// security.capability, VFS_CAP_REVISION_2 with the effective flag:
// cap_net_bind_service (10) permitted and effective.
std::string net_bind_capability() {
  uint32_t words[5] = {0x02000001, 1u << 10, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(words), sizeof words);
}

}  // namespace

TEST_CASE("unpack: whiteouts and opaque directories take overlayfs's form") {
  UnpackScratch s;
  LayerBuilder b;
  b.dir("etc")
      .file("etc/.wh.passwd", "", 0644,
            [](archive_entry* e) {
              archive_entry_set_uid(e, 7);
              archive_entry_set_gid(e, 8);
            })
      .file("etc/.wh..wh..opq", "")
      .dir("var/cache")
      .file("var/cache/.wh..wh..opq", "")
      .file(".wh.home", "");
  auto r = s.unpack(compress(b.finish(), Compression::gzip));
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  for (const char* name : {"etc/passwd", "home"}) {
    auto st = lstat_of(s.at(name));
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == makedev(0, 0));
  }
  CHECK(lstat_of(s.at("etc/passwd")).st_uid == 7);
  CHECK(lstat_of(s.at("etc/passwd")).st_gid == 8);
  CHECK(xattr_of(s.at("etc"), "trusted.overlay.opaque") == "y");
  CHECK(xattr_of(s.at("var/cache"), "trusted.overlay.opaque") == "y");
  CHECK(xattr_of(s.at("var"), "trusted.overlay.opaque") == "<none>");
  CHECK(count_entries(s.at("etc")) == 1);
}

TEST_CASE("unpack: owners, devices, fifos, xattrs and file capabilities are kept") {
  UnpackScratch s;
  std::string cap = net_bind_capability();
  auto owned = [](uid_t uid, gid_t gid) {
    return [=](archive_entry* e) {
      archive_entry_set_uid(e, uid);
      archive_entry_set_gid(e, gid);
    };
  };
  LayerBuilder b;
  b.dir("usr/bin", 0755, owned(0, 0))
      // setuid survives the chown that follows creation.
      .file("usr/bin/su", "su", 04755, owned(0, 0))
      .file("usr/bin/sgid", "sg", 02755, owned(1234, 5678))
      .file("usr/bin/ping", "ping", 0755,
            [&](archive_entry* e) {
              archive_entry_set_uid(e, 0);
              archive_entry_set_gid(e, 0);
              archive_entry_xattr_add_entry(e, "security.capability", cap.data(), cap.size());
              archive_entry_xattr_add_entry(e, "trusted.note", "t", 1);
            })
      .file("home/u/file", "mine", 0640, owned(1000, 1000))
      .dir("home/u", 0700, owned(1000, 1000))
      .device("dev/null", false, 1, 3, 0666)
      .device("dev/loop0", true, 7, 0, 0660)
      .fifo("run/fifo", 0600)
      .add("lnk", AE_IFLNK, 0777, "", [](archive_entry* e) {
        archive_entry_set_symlink(e, "usr/bin/su");
        archive_entry_set_uid(e, 42);
        archive_entry_set_gid(e, 43);
        archive_entry_set_mtime(e, 1'000'000'000, 0);
      });
  auto r = s.unpack(compress(b.finish(), Compression::zstd));
  REQUIRE_MESSAGE(r.ok(), error_of(r));

  auto su = lstat_of(s.at("usr/bin/su"));
  CHECK((su.st_mode & 07777) == 04755);
  auto sgid = lstat_of(s.at("usr/bin/sgid"));
  CHECK((sgid.st_mode & 07777) == 02755);
  CHECK(sgid.st_uid == 1234);
  CHECK(sgid.st_gid == 5678);
  CHECK(xattr_of(s.at("usr/bin/ping"), "security.capability") == cap);
  CHECK(xattr_of(s.at("usr/bin/ping"), "trusted.note") == "t");
  auto home = lstat_of(s.at("home/u"));
  CHECK(home.st_uid == 1000);
  CHECK((home.st_mode & 07777) == 0700);
  CHECK(lstat_of(s.at("home/u/file")).st_uid == 1000);

  auto null = lstat_of(s.at("dev/null"));
  CHECK(S_ISCHR(null.st_mode));
  CHECK(null.st_rdev == makedev(1, 3));
  CHECK((null.st_mode & 07777) == 0666);
  CHECK(null.st_mtim.tv_sec == 1'600'000'000);
  auto loop = lstat_of(s.at("dev/loop0"));
  CHECK(S_ISBLK(loop.st_mode));
  CHECK(loop.st_rdev == makedev(7, 0));
  CHECK((loop.st_mode & 07777) == 0660);
  CHECK(S_ISFIFO(lstat_of(s.at("run/fifo")).st_mode));

  auto lnk = lstat_of(s.at("lnk"));
  CHECK(S_ISLNK(lnk.st_mode));
  CHECK(lnk.st_uid == 42);
  CHECK(lnk.st_gid == 43);
  CHECK(lnk.st_mtim.tv_sec == 1'000'000'000);
  // The link's own owner changed, not its target's.
  CHECK(su.st_uid == 0);
}

TEST_CASE("unpack: hostile layers are refused or contained, nothing outside is touched") {
  // Built per case: some need the sentinel's absolute path.
  struct Case {
    const char* what;
    std::string (*layer)(const UnpackScratch&);
    const char* error;  // nullptr: contained, so the unpack succeeds
    // For a contained write of "owned": where inside the target it landed.
    std::string (*landed)(const UnpackScratch&) = nullptr;
  };
  const Case cases[] = {
      {"dot-dot name", [](const UnpackScratch&) { return raw_tar_entry("../sentinel/keep", '0', "owned") + raw_tar_end(); },
       "layer entry \"../sentinel/keep\": path escapes the layer"},
      {"absolute name, normalised inside",
       [](const UnpackScratch& s) { return raw_tar_entry(s.sentinel + "/keep", '0', "owned") + raw_tar_end(); }, nullptr,
       [](const UnpackScratch& s) { return s.target + s.sentinel + "/keep"; }},
      {"symlink then a file through it",
       [](const UnpackScratch& s) {
         return raw_tar_entry("evil", '2', "", s.sentinel) + raw_tar_entry("evil/keep", '0', "owned") + raw_tar_end();
       },
       nullptr, [](const UnpackScratch& s) { return s.target + s.sentinel + "/keep"; }},
      {"relative symlink then a file through it",
       [](const UnpackScratch&) {
         return raw_tar_entry("a/evil", '2', "", "../../sentinel") + raw_tar_entry("a/evil/keep", '0', "owned") +
                raw_tar_end();
       },
       // ".." stops at the layer root, as it stops at "/".
       nullptr, [](const UnpackScratch& s) { return s.at("sentinel/keep"); }},
      {"symlink replaced by a directory",
       [](const UnpackScratch& s) {
         return raw_tar_entry("d", '2', "", s.sentinel) + raw_tar_entry("d", '5') + raw_tar_end();
       },
       nullptr},
      {"hardlink to an outside file by dot-dot",
       [](const UnpackScratch&) { return raw_tar_entry("h", '1', "", "../sentinel/shadow") + raw_tar_end(); },
       "layer entry \"h\": hardlink target \"../sentinel/shadow\": path escapes the layer"},
      {"hardlink to an outside file by absolute path",
       [](const UnpackScratch& s) { return raw_tar_entry("h", '1', "", s.sentinel + "/shadow") + raw_tar_end(); },
       "is not in the layer"},
      {"hardlink through a symlink the layer made",
       [](const UnpackScratch& s) {
         return raw_tar_entry("etc", '2', "", s.sentinel) + raw_tar_entry("h", '1', "", "etc/shadow") + raw_tar_end();
       },
       "layer entry \"h\": hardlink target \"etc/shadow\" is not in the layer"},
      {"whiteout of dot-dot",
       [](const UnpackScratch&) { return raw_tar_entry("x/.wh...", '0') + raw_tar_end(); },
       "layer entry \"x/.wh...\": whiteout of \"..\" is not a name"},
      {"whiteout through a symlink",
       [](const UnpackScratch& s) {
         return raw_tar_entry("w", '2', "", s.sentinel) + raw_tar_entry("w/.wh.keep", '0') + raw_tar_end();
       },
       nullptr},
      {"opaque marker through a symlink",
       [](const UnpackScratch& s) {
         return raw_tar_entry("o", '2', "", s.sentinel) + raw_tar_entry("o/.wh..wh..opq", '0') + raw_tar_end();
       },
       nullptr},
      {"device node through a symlink",
       [](const UnpackScratch& s) {
         return raw_tar_entry("dev", '2', "", s.sentinel) + raw_tar_entry("dev/keep", '3') + raw_tar_end();
       },
       nullptr},
      {"symlink to the sentinel's file, then a file of that name",
       [](const UnpackScratch& s) {
         return raw_tar_entry("k", '2', "", s.sentinel + "/keep") + raw_tar_entry("k", '0', "owned") + raw_tar_end();
       },
       nullptr, [](const UnpackScratch& s) { return s.at("k"); }},
      {"NUL in a pax path",
       [](const UnpackScratch&) {
         return raw_pax_header("path", std::string("x\0/../../sentinel/keep", 22)) + raw_tar_entry("y", '0', "owned") +
                raw_tar_end();
       },
       // The name ends at the NUL.
       nullptr, [](const UnpackScratch& s) { return s.at("x"); }},
      {"pax linkpath escaping",
       [](const UnpackScratch&) {
         return raw_pax_header("linkpath", "../../sentinel/shadow") + raw_tar_entry("h", '1', "", "x") + raw_tar_end();
       },
       "path escapes the layer"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    UnpackScratch s;
    auto r = s.unpack(c.layer(s));
    if (c.error) {
      REQUIRE_FALSE(r.ok());
      CHECK_MESSAGE(contains(error_of(r), c.error), error_of(r));
    } else {
      CHECK_MESSAGE(r.ok(), error_of(r));
      if (c.landed) CHECK(slurp(c.landed(s)) == "owned");
    }
    CHECK(s.sentinel_untouched());
    CHECK(xattr_of(s.sentinel, "trusted.overlay.opaque") == "<none>");
  }
}

TEST_CASE("unpack: a gzip bomb stops at the size bound") {
  UnpackScratch s;
  constexpr uint64_t bound = 8 << 20;
  LayerBuilder b;
  b.file("zeros", std::string(256 << 20, '\0'));
  std::string bomb = compress(b.finish(), Compression::gzip);
  CHECK(bomb.size() < (1 << 20));
  auto r = s.unpack(bomb, {.max_bytes = bound, .max_entries = 100});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == EFBIG);
  CHECK(contains(error_of(r), "layer expands beyond the limit of 8388608 bytes"));
  CHECK(static_cast<uint64_t>(lstat_of(s.at("zeros")).st_size) <= bound);
  CHECK(s.sentinel_untouched());
}
