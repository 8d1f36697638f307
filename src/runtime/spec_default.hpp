// The config.json that `berth-runtime spec` writes.
#pragma once

#include <sys/types.h>

#include <string>

namespace berth::runtime {

/// The runtime-spec version berth implements and writes.
inline constexpr const char* kOciVersion = "1.2.0";

/// A starting config: busybox-friendly `sh` with a terminal, the usual
/// namespaces, mounts, masked and read-only paths, and a small capability set.
/// `rootless` maps `uid`/`gid` to root in a user namespace and drops what an
/// unprivileged user cannot do (network namespace, mknod, cgroup limits).
std::string default_spec_json(bool rootless, uid_t uid, gid_t gid);

}  // namespace berth::runtime
