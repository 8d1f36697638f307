// Pieces shared by the lifecycle verbs (create and run build a container the
// same way; delete and run tear one down the same way).
#pragma once

#include <memory>

#include "cgroups/cgroup.hpp"
#include "cgroups/devices_bpf.hpp"
#include "runtime/container.hpp"
#include "runtime/spec.hpp"
#include "runtime/spawn.hpp"
#include "runtime/state.hpp"

namespace berth::runtime {

/// A container being made. Until commit(), destruction undoes everything in
/// reverse: the init is killed, the cgroup (and any process left in it)
/// removed, the state directory deleted.
struct PreparedContainer {
  explicit PreparedContainer(StateDir dir) : state_dir(std::move(dir)) {}
  PreparedContainer(const PreparedContainer&) = delete;
  PreparedContainer& operator=(const PreparedContainer&) = delete;
  ~PreparedContainer();

  void commit();

  StateDir state_dir;
  cgroups::Cgroup cgroup;
  bool have_cgroup = false;
  InitProcess init;
  ContainerState state;
  UniqueFd console_peer;  // run without --console-socket: where the pty master arrives

 private:
  bool committed_ = false;
};

/// How the init waits once it is READY.
enum class StartMode { exec_fifo, sync_socket };

/// Everything `create` does up to (not including) writing the pid file.
/// With `own_console`, a process that wants a terminal and has no
/// --console-socket gets a socketpair in its place; the other end is left in
/// console_peer (foreground `run`).
Result<std::unique_ptr<PreparedContainer>> prepare_container(const CreateOptions& opts, StartMode mode,
                                                             bool own_console);

/// The device cgroup rules of a container: the config's, then the defaults
/// every container needs (as runc appends them).
std::vector<cgroups::DeviceRule> device_rules(const Spec& spec);

/// Where compiled seccomp programs are cached: <root>/@seccomp ('@' is not
/// allowed in container ids, so no container can ever collide with it).
inline std::string seccomp_cache_dir(const std::string& root) { return root + "/@seccomp"; }

/// Connects to a --pidfd-socket and sends `pidfd` (one SCM_RIGHTS message).
Status send_pidfd(const std::string& socket_path, int pidfd);

/// Writes the pid file atomically, as runc does (no trailing newline).
Status write_pid_file(const std::string& path, pid_t pid);

/// The container's config as saved at create (nullopt if unreadable: hooks
/// of such a container are skipped rather than blocking its removal).
std::optional<Spec> saved_spec(const StateDir& dir);

/// Runs poststart hooks (failures only warn, per the runtime-spec).
void run_poststart_hooks(const Spec& spec, const ContainerState& st);

/// Removes a stopped container: what is left in its cgroup is killed, the
/// cgroup and the state directory are removed, then the poststop hooks run.
Status destroy_container(StateDir& dir, const ContainerState& st);

}  // namespace berth::runtime
