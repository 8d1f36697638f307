// The lifecycle verbs of berth-runtime, one file each (container_<verb>.cpp).
// They return Errors with runc's wording where callers match substrings
// (`container not running`, `does not exist`, `container with id exists`).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/log.hpp"

namespace berth::runtime {

struct CreateOptions {
  std::string root;            // state root (--root)
  std::string id;
  std::string bundle;          // absolute
  std::string pid_file;        // absolute, or empty
  std::string console_socket;  // absolute, or empty
  std::string pidfd_socket;    // absolute, or empty: receives a pidfd of the init
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;        // fds 3 .. 3+N-1 are passed to the container
  std::vector<std::string> extra_env;  // NAME=value added to (or replacing in) process.env
  int log_fd = -1;             // --log, for errors the init reports after create returned
  log::Format log_format = log::Format::text;
};

/// `create`: sets the container up and returns with its init waiting for
/// `start` (on exec.fifo) and the pid file written. On failure nothing is
/// left behind: no state directory, cgroup, mount or process.
Status create_container(const CreateOptions& opts);

/// `start`: lets a created container's init exec its process.
Status start_container(const std::string& root, const std::string& id);

/// `kill`: sends `sig` to the init, or with `all` to every process of the
/// container's cgroup. `container not running` once it has stopped.
Status kill_container(const std::string& root, const std::string& id, int sig, bool all);

/// `delete`: removes a stopped (or created) container; `force` kills a
/// running one first. With `force`, a missing container is not an error.
Status delete_container(const std::string& root, const std::string& id, bool force);

struct RunOptions : CreateOptions {
  bool detach = false;
  bool keep = false;          // keep the stopped container (do not delete)
  bool no_subreaper = false;
};

struct ExecOptions {
  std::string root;
  std::string id;
  std::string process_file;          // --process: a runtime-spec process JSON ("-": stdin)
  std::vector<std::string> args;     // otherwise: the command and its arguments
  std::vector<std::string> env;      // NAME=value, added to (or replacing in) the container's env
  std::string cwd;
  std::string user;                  // "uid[:gid]"
  std::vector<std::string> additional_gids;
  std::vector<std::string> caps;     // added to every capability set
  bool no_new_privs = false;
  bool tty = false;
  std::string console_socket;
  std::string pidfd_socket;
  bool detach = false;
  std::string pid_file;
  int preserve_fds = 0;
  std::string process_label;
  std::string apparmor;
  bool ignore_paused = false;
  /// The runtime's own argv, to re-execute from a sealed copy when the
  /// container could otherwise reach the executable (sealed_exec.hpp).
  char* const* self_argv = nullptr;
};

/// `exec`: runs a new process in a running container's namespaces and
/// cgroup, with the container's capabilities, rlimits and no_new_privs unless
/// the process says otherwise. Detached, returns 0 once the process runs;
/// otherwise returns its exit status.
Result<int> exec_container(const ExecOptions& opts);

/// `pause`: freezes every process of the container (cgroup.freeze) and
/// returns once the kernel reports the cgroup frozen.
Status pause_container(const std::string& root, const std::string& id);
/// `resume`: thaws a paused container.
Status resume_container(const std::string& root, const std::string& id);

/// `ps`: host pids of every process in the container's cgroup.
Result<std::vector<pid_t>> container_pids(const std::string& root, const std::string& id);

/// `events --stats`: one runc-style stats object.
Result<std::string> container_stats(const std::string& root, const std::string& id);
/// `events`: a stats object every `interval_ms` and an {"type":"oom"} object
/// whenever the OOM killer strikes, each passed to `emit`, until the
/// container stops.
Status container_events(const std::string& root, const std::string& id, int interval_ms,
                        const std::function<void(const std::string&)>& emit);

struct UpdateRequest {
  std::string resources_json;  // --resources: a runtime-spec linux.resources object, merged in
  // Individual flags, as JSON values set at linux.resources paths
  // ({"memory", "limit"} -> 67108864).
  std::vector<std::pair<std::vector<std::string>, std::string>> fields;
};

/// `update`: merges new resource values into the container's config, checks
/// them, and writes them into its cgroup (devices: a new filter replaces the
/// old one). The saved config keeps the merged values for the next update.
Status update_container(const std::string& root, const std::string& id, const UpdateRequest& req);

/// `features`: the runtime-spec features document, true to what berth does.
std::string features_json();

/// `run`: create and start in one process. Detached, returns 0 once the
/// process runs; otherwise forwards signals (and the terminal), waits, deletes
/// the container unless `keep`, and returns the process's exit status.
Result<int> run_container(const RunOptions& opts);

}  // namespace berth::runtime
