// The flags of `berth run` and `berth create`, turned into the body of
// POST /containers/create (Config + HostConfig + NetworkingConfig), and
// docker's mapping of a failed start to an exit code.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/args.hpp"
#include "common/error.hpp"

namespace berth::client {

struct RunOptions {
  bool detach = false, interactive = false, tty = false, rm = false;
  std::string name, memory, cpus, pids_limit, restart, entrypoint, workdir, user, network;
  bool entrypoint_set = false;
  std::vector<std::string> env, volumes, publish, network_aliases;

  /// Registers the flags on `args`; `with_detach` for run (create has no -d).
  void add_flags(Args* args, bool with_detach);
};

/// The create body for `image` with `cmd` (empty: the image's). Fails with
/// docker's messages on a bad --memory, --cpus, -p, --restart or a
/// --restart/--rm conflict. `lookup_env` resolves `-e NAME` without a value.
Result<nlohmann::json> create_body(const RunOptions& o, const std::string& image, const std::vector<std::string>& cmd,
                                   const char* (*lookup_env)(const char*) = nullptr);

/// docker's exit status for a container that failed to start with `message`:
/// 127 when the executable is missing, 126 when it cannot be run, else 125.
int start_failure_exit_code(const std::string& message);

/// Splits an image reference into the fromImage and tag of a pull:
/// "busybox" -> ("busybox", "latest"), "127.0.0.1:5000/app:v1" ->
/// ("127.0.0.1:5000/app", "v1"); a digest reference keeps "@…" in the name.
std::pair<std::string, std::string> split_reference(const std::string& ref);

}  // namespace berth::client
