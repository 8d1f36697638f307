// Helpers shared by the files of ContainerManager (containers.cpp,
// container_run.cpp, container_stop.cpp); not part of the daemon's interface.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::daemon::detail {

/// Each container's record in its directory.
inline constexpr const char* kRecord = "container.json";

std::string now_nano();
int64_t now_ns();
/// `bytes` random bytes as lower-case hex.
std::string random_hex(size_t bytes);
/// Two words, as docker names a container when none is given.
std::string generated_name(uint64_t seed);
/// A JSON string or array of strings as a vector (other values ignored).
std::vector<std::string> strings_of(const nlohmann::json& j);
/// The list, or null when absent, as inspect shows optional lists.
nlohmann::json list_or_null(const std::vector<std::string>& v, bool present);
/// An integer field, 0 when missing or not a number.
int64_t int_field(const nlohmann::json& j, const char* key);
/// The exit status docker's CLI derives from a start error's text (127, 126, else 128).
int exit_code_for_start_error(const std::string& m);
/// Whether a berth-monitor holds the lock in the container directory `dir`.
bool monitor_alive(const std::string& dir);
/// Unmounts the container's rootfs (every layer mounted there).
void unmount_rootfs(const std::string& dir);
/// For calls whose failure changes nothing (the process is already gone):
/// noted in the debug log only.
void best_effort(Status st, const std::string& what);
/// docker's restart policy names.
bool valid_policy(const std::string& n);

}  // namespace berth::daemon::detail
