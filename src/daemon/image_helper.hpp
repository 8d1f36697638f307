// berthd's pulls, loads and unpacks run in a berth-image process of their own
// (`berth-image --json`), the way containerd keeps unpacking in its shims'
// and snapshotters' processes: the registry client, the archive readers and
// libcrypto then never map into the long-lived daemon, whose idle memory stays
// small, and a hostile tarball can at worst crash a short-lived helper.
//
// The helper prints one JSON object a line on stdout:
//   {"progress": {"digest", "media_type", "phase", "done", "total"}}
//   {"extracting": "<layer digest>"}
//   {"pulled": {"name", "digest"}}  {"loaded": {"name", "digest"}}  {"unpacked": [dirs]}
//   {"error": "<message>", "errno": N}      (then exits 1)
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace berth::daemon {

class ImageHelper {
 public:
  ImageHelper(std::string program, std::string data_root)
      : program_(std::move(program)), data_root_(std::move(data_root)) {}

  /// Runs `PROGRAM --root DATA --json ARGS...`, calling `on_event` for each
  /// line it prints, and waits for it. The helper's own error (with its
  /// errno, 0 for bad input) when it reports one; an error naming the helper
  /// when it cannot start or dies without a word.
  Status run(const std::vector<std::string>& args,
             const std::function<void(const nlohmann::json&)>& on_event = {}) const;

  const std::string& program() const { return program_; }

 private:
  std::string program_;
  std::string data_root_;
};

}  // namespace berth::daemon
