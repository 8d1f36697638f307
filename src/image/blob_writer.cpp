// The writing half of the content store: blobs are hashed (libcrypto) as
// they are written and published only once verified. Kept apart from
// store.cpp so that a program that only reads the store (berthd) links
// neither this nor libcrypto.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "image/store.hpp"

namespace berth::image {

BlobWriter::BlobWriter(std::string root, Digest expected, int64_t expected_size, UniqueFd fd, std::string tmp_path)
    : root_(std::move(root)),
      expected_(std::move(expected)),
      expected_size_(expected_size),
      fd_(std::move(fd)),
      tmp_path_(std::move(tmp_path)) {}

BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;

BlobWriter& BlobWriter::operator=(BlobWriter&& o) noexcept {
  if (this != &o) {
    if (!tmp_path_.empty()) ::unlink(tmp_path_.c_str());
    root_ = std::move(o.root_);
    expected_ = std::move(o.expected_);
    expected_size_ = o.expected_size_;
    fd_ = std::move(o.fd_);
    tmp_path_ = std::exchange(o.tmp_path_, {});
    hasher_ = std::move(o.hasher_);
  }
  return *this;
}

BlobWriter::~BlobWriter() {
  if (!tmp_path_.empty()) ::unlink(tmp_path_.c_str());
}

Status BlobWriter::write(const void* data, size_t len) {
  if (!fd_) return make_error("blob ", expected_.str(), ": write after commit");
  if (expected_size_ >= 0 && hasher_.bytes() + len > static_cast<uint64_t>(expected_size_))
    return make_error("blob ", expected_.str(), ": more than the expected ", expected_size_, " bytes");
  hasher_.update(data, len);
  return write_all(fd_.get(), {static_cast<const char*>(data), len}, cat("write blob ", expected_.str()));
}

Status BlobWriter::commit() {
  if (!fd_) return make_error("blob ", expected_.str(), ": committed twice");
  uint64_t n = hasher_.bytes();
  if (expected_size_ >= 0 && n != static_cast<uint64_t>(expected_size_))
    return make_error("blob ", expected_.str(), ": size mismatch: got ", n, " bytes, want ", expected_size_);
  Digest got = hasher_.finish();
  if (got != expected_) return make_error("blob ", expected_.str(), ": digest mismatch: got ", got.str());
  if (::fsync(fd_.get()) < 0) return sys_error("fsync blob ", expected_.str());
  fd_.reset();
  std::string dst = cat(root_, kBlobsDir, "/", expected_.hex());
  if (::rename(tmp_path_.c_str(), dst.c_str()) < 0) return sys_error("store blob ", expected_.str());
  tmp_path_.clear();
  return {};
}

Result<BlobWriter> ContentStore::writer(const Digest& d, int64_t size) const {
  std::string tmp = cat(root_, kIngestDir, "/", d.hex(), ".XXXXXX");
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return sys_error("create ingest file for blob ", d.str());
  ::fchmod(fd, 0600);
  return BlobWriter(root_, d, size, UniqueFd(fd), std::move(tmp));
}

Status ContentStore::put(std::string_view data, const Digest& expected) const {
  if (has(expected)) return {};
  auto w = writer(expected, static_cast<int64_t>(data.size()));
  if (!w) return std::move(w).error();
  BERTH_TRY(w->write(data));
  return w->commit();
}

Result<Digest> ContentStore::put(std::string_view data) const {
  Digest d = Digest::of(data);
  BERTH_TRY(put(data, d));
  return d;
}

}  // namespace berth::image
