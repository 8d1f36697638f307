// Layer tarballs built in memory for the unpacker's tests: well-formed ones
// through libarchive's writer, and hostile ones byte by byte where a writer
// would refuse (or repair) what an attacker can put in a header.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "image/unpack.hpp"
#include "test_support.hpp"

namespace berth::test {

/// Compression applied to a finished layer.
enum class Compression { none, gzip, zstd };

/// Builds a pax tar with libarchive's writer. Owners default to the caller's
/// uid/gid, so unprivileged tests can unpack what they build.
class LayerBuilder {
 public:
  LayerBuilder() : w_(archive_write_new()) {
    archive_write_set_format_pax(w_);
    // No padding to 10 KiB records: the tests compare exact byte counts.
    archive_write_set_bytes_in_last_block(w_, 1);
    archive_write_open(w_, &out_, nullptr, &LayerBuilder::append, nullptr);
  }
  ~LayerBuilder() { archive_write_free(w_); }
  LayerBuilder(const LayerBuilder&) = delete;
  LayerBuilder& operator=(const LayerBuilder&) = delete;

  using Edit = std::function<void(archive_entry*)>;

  LayerBuilder& file(const std::string& name, const std::string& data, mode_t mode = 0644, const Edit& edit = {}) {
    return add(name, AE_IFREG, mode, data, edit);
  }
  LayerBuilder& dir(const std::string& name, mode_t mode = 0755, const Edit& edit = {}) {
    return add(name, AE_IFDIR, mode, "", edit);
  }
  LayerBuilder& symlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFLNK, 0777, "", [&](archive_entry* e) { archive_entry_set_symlink(e, target.c_str()); });
  }
  LayerBuilder& hardlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFREG, 0644, "", [&](archive_entry* e) {
      archive_entry_set_hardlink(e, target.c_str());
      archive_entry_set_size(e, 0);
    });
  }
  LayerBuilder& fifo(const std::string& name, mode_t mode = 0640) { return add(name, AE_IFIFO, mode, "", {}); }
  LayerBuilder& device(const std::string& name, bool block, unsigned major, unsigned minor, mode_t mode = 0660) {
    return add(name, block ? AE_IFBLK : AE_IFCHR, mode, "", [&](archive_entry* e) {
      archive_entry_set_rdevmajor(e, major);
      archive_entry_set_rdevminor(e, minor);
    });
  }

  /// Any entry; `edit` runs after the defaults are set.
  LayerBuilder& add(const std::string& name, unsigned type, mode_t mode, const std::string& data, const Edit& edit) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_uid(e, ::getuid());
    archive_entry_set_gid(e, ::getgid());
    archive_entry_set_mtime(e, 1'600'000'000, 0);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    if (edit) edit(e);
    if (archive_write_header(w_, e) != ARCHIVE_OK) fail("header of " + name);
    if (!data.empty() && archive_write_data(w_, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
      fail("data of " + name);
    archive_entry_free(e);
    return *this;
  }

  /// The finished, uncompressed tar stream.
  std::string finish() {
    if (archive_write_close(w_) != ARCHIVE_OK) fail("close");
    return out_;
  }

 private:
  static la_ssize_t append(archive*, void* data, const void* buf, size_t len) {
    static_cast<std::string*>(data)->append(static_cast<const char*>(buf), len);
    return static_cast<la_ssize_t>(len);
  }
  void fail(const std::string& what) {
    const char* msg = archive_error_string(w_);
    throw std::runtime_error("layer builder: " + what + ": " + (msg ? msg : "?"));
  }

  archive* w_;
  std::string out_;
};

/// `data` compressed as a single stream (gzip or zstd), as registries serve
/// layers.
inline std::string compress(const std::string& data, Compression c) {
  if (c == Compression::none) return data;
  std::string out;
  archive* w = archive_write_new();
  archive_write_set_format_raw(w);
  if (c == Compression::gzip) archive_write_add_filter_gzip(w);
  else archive_write_add_filter_zstd(w);
  archive_write_set_bytes_in_last_block(w, 1);
  archive_write_open(
      w, &out, nullptr,
      [](archive*, void* d, const void* buf, size_t len) -> la_ssize_t {
        static_cast<std::string*>(d)->append(static_cast<const char*>(buf), len);
        return static_cast<la_ssize_t>(len);
      },
      nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_pathname(e, "layer");
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  bool ok = archive_write_header(w, e) == ARCHIVE_OK &&
            archive_write_data(w, data.data(), data.size()) == static_cast<la_ssize_t>(data.size()) &&
            archive_write_close(w) == ARCHIVE_OK;
  archive_entry_free(e);
  archive_write_free(w);
  if (!ok) throw std::runtime_error("compress failed");
  return out;
}

/// One ustar header block (plus data, padded) written by hand: names and
/// types exactly as given, which libarchive's writer would not allow.
inline std::string raw_tar_entry(const std::string& name, char type, const std::string& data = "",
                                 const std::string& linkname = "") {
  std::string h(512, '\0');
  auto put = [&](size_t off, size_t len, const std::string& v) { h.replace(off, std::min(len, v.size()), v.substr(0, len)); };
  auto octal = [&](size_t off, size_t len, unsigned long long v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(len - 1), v);
    put(off, len - 1, buf);
  };
  put(0, 100, name);
  octal(100, 8, 0644);
  octal(108, 8, ::getuid());
  octal(116, 8, ::getgid());
  octal(124, 12, data.size());
  octal(136, 12, 1'600'000'000);
  h[156] = type;
  put(157, 100, linkname);
  put(257, 6, std::string("ustar\0", 6));
  put(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  h.replace(148, 7, std::string(chk, 6) + '\0');
  std::string out = h + data;
  out.append((512 - data.size() % 512) % 512, '\0');
  return out;
}

/// A pax extended header ('x') carrying `key=value` for the next entry; the
/// value may hold any byte, NUL included.
inline std::string raw_pax_header(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  // The record starts with its own length in decimal, that length included.
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return raw_tar_entry("PaxHeader", 'x', std::to_string(len) + body);
}

/// The two zero blocks that end a tar stream.
inline std::string raw_tar_end() { return std::string(1024, '\0'); }

/// An fd (memfd, at offset 0) reading `data`.
inline UniqueFd blob_fd(const std::string& data) {
  UniqueFd fd(::memfd_create("layer", MFD_CLOEXEC));
  if (!fd || ::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()) ||
      ::lseek(fd.get(), 0, SEEK_SET) != 0)
    throw std::runtime_error("memfd");
  return fd;
}

/// A temporary directory holding a layer target and, beside it, a sentinel
/// directory (a file "keep" and a file "shadow") that no layer may touch.
struct UnpackScratch {
  TempDir base{"berth-unpack"};
  std::string target = base / "layer";
  std::string sentinel = base / "sentinel";

  UnpackScratch() {
    if (::mkdir(target.c_str(), 0755) < 0 || ::mkdir(sentinel.c_str(), 0755) < 0 ||
        !write_file(sentinel + "/keep", "keep", true).ok() || !write_file(sentinel + "/shadow", "secret", true, 0600).ok())
      throw std::runtime_error("unpack scratch setup");
  }
  Result<image::UnpackResult> unpack(const std::string& blob, const image::UnpackLimits& limits = {}) const {
    auto dir = open_file(target, O_RDONLY | O_DIRECTORY);
    if (!dir) return std::move(dir).error();
    UniqueFd fd = blob_fd(blob);
    return image::unpack_layer(fd.get(), dir->get(), limits);
  }
  std::string at(const std::string& rel) const { return target + "/" + rel; }
  /// The sentinel holds exactly what it was made with, unchanged.
  bool sentinel_untouched() const {
    struct stat dir {}, shadow {};
    return count_entries(sentinel) == 2 && slurp(sentinel + "/keep") == "keep" &&
           slurp(sentinel + "/shadow") == "secret" && ::lstat(sentinel.c_str(), &dir) == 0 &&
           (dir.st_mode & 07777) == 0755 && ::lstat((sentinel + "/shadow").c_str(), &shadow) == 0 &&
           shadow.st_nlink == 1 && count_entries(base.path()) == 2;
  }
};

inline std::string error_of(const Result<image::UnpackResult>& r) { return r.ok() ? "" : r.error().message(); }

}  // namespace berth::test
