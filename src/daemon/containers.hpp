// berthd's containers: their records under <data-root>/containers/<id>, the
// lifecycle (create, start through a berth-monitor, stop, kill, remove,
// restart policies), exit handling and the reload after a daemon restart.
//
// A container's directory is also its OCI bundle: container.json (berthd's
// record), config.json (the runtime config written at each start), rootfs
// (the overlay, mounted while it runs), upper/ and work/ (its writable
// layer, kept across restarts) and the monitor's files (monitor/protocol.hpp).
//
// Locking: mu_ guards every container's fields and the maps; an operation
// that takes long (a start unpacks layers, a stop waits) holds only the
// container's own op mutex, and waits on cv_ for state changes.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "common/unique_fd.hpp"
#include "image/snapshot.hpp"
#include "image/store.hpp"

namespace berth::daemon {

class NetworkManager;
struct NetworkRecord;

/// An error with the HTTP status docker answers it with.
struct ApiError {
  int status = 500;
  std::string message;
};
template <typename T>
using ApiResult = std::variant<T, ApiError>;

struct ContainerState {
  std::string status = "created";  // created running paused restarting exited dead removing
  pid_t pid = 0;
  int exit_code = 0;
  bool oom_killed = false;
  std::string error;
  std::string started_at = "0001-01-01T00:00:00Z";
  std::string finished_at = "0001-01-01T00:00:00Z";
};

struct Container {
  std::string id;
  std::string name;  // without the leading '/'
  std::string created;
  std::string image;     // as the client named it
  std::string image_id;  // sha256:<config digest>
  nlohmann::json config;       // docker's Config (with the image's values filled in)
  nlohmann::json host_config;  // docker's HostConfig
  std::string path;            // the process: Path and Args, as inspect shows them
  std::vector<std::string> args;
  ContainerState state;
  int restart_count = 0;
  bool manual_stop = false;  // stopped by the user: no restart policy applies
  bool has_been_started = false;
  pid_t monitor_pid = 0;
  /// docker's NetworkingConfig (EndpointsConfig: aliases), as created.
  nlohmann::json networking = nlohmann::json::object();
  /// While running on bridge networks: its Attachments (networks.hpp), a
  /// JSON array, the network it started on first.
  nlohmann::json network;
  /// Exits seen since berthd started: attach and wait compare it.
  uint64_t exits = 0;
  bool removed = false;
  bool user_restart = false;     // a `restart` is stopping it: no policy, no AutoRemove
  uint64_t restart_generation = 0;  // a pending policy restart runs only for its own exit
  std::mutex op;  // one lifecycle operation at a time

  std::string dir;  // <data-root>/containers/<id>
  bool tty() const { return config.value("Tty", false); }
};

struct ExecRecord {
  std::string id;
  std::string container_id;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user, working_dir;
  bool tty = false, attach_stdin = false, attach_stdout = true, attach_stderr = true, privileged = false;
  bool started = false;  // set once, by the one start that runs it
  bool running = false;
  std::optional<int> exit_code;
  pid_t pid = 0;
  int pty_master = -1;  // while running with a tty (resize)
};

/// An event for /events.
struct Event {
  std::string type = "container";
  std::string action;
  std::string id;
  std::map<std::string, std::string> attributes;
  int64_t time_nano = 0;
};

class ContainerManager {
 public:
  struct Options {
    std::string data_root;
    std::string exec_root;
    std::string monitor_path;  // berth-monitor
    std::string runtime_path;  // berth-runtime (exec)
    std::string image_helper_path;  // berth-image (unpacks layers a start needs)
    NetworkManager* networks = nullptr;  // bridge networks; none: loopback only
    std::string cgroup_parent = "/berth";  // each container's cgroup is <parent>/<id>
    int64_t log_max_size = 10 * 1024 * 1024;
    int log_max_files = 2;
  };
  /// `store_mu` is the image store's lock: held shared while a start
  /// unpacks, so an image removal never prunes layers being unpacked.
  ContainerManager(Options o, image::ContentStore& store, image::ImageIndex& index, image::SnapshotStore& snaps,
                   std::shared_mutex& store_mu);
  ~ContainerManager();

  /// Reads every container record; adopts the monitors still running,
  /// records the exits that happened while berthd was away, and starts the
  /// containers whose restart policy says so.
  Status load();

  const Options& options() const { return o_; }
  /// berthd is stopping: connections are about to be shut down, which a
  /// handler must not take for its client's doing.
  void begin_shutdown() { shutting_down_ = true; }
  bool shutting_down() const { return shutting_down_; }
  std::string runtime_root() const { return o_.exec_root + "/runtime"; }

