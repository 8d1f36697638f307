// The cgroup v2 suite that runs inside the test guest (tests/vm/run.sh sets
// BERTH_VM_GUEST=1 there). On any other machine it skips (exit 77): the
// limits it proves need a pure cgroup v2 tree with every controller, which
// the build machines do not have. Inside the guest nothing is skipped, so a
// broken guest set-up shows up as failed cases, not as silence.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  const char* guest = std::getenv("BERTH_VM_GUEST");
  if (!guest || std::strcmp(guest, "1") != 0) {
    std::fprintf(stderr, "vm-tests: skipped: run inside the test guest: tests/vm/run.sh %s\n", argv[0]);
    return 77;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "vm-tests: needs root inside the guest\n");
    return 1;
  }
  // Line by line to the serial port, so that a run cut short by the time
  // limit still shows how far it got; each case's duration says which.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  doctest::Context ctx;
  ctx.setOption("duration", true);
  ctx.applyCommandLine(argc, argv);
  return ctx.run();
}
