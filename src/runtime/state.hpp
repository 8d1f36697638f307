// Per-container state under --root: <root>/<id>/state.json (written
// atomically), <root>/<id>/exec.fifo while the container is "created", and an
// flock on the directory that serialises lifecycle verbs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::runtime {

struct ContainerState {
  std::string oci_version;
  std::string id;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // with pid, identifies the init across pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;          // RFC3339Nano
  std::map<std::string, std::string> annotations;
  std::string cgroup_mount;     // where the v2 hierarchy is mounted
  std::string cgroup_path;      // the container's cgroup inside it
  bool own_pid_ns = false;      // the init is pid 1 of its own namespace
};

/// The copy of config.json that create keeps in the state directory.
inline constexpr const char* kSavedConfig = "config.json";

enum class ContainerStatus { creating, created, running, paused, stopped };
const char* status_name(ContainerStatus s);

/// Refuses ids runc refuses: empty, ".", "..", or anything beyond
/// [A-Za-z0-9_+.-] (in particular "/"), and ids longer than 1024 bytes.
Status validate_id(const std::string& id);

/// A container's state directory, locked for the lifetime of the object.
class StateDir {
 public:
  /// Makes <root>/<id> (and root, mode 0700); fails with `container with id exists` if present.
  static Result<StateDir> create(const std::string& root, const std::string& id);
  /// Opens and locks an existing container; `container "x" does not exist` otherwise.
  static Result<StateDir> open(const std::string& root, const std::string& id);

  StateDir(StateDir&& o) noexcept;
  StateDir& operator=(StateDir&&) = delete;
  ~StateDir();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  const std::string& id() const { return id_; }

  Result<ContainerState> load() const;
  Status save(const ContainerState& st) const;
  /// Live status: stopped if the init is gone (or its pid was reused),
  /// paused if its cgroup is frozen, created while exec.fifo exists.
  ContainerStatus status(const ContainerState& st) const;
  /// Deletes the directory and everything in it.
  Status remove();
  /// A created directory survives the object (create succeeded).
  void commit() { remove_on_destroy_ = false; }

 private:
  StateDir() = default;
  std::string path_;
  std::string id_;
  UniqueFd fd_;
  bool remove_on_destroy_ = false;
};

/// Reads a container's state without taking the lock (state, list).
Result<ContainerState> read_state(const std::string& root, const std::string& id);
/// The live status without the lock.
ContainerStatus read_status(const std::string& root, const ContainerState& st);

/// The runtime-spec state object as runc prints it (`state`, `list --format json`).
std::string state_json(const ContainerState& st, ContainerStatus status, const std::string& owner, bool indent);

/// Ids of the containers under root that have a state file, sorted.
std::vector<std::string> list_ids(const std::string& root);

/// User name of a uid from /etc/passwd (no NSS, so static binaries work), or the number.
std::string user_name(uid_t uid);

}  // namespace berth::runtime
