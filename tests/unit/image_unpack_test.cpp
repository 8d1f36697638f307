// Layer unpacking without root: layers built in memory, unpacked into a
// temporary directory owned by the caller. Device nodes, owners other than
// the caller, trusted.* xattrs and file capabilities are in the priv tests.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "common/fs.hpp"
#include "image/unpack.hpp"
#include "layer_builder.hpp"
#include "test_support.hpp"

using namespace berth;
using namespace berth::image;
using namespace berth::test;

namespace {

using Scratch = UnpackScratch;

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path);
  return st;
}

}  // namespace

TEST_CASE("unpack: entry names are normalised and may not climb out") {
  CHECK(*normalize_entry_name("etc/passwd") == "etc/passwd");
  CHECK(*normalize_entry_name("/etc/passwd") == "etc/passwd");
  CHECK(*normalize_entry_name("./etc//passwd/") == "etc/passwd");
  CHECK(*normalize_entry_name("./") == "");
  CHECK(*normalize_entry_name("/") == "");
  CHECK(*normalize_entry_name("...") == "...");
  CHECK(*normalize_entry_name("a/..b") == "a/..b");
  for (const char* bad : {"..", "../etc/passwd", "a/../b", "a/b/..", "/../x", "./../x"}) {
    auto r = normalize_entry_name(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == "path escapes the layer");
  }
}

TEST_CASE("unpack: whiteout names are classified") {
  CHECK(classify_whiteout("passwd")->kind == WhiteoutKind::none);
  CHECK(classify_whiteout(".whx")->kind == WhiteoutKind::none);
  auto wh = classify_whiteout(".wh.passwd");
  CHECK(wh->kind == WhiteoutKind::whiteout);
  CHECK(wh->target == "passwd");
  CHECK(classify_whiteout(".wh...hidden")->target == "..hidden");
  CHECK(classify_whiteout(".wh..wh..opq")->kind == WhiteoutKind::opaque);
  CHECK(classify_whiteout(".wh..wh.plnk")->kind == WhiteoutKind::meta);
  for (const char* bad : {".wh.", ".wh..", ".wh..."}) CHECK_FALSE(classify_whiteout(bad).ok());
}