  ApiResult<std::pair<std::string, std::vector<std::string>>> create(const std::string& name,
                                                                      const nlohmann::json& body);
  /// 304 when already running.
  ApiResult<bool> start(const std::string& ref);
  /// POST /networks/{id}/connect and /disconnect: a created container gets
  /// the network at its start, a running one an interface at once.
  ApiResult<bool> connect(const std::string& ref, const std::string& network, const std::vector<std::string>& aliases);
  ApiResult<bool> disconnect(const std::string& ref, const std::string& network);
  ApiResult<bool> stop(const std::string& ref, std::optional<int> timeout_s, const std::string& signal);
  ApiResult<bool> kill(const std::string& ref, const std::string& signal);
  ApiResult<bool> restart(const std::string& ref, std::optional<int> timeout_s);
  ApiResult<bool> remove(const std::string& ref, bool force, bool volumes);
  ApiResult<bool> pause(const std::string& ref, bool pause);
  ApiResult<bool> resize(const std::string& ref, int rows, int cols);
  ApiResult<bool> rename(const std::string& ref, const std::string& name);
  /// Blocks until the condition ("not-running", "next-exit", "removed") holds;
  /// `ready` is called once the wait is registered (the headers go out).
  ApiResult<int> wait(const std::string& ref, const std::string& condition, const std::function<void()>& ready,
                      const std::function<bool()>& cancelled);

  /// A copy of the container's fields, for inspect, list and I/O.
  struct Snapshot {
    std::string id, name, created, image, image_id, path, dir;
    std::vector<std::string> args;
    nlohmann::json config, host_config, networking, network;
    ContainerState state;
    int restart_count = 0;
    uint64_t exits = 0;
    bool tty = false;
  };
  std::optional<Snapshot> find(const std::string& ref);
  std::vector<Snapshot> list();
  size_t count_running();

  /// Sends stdin bytes (or the close) to the container's monitor.
  Status send_to_monitor(const std::string& id, char type, std::string_view data);

  // exec
  ApiResult<std::string> exec_create(const std::string& ref, const nlohmann::json& body);
  std::optional<ExecRecord> exec_find(const std::string& id);
  void exec_update(const std::string& id, const std::function<void(ExecRecord&)>& f);

  /// Events: subscribe returns a token; every event after it is passed to
  /// the callback (from the thread that emitted it) until unsubscribed.
  uint64_t subscribe(std::function<void(const Event&)> cb);
  void unsubscribe(uint64_t token);
  void emit(const std::string& action, const Snapshot& c, std::map<std::string, std::string> extra = {});
  void emit_image(const std::string& action, const std::string& ref);

 private:
  std::shared_ptr<Container> lookup(const std::string& ref);  // mu_ held
  Snapshot snap(const Container& c);                          // mu_ held
  Status save(const Container& c);                            // mu_ held
  void persist(const Container& c);                           // mu_ held; logs a failure
  ApiResult<bool> start_locked(const std::shared_ptr<Container>& c);
  Status prepare_bundle(Container& c, const nlohmann::json& cfg, const nlohmann::json& host);
  void watch(const std::shared_ptr<Container>& c, UniqueFd pidfd);
  void watcher_loop();
  void on_monitor_exit(const std::shared_ptr<Container>& c);
  void schedule_restart(const std::shared_ptr<Container>& c, int delay_ms);
  ApiResult<bool> stop_locked(const std::shared_ptr<Container>& c, int timeout_s, int sig);
  void remove_files(Container& c);
  /// Undoes what a start made outside the container's directory tree: the
  /// rootfs mount and, on a bridge network, the attachment. Idempotent.
  void release_runtime(Container& c);
  /// On a bridge network: attaches `c` and points the spec at its network
  /// namespace; writes /etc/hosts and /etc/resolv.conf content to use.
  std::vector<std::string> dns_names(const Container& c, const NetworkRecord& n);
  /// The container and the network a connect or disconnect names (404s).
  ApiResult<std::pair<std::shared_ptr<Container>, NetworkRecord>> network_target(const std::string& ref,
                                                                                 const std::string& network);
  /// Records and announces a connect or disconnect.
  void network_changed(Container& c, const std::string& action, const std::string& network);
  Status connect_network(Container& c, const nlohmann::json& host, nlohmann::json& spec, std::string* hosts_ip,
                         std::optional<std::string>* nameserver);

  Options o_;
  image::ContentStore& store_;
  image::ImageIndex& index_;
  image::SnapshotStore& snaps_;
  std::shared_mutex& store_mu_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Container>> by_id_;
  std::map<std::string, std::string> by_name_;
  std::map<std::string, ExecRecord> execs_;

  std::mutex ev_mu_;
  std::map<uint64_t, std::function<void(const Event&)>> subscribers_;
  uint64_t next_token_ = 1;

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd: stops the watcher
  std::map<int, std::pair<std::shared_ptr<Container>, UniqueFd>> watched_;  // mu_ held
  std::thread watcher_;
  bool stopping_ = false;
  std::atomic<bool> shutting_down_{false};
};

/// Docker's container name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading '/' allowed).
bool valid_container_name(std::string_view name);

/// Docker's human status: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created".
std::string human_status(const ContainerState& s, int64_t now_s);

using berth::human_duration;  // common/time.hpp

/// Starts args[0] (looked up in PATH with `search_path`) with the file
/// actions `fa`, every signal at its default disposition and none blocked
/// (berthd blocks SIGTERM and SIGINT in all its threads), in a session of
/// its own with `new_session`. Every fd berthd opens is O_CLOEXEC: only what
/// `fa` sets up reaches the program.
Result<pid_t> spawn_program(std::vector<std::string> args, const posix_spawn_file_actions_t* fa, bool new_session,
                            bool search_path = false);

}  // namespace berth::daemon
