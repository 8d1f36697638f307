// Privileged tests: real namespaces, mounts and cgroups, driven through the
// built berth-runtime. Exits 77 (meson's SKIP) when the machine cannot run
// them: not root, no cgroup v2 hierarchy, or no busybox-static.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>

#include "cgroups/cgroup.hpp"
#include "common/fs.hpp"

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "priv-tests: skipped: needs root\n");
    return 77;
  }
  if (!berth::cgroups::unified_mountpoint()) {
    std::fprintf(stderr, "priv-tests: skipped: no cgroup v2 hierarchy\n");
    return 77;
  }
  if (!berth::path_exists("/bin/busybox")) {
    std::fprintf(stderr, "priv-tests: skipped: busybox-static is not installed\n");
    return 77;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