TEST_CASE("unpack: files, directories, links, modes and mtimes") {
  Scratch s;
  LayerBuilder b;
  b.dir("etc", 0751, [](archive_entry* e) { archive_entry_set_mtime(e, 1'500'000'000, 123); })
      .file("etc/hosts", "127.0.0.1 localhost\n", 0644,
            [](archive_entry* e) { archive_entry_set_mtime(e, 1'400'000'000, 500); })
      .file("bin/tool", std::string(100'000, 'x'), 04755)
      .dir("tmp", 01777)
      .symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
      .hardlink("bin/tool-again", "bin/tool")
      .file("empty", "", 0600)
      .fifo("run/fifo", 0620);
  std::string tar = b.finish();
  auto r = s.unpack(tar);
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK(r->entries == 8);
  CHECK(r->bytes == tar.size());
  CHECK(r->diff_id == Digest::of(tar));

  CHECK(slurp(s.at("etc/hosts")) == "127.0.0.1 localhost\n");
  auto hosts = lstat_of(s.at("etc/hosts"));
  CHECK((hosts.st_mode & 07777) == 0644);
  CHECK(hosts.st_mtim.tv_sec == 1'400'000'000);
  CHECK(hosts.st_mtim.tv_nsec == 500);
  // Set after "etc/hosts" and "etc/localtime" were written into it.
  auto etc = lstat_of(s.at("etc"));
  CHECK(S_ISDIR(etc.st_mode));
  CHECK((etc.st_mode & 07777) == 0751);
  CHECK(etc.st_mtim.tv_sec == 1'500'000'000);
  CHECK(etc.st_mtim.tv_nsec == 123);
  CHECK((lstat_of(s.at("tmp")).st_mode & 07777) == 01777);

  auto tool = lstat_of(s.at("bin/tool"));
  CHECK((tool.st_mode & 07777) == 04755);
  CHECK(tool.st_size == 100'000);
  CHECK(tool.st_nlink == 2);
  CHECK(lstat_of(s.at("bin/tool-again")).st_ino == tool.st_ino);
  // "bin" and "run" were implied, not listed: 0755 whatever the umask.
  CHECK((lstat_of(s.at("bin")).st_mode & 07777) == 0755);
  CHECK(S_ISFIFO(lstat_of(s.at("run/fifo")).st_mode));
  CHECK((lstat_of(s.at("run/fifo")).st_mode & 07777) == 0620);
  CHECK(lstat_of(s.at("empty")).st_size == 0);

  char target[256] = {};
  REQUIRE(::readlink(s.at("etc/localtime").c_str(), target, sizeof target - 1) > 0);
  CHECK(std::string(target) == "/usr/share/zoneinfo/UTC");
  CHECK(lstat_of(s.at("etc/localtime")).st_mtim.tv_sec == 1'600'000'000);
  CHECK(lstat_of(s.at("etc/hosts")).st_uid == ::getuid());
}

TEST_CASE("unpack: gzip and zstd are detected from the bytes; the diff ID is of the tar") {
  LayerBuilder b;
  b.dir("d").file("d/a", std::string(50'000, 'a')).file("d/b", "bee");
  std::string tar = b.finish();
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    Scratch s;
    std::string blob = compress(tar, c);
    if (c != Compression::none) CHECK(blob.size() < tar.size());
    auto r = s.unpack(blob);
    REQUIRE_MESSAGE(r.ok(), error_of(r));
    CHECK(r->diff_id == Digest::of(tar));
    CHECK(r->bytes == tar.size());
    CHECK(slurp(s.at("d/a")) == std::string(50'000, 'a'));
    CHECK(slurp(s.at("d/b")) == "bee");
  }
}

TEST_CASE("unpack: bytes after the end of the archive count in the diff ID") {
  Scratch s;
  LayerBuilder b;
  b.file("a", "a");
  // tar(1) pads to 10 KiB records: zero blocks after the end marker.
  std::string tar = b.finish() + std::string(8192, '\0');
  auto r = s.unpack(compress(tar, Compression::gzip));
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK(r->diff_id == Digest::of(tar));
  CHECK(r->bytes == tar.size());
}

TEST_CASE("unpack: empty layers") {
  Scratch s;
  std::string zeros(1024, '\0');
  auto r = s.unpack(compress(zeros, Compression::gzip));
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK(r->entries == 0);
  CHECK(r->diff_id == Digest::of(zeros));
  CHECK(count_entries(s.target) == 0);

  Scratch s2;
  auto nothing = s2.unpack("");
  REQUIRE_MESSAGE(nothing.ok(), error_of(nothing));
  CHECK(nothing->entries == 0);
  CHECK(nothing->diff_id == Digest::of(""));
}

TEST_CASE("unpack: a later entry replaces an earlier one of the same name") {
  Scratch s;
  LayerBuilder b;
  b.file("x", "first")
      .file("x", "second")
      .dir("d")
      .file("d/inner", "gone")
      .file("d", "now a file")
      .file("f", "was a file")
      .dir("f", 0700)
      .file("f/inner", "kept")
      .dir("m")
      .file("m/one", "1")
      .dir("m", 0711)
      .file("m/two", "2")
      .symlink("l", "/etc")
      .file("l", "not through the link");
  auto r = s.unpack(b.finish());
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK(slurp(s.at("x")) == "second");
  CHECK(slurp(s.at("d")) == "now a file");
  CHECK(slurp(s.at("f/inner")) == "kept");
  CHECK((lstat_of(s.at("f")).st_mode & 07777) == 0700);
  // A directory over a directory merges, and takes the later mode.
  CHECK(slurp(s.at("m/one")) == "1");
  CHECK(slurp(s.at("m/two")) == "2");
  CHECK((lstat_of(s.at("m")).st_mode & 07777) == 0711);
  CHECK(S_ISREG(lstat_of(s.at("l")).st_mode));
  CHECK(slurp(s.at("l")) == "not through the link");
  CHECK(s.sentinel_untouched());
}

TEST_CASE("unpack: the root entry sets the layer root's mode") {
  Scratch s;
  LayerBuilder b;
  b.dir("./", 0750).file("./a", "a");
  auto r = s.unpack(b.finish());
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK((lstat_of(s.target).st_mode & 07777) == 0750);
  CHECK(slurp(s.at("a")) == "a");
}

TEST_CASE("unpack: user xattrs are kept; overlayfs's own are refused") {
  Scratch s;
  {
    // Not every filesystem under $TMPDIR takes user xattrs.
    std::string probe = s.base / "probe";
    REQUIRE(write_file(probe, "", true).ok());
    bool supported = ::setxattr(probe.c_str(), "user.probe", "1", 1, 0) == 0;
    ::unlink(probe.c_str());
    if (!supported) return;
  }
  LayerBuilder b;
  b.file("a", "a", 0644, [](archive_entry* e) { archive_entry_xattr_add_entry(e, "user.note", "hello", 5); })
      .dir("d", 0755, [](archive_entry* e) { archive_entry_xattr_add_entry(e, "user.dir", "x", 1); });
  auto r = s.unpack(b.finish());
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  char buf[16] = {};
  CHECK(::getxattr(s.at("a").c_str(), "user.note", buf, sizeof buf) == 5);
  CHECK(std::string(buf) == "hello");
  CHECK(::getxattr(s.at("d").c_str(), "user.dir", buf, sizeof buf) == 1);

  Scratch s2;
  LayerBuilder bad;
  bad.file("a", "a", 0644,
           [](archive_entry* e) { archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/x", 2); });
  auto r2 = s2.unpack(bad.finish());
  REQUIRE_FALSE(r2.ok());
  CHECK(error_of(r2) == "layer entry \"a\": xattr trusted.overlay.redirect: reserved for overlayfs");
}

TEST_CASE("unpack: whiteouts become 0/0 character devices") {
  Scratch s;
  LayerBuilder b;
  b.dir("etc").file("etc/gone", "x").file("etc/.wh.gone", "").file("etc/.wh.passwd", "").file(".wh..wh.plnk", "");
  auto r = s.unpack(b.finish());
  // Creating a whiteout needs no privilege since Linux 5.8; older kernels
  // leave this to the priv tests.
  if (!r.ok() && r.error().code() == EPERM) return;
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  for (const char* name : {"etc/gone", "etc/passwd"}) {
    auto st = lstat_of(s.at(name));
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == makedev(0, 0));
  }
  CHECK_FALSE(path_exists(s.at("etc/.wh.gone")));
  CHECK_FALSE(path_exists(s.at(".wh..wh.plnk")));
}

TEST_CASE("unpack: a symlink cannot carry later entries out of the layer") {
  Scratch s;
  LayerBuilder b;
  b.symlink("abs", s.sentinel)
      .file("abs/pwned", "abs")
      .symlink("rel", "../../../../../../../../" + s.sentinel)
      .file("rel/pwned2", "rel")
      .symlink("dotdot", "..")
      .file("dotdot/pwned3", "dotdot")
      .hardlink("hl", "abs/keep");
  auto r = s.unpack(b.finish());
  // Either refused (the hardlink: abs/keep is not in the layer) or written
  // inside; never outside.
  REQUIRE_FALSE(r.ok());
  CHECK(error_of(r) == "layer entry \"hl\": hardlink target \"abs/keep\" is not in the layer: No such file or directory");
  CHECK(s.sentinel_untouched());
  CHECK(slurp(s.target + s.sentinel + "/pwned") == "abs");
  CHECK(slurp(s.target + s.sentinel + "/pwned2") == "rel");
  CHECK(slurp(s.at("pwned3")) == "dotdot");
  CHECK_FALSE(path_exists(s.base / "pwned3"));
}

TEST_CASE("unpack: hostile names are refused, naming the entry") {
  struct Case {
    std::string what;
    std::string tar;
    std::string error;
  };
  const Case cases[] = {
      {"dot-dot", raw_tar_entry("../evil", '0', "x") + raw_tar_end(),
       "layer entry \"../evil\": path escapes the layer"},
      {"dot-dot inside", raw_tar_entry("a/../../evil", '0', "x") + raw_tar_end(),
       "layer entry \"a/../../evil\": path escapes the layer"},
      {"hardlink out", raw_tar_entry("h", '1', "", "../sentinel/keep") + raw_tar_end(),
       "layer entry \"h\": hardlink target \"../sentinel/keep\": path escapes the layer"},
      {"hardlink absolute", raw_tar_entry("h", '1', "", "/etc/shadow") + raw_tar_end(),
       "layer entry \"h\": hardlink target \"/etc/shadow\" is not in the layer: No such file or directory"},
      {"hardlink ahead", raw_tar_entry("h", '1', "", "later") + raw_tar_entry("later", '0', "x") + raw_tar_end(),
       "layer entry \"h\": hardlink target \"later\" is not in the layer: No such file or directory"},
      {"whiteout dot-dot", raw_tar_entry("a/.wh...", '0') + raw_tar_end(),
       "layer entry \"a/.wh...\": whiteout of \"..\" is not a name"},
      {"whiteout dot", raw_tar_entry(".wh..", '0') + raw_tar_end(), "layer entry \".wh..\": whiteout of \".\" is not a name"},
      {"root as a file", raw_tar_entry(".", '0', "x") + raw_tar_end(),
       "layer entry \".\": the layer root must be a directory"},
      {"file as a parent", raw_tar_entry("f", '0', "x") + raw_tar_entry("f/g", '0', "y") + raw_tar_end(),
       "layer entry \"f/g\": parent \"f\" is not a directory: Not a directory"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Scratch s;
    auto r = s.unpack(c.tar);
    REQUIRE_FALSE(r.ok());
    CHECK(error_of(r) == c.error);
    CHECK(s.sentinel_untouched());
    CHECK_FALSE(path_exists(s.base / "evil"));
  }
}

TEST_CASE("unpack: a NUL in a pax path cannot smuggle a different name") {
  Scratch s;
  std::string tar = raw_pax_header("path", std::string("safe\0/../../evil", 16)) + raw_tar_entry("x", '0', "data") +
                    raw_tar_end();
  auto r = s.unpack(tar);
  // libarchive ends the name at the NUL; whatever is left must stay inside.
  if (r.ok()) CHECK(count_entries(s.target) == 1);
  CHECK(s.sentinel_untouched());
  CHECK_FALSE(path_exists(s.base / "evil"));
}

TEST_CASE("unpack: size and entry limits stop a bomb") {
  LayerBuilder b;
  b.file("big", std::string(4 << 20, '\0'));
  std::string bomb = compress(b.finish(), Compression::gzip);
  CHECK(bomb.size() < 64 * 1024);
  {
    Scratch s;
    auto r = s.unpack(bomb, {.max_bytes = 1 << 20, .max_entries = 10});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == EFBIG);
    CHECK(error_of(r) == "layer entry \"big\": reading content: layer expands beyond the limit of 1048576 bytes: "
                         "File too large");
    CHECK(lstat_of(s.at("big")).st_size <= (1 << 20));
  }
  {
    Scratch s;
    LayerBuilder many;
    for (int i = 0; i < 20; ++i) many.file("f" + std::to_string(i), "x");
    auto r = s.unpack(many.finish(), {.max_bytes = 1 << 20, .max_entries = 10});
    REQUIRE_FALSE(r.ok());
    CHECK(error_of(r) == "layer has more than the limit of 10 entries");
    CHECK(count_entries(s.target) == 10);
  }
}

TEST_CASE("unpack: corrupt and truncated layers are errors") {
  LayerBuilder b;
  b.file("a", std::string(10'000, 'a'));
  std::string tar = b.finish();
  std::string gz = compress(tar, Compression::gzip);
  std::string corrupt = gz;
  for (size_t i = 20; i + 8 < corrupt.size(); ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  const std::pair<std::string, std::string> cases[] = {
      {"not a tar", std::string(2000, 'x')},
      {"truncated tar", tar.substr(0, 2048)},
      {"truncated gzip", gz.substr(0, gz.size() / 2)},
      {"corrupt gzip", corrupt},
      {"bzip2, not accepted", "BZh91AY&SY" + std::string(100, 'x')},
  };
  for (const auto& [what, blob] : cases) {
    CAPTURE(what);
    Scratch s;
    auto r = s.unpack(blob);
    CHECK_FALSE(r.ok());
    CHECK(s.sentinel_untouched());
  }
}
