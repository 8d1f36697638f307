// libFuzzer target for the layer unpacker: each input is a layer blob,
// unpacked into a fresh temporary directory. Besides crashes and sanitizer
// reports, it aborts if anything appears beside the target or the sentinel
// directory next to it changes: the unpacker must never write outside.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/fs.hpp"
#include "image/unpack.hpp"

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "unpack_fuzz: %s\n", what.c_str());
  std::abort();
}

int entries_in(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  DIR* d = ::fdopendir(fd);
  int n = 0;
  while (dirent* de = ::readdir(d))
    if (std::string(de->d_name) != "." && std::string(de->d_name) != "..") ++n;
  ::closedir(d);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int blob = ::memfd_create("layer", MFD_CLOEXEC);
  if (blob < 0) fail("memfd_create");
  if (::ftruncate(blob, 0) < 0 || ::pwrite(blob, data, size, 0) != static_cast<ssize_t>(size) ||
      ::lseek(blob, 0, SEEK_SET) != 0)
    fail("writing the input");

  const char* tmp = std::getenv("TMPDIR");
  std::string base = std::string(tmp && *tmp ? tmp : "/tmp") + "/berth-fuzz-XXXXXX";
  if (!::mkdtemp(base.data())) fail("mkdtemp");
  std::string target = base + "/layer", sentinel = base + "/sentinel";
  if (::mkdir(target.c_str(), 0755) < 0 || ::mkdir(sentinel.c_str(), 0755) < 0 ||
      !berth::write_file(sentinel + "/keep", "keep", true).ok())
    fail("setting up " + base);

  int dir = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail("open " + target);
  // Small bounds keep each run fast; the bound checks themselves are fuzzed.
  auto result = berth::image::unpack_layer(blob, dir, {.max_bytes = 64 << 20, .max_entries = 10'000});
  (void)result;
  ::close(dir);

  if (entries_in(base) != 2 || entries_in(sentinel) != 1)
    fail("an entry was written outside the layer in " + base);
  auto keep = berth::read_file(sentinel + "/keep");
  if (!keep || *keep != "keep") fail("the sentinel changed in " + base);
  if (!berth::remove_all(base).ok()) fail("removing " + base);
  return 0;
}
