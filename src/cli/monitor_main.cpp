// berth-monitor: the per-container process berthd spawns (see
// src/monitor/protocol.hpp for the interface and man/berth-monitor.8).
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/strings.hpp"
#include "monitor/monitor.hpp"

namespace {

// The sync fd named on a command line that failed to parse, so the refusal
// still reaches berthd as an "error" line; -1 if there is none.
int find_sync_fd(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view v;
    if (args[i] == "--sync-fd" && i + 1 < args.size()) {
      v = args[i + 1];
    } else if (berth::starts_with(args[i], "--sync-fd=")) {
      v = std::string_view(args[i]).substr(10);
    } else {
      continue;
    }
    auto fd = berth::parse_int<int>(v);
    return fd && *fd >= 0 ? *fd : -1;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts = berth::monitor::parse_options(args);
  if (!opts) {
    std::string msg = opts.error().message();
    if (int fd = find_sync_fd(args); fd >= 0) {
      std::string line = berth::cat("error ", msg, "\n");
      (void)!::write(fd, line.data(), line.size());
    }
    std::fprintf(stderr, "berth-monitor: %s\n%s", msg.c_str(), berth::monitor::usage().c_str());
    return 1;
  }
  if (opts->help) {
    std::fputs(berth::monitor::usage().c_str(), stdout);
    return 0;
  }
  return berth::monitor::run(*opts);
}
