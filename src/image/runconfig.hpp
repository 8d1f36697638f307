// From an image config to the runtime-spec config.json that runs it, with
// docker's rules for Entrypoint, Cmd, Env, WorkingDir and User.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "image/media.hpp"

namespace berth::image {

/// What the user asked for on top of the image (`run --entrypoint ... IMAGE CMD...`).
struct RunOverrides {
  /// Replaces the image's Entrypoint (an empty vector clears it); when set,
  /// the image's Cmd is dropped too, as docker does.
  std::optional<std::vector<std::string>> entrypoint;
  /// Replaces the image's Cmd when not empty.
  std::vector<std::string> cmd;
  /// NAME=VALUE, replacing the image's value of NAME.
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;
  std::string hostname;
  bool tty = false;
  /// Anonymous volumes: when set, each of the image's Volumes gets a
  /// directory of its own below this one, bind-mounted at its path, so that
  /// the data it holds is not written to the container's rootfs. When
  /// empty, those paths stay part of the rootfs.
  std::string volume_root;
};

struct UserIds {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home = "/";
};

/// Resolves "name", "uid", "name:group", "uid:gid" (names through the
/// rootfs's /etc/passwd and /etc/group, read beneath `rootfs_fd`). A named
/// user that does not exist is an error; a numeric one need not exist.
Result<UserIds> resolve_user(int rootfs_fd, std::string_view user);

/// The process the image runs: args, env, cwd and ids.
struct ImageProcess {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  UserIds user;
};
Result<ImageProcess> image_process(const ImageConfig& image, const RunOverrides& o, int rootfs_fd);

/// `base` (a runtime-spec config.json, as `berth-runtime spec` writes) with
/// the image's process, `rootfs_path` as root.path, the hostname, a bind
/// mount per image Volume (with `o.volume_root`), and the image's
/// StopSignal, ExposedPorts and Labels as annotations (as the OCI image
/// spec's conversion rules say).
Result<std::string> runtime_config(std::string_view base, const ImageConfig& image, const RunOverrides& o,
                                   int rootfs_fd, const std::string& rootfs_path);

}  // namespace berth::image
