// ContainerManager: records, lookups, create, exec records, events.
#include "daemon/containers.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "common/time.hpp"
#include "common/unix_socket.hpp"
#include "daemon/container_io.hpp"
#include "daemon/container_util.hpp"
#include "daemon/networks.hpp"
#include "daemon/images.hpp"
#include "image/runconfig.hpp"
#include "monitor/protocol.hpp"
#include "runtime/container.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/spec_default.hpp"

extern char** environ;

namespace berth::daemon {

using nlohmann::json;
using namespace detail;

namespace detail {

std::string now_nano() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339_nano(ts);
}

int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (!fd || ::read(fd.get(), raw.data(), bytes) != static_cast<ssize_t>(bytes)) {
    // Never expected; the time and pid still make a unique value here.
    auto t = static_cast<uint64_t>(now_ns()) ^ (static_cast<uint64_t>(::getpid()) << 40);
    for (size_t i = 0; i < bytes; ++i) raw[i] = static_cast<char>(t >> ((i % 8) * 8) ^ i * 131);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// Names made of two words, as docker makes them when none is given.
std::string generated_name(uint64_t seed) {
  static const char* left[] = {"brave",  "calm",   "eager", "fond",  "gentle", "happy", "keen",  "lucid",
                               "mellow", "nimble", "proud", "quiet", "rapid",  "sharp", "steady", "tidy"};
  static const char* right[] = {"anchor", "beacon", "cable",  "dock",   "ferry", "harbor", "jetty", "keel",
                                "lantern", "mooring", "pier", "quay", "rudder", "sail", "tide", "wharf"};
  return cat(left[seed % 16], "_", right[(seed / 16) % 16]);
}

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> v;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) v.push_back(e.get<std::string>());
  if (j.is_string()) v.push_back(j.get<std::string>());
  return v;
}

json list_or_null(const std::vector<std::string>& v, bool present) {
  if (!present) return nullptr;
  json a = json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

int64_t int_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->get<int64_t>();
}

// The exit status docker's CLI turns into 126/127 is recognised by its text.
int exit_code_for_start_error(const std::string& m) {
  if (m.find("executable file not found") != std::string::npos || m.find("no such file or directory") != std::string::npos)
    return 127;
  if (m.find("permission denied") != std::string::npos) return 126;
  return 128;
}

bool monitor_alive(const std::string& dir) {
  UniqueFd fd(::open((dir + "/" + std::string(monitor::kLockFile)).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;  // nobody holds it
  return errno == EWOULDBLOCK;
}

void unmount_rootfs(const std::string& dir) {
  std::string rootfs = dir + "/rootfs";
  while (::umount2(rootfs.c_str(), MNT_DETACH) == 0) {
  }
}

// For calls whose failure changes nothing (the process is already gone):
// noted in the debug log only.
void best_effort(Status st, const std::string& what) {
  if (!st) log::debug(st.error().wrap(what).message());
}

// docker's restart policy names.
bool valid_policy(const std::string& n) {
  return n.empty() || n == "no" || n == "always" || n == "unless-stopped" || n == "on-failure";
}

}  // namespace detail

Result<pid_t> spawn_program(std::vector<std::string> args, const posix_spawn_file_actions_t* fa, bool new_session,
                            bool search_path) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = 0;
  int rc = search_path ? ::posix_spawnp(&pid, argv[0], fa, &attr, argv.data(), environ)
                       : ::posix_spawn(&pid, argv[0], fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error(rc, "start " + args[0]);
  return pid;
}

bool valid_container_name(std::string_view name) {
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  if (name.size() < 2) return false;
  auto ok = [](char c, bool first) {
    return std::isalnum(static_cast<unsigned char>(c)) || (!first && (c == '_' || c == '.' || c == '-'));
  };
  for (size_t i = 0; i < name.size(); ++i)
    if (!ok(name[i], i == 0)) return false;
  return true;
}

std::string human_status(const ContainerState& s, int64_t now_s) {
  auto since = [&](const std::string& t) { return human_duration(now_s - parse_rfc3339(t)); };
  if (s.status == "running") return "Up " + since(s.started_at);
  if (s.status == "paused") return "Up " + since(s.started_at) + " (Paused)";
  if (s.status == "restarting") return cat("Restarting (", s.exit_code, ") ", since(s.finished_at), " ago");
  if (s.status == "removing") return "Removal In Progress";
  if (s.status == "dead") return "Dead";
  if (s.status == "exited") {
    if (parse_rfc3339(s.finished_at) <= 0) return cat("Exited (", s.exit_code, ")");
    return cat("Exited (", s.exit_code, ") ", since(s.finished_at), " ago");
  }
  return "Created";
}

// ---- the manager -------------------------------------------------------------

ContainerManager::ContainerManager(Options o, image::ContentStore& store, image::ImageIndex& index,
                                   image::SnapshotStore& snaps, std::shared_mutex& store_mu)
    : o_(std::move(o)), store_(store), index_(index), snaps_(snaps), store_mu_(store_mu) {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  watcher_ = std::thread([this] { watcher_loop(); });
}

ContainerManager::~ContainerManager() {
  {
    std::lock_guard g(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
  if (watcher_.joinable()) watcher_.join();
}

std::shared_ptr<Container> ContainerManager::lookup(const std::string& ref) {
  if (ref.empty()) return nullptr;
  if (auto it = by_id_.find(ref); it != by_id_.end()) return it->second;
  std::string n = ref[0] == '/' ? ref.substr(1) : ref;
  if (auto it = by_name_.find(n); it != by_name_.end()) return by_id_.at(it->second);
  std::shared_ptr<Container> match;
  for (auto& [id, c] : by_id_)
    if (id.compare(0, ref.size(), ref) == 0) {
      if (match) return nullptr;  // ambiguous
      match = c;
    }
  return match;
}

ContainerManager::Snapshot ContainerManager::snap(const Container& c) {
  Snapshot s;
  s.id = c.id;
  s.name = c.name;
  s.created = c.created;
  s.image = c.image;
  s.image_id = c.image_id;
  s.path = c.path;
  s.args = c.args;
  s.dir = c.dir;
  s.config = c.config;
  s.host_config = c.host_config;
  s.networking = c.networking;
  s.network = c.network;
  s.state = c.state;
  s.restart_count = c.restart_count;
  s.exits = c.exits;
  s.tty = c.tty();
  return s;
}

void ContainerManager::persist(const Container& c) {
  if (auto st = save(c); !st) log::warn(st.error().wrap("save container " + c.id).message());
}

Status ContainerManager::save(const Container& c) {
  json j = {{"Id", c.id},
            {"Name", c.name},
            {"Created", c.created},
            {"Image", c.image},
            {"ImageID", c.image_id},
            {"Config", c.config},
            {"HostConfig", c.host_config},
            {"NetworkingConfig", c.networking},
            {"NetworkAttachment", c.network},
            {"Path", c.path},
            {"Args", c.args},
            {"RestartCount", c.restart_count},
            {"ManualStop", c.manual_stop},
            {"HasBeenStarted", c.has_been_started},
            {"MonitorPid", c.monitor_pid},
            {"State",
             {{"Status", c.state.status},
              {"Pid", c.state.pid},
              {"ExitCode", c.state.exit_code},
              {"OOMKilled", c.state.oom_killed},
              {"Error", c.state.error},
              {"StartedAt", c.state.started_at},
              {"FinishedAt", c.state.finished_at}}}};
  UniqueFd dfd(::open(c.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return sys_error("open ", c.dir);
  return write_file_atomic(dfd.get(), kRecord, j.dump() + "\n", 0600);
}

std::optional<ContainerManager::Snapshot> ContainerManager::find(const std::string& ref) {
  std::lock_guard g(mu_);
  auto c = lookup(ref);
  if (!c) return std::nullopt;
  return snap(*c);
}

std::vector<ContainerManager::Snapshot> ContainerManager::list() {
  std::lock_guard g(mu_);
  std::vector<Snapshot> out;
  for (auto& [id, c] : by_id_) out.push_back(snap(*c));
  // Newest first, as docker lists them.
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) { return a.created > b.created; });
  return out;
}

size_t ContainerManager::count_running() {
  std::lock_guard g(mu_);
  size_t n = 0;
  for (auto& [id, c] : by_id_) n += c->state.status == "running" || c->state.status == "paused";
  return n;
}

// ---- create ------------------------------------------------------------------

ApiResult<std::pair<std::string, std::vector<std::string>>> ContainerManager::create(const std::string& name_in,
                                                                                      const json& body) {
  if (!body.is_object()) return ApiError{400, "the request body is not a JSON object"};
  std::string image_name = body.value("Image", "");
  if (image_name.empty()) return ApiError{400, "Config cannot be empty in order to create a container"};
  std::string name = name_in;
  if (!name.empty() && name[0] == '/') name = name.substr(1);
  if (!name.empty() && !valid_container_name(name))
    return ApiError{400, cat("Invalid container name (", name_in, "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")};

  // Held until the container is listed: an image removal checks the list
  // under the exclusive lock, so it never removes an image being used here.
  std::shared_lock store_lock(store_mu_);
  auto found = find_image(store_, index_, image_name);
  if (!found) return ApiError{404, found.error().message()};
  if (!*found) return ApiError{404, "No such image: " + image_name};
  const image::RunConfig& rc = (*found)->image.resolved.config.config;

  std::vector<std::string> warnings;
  json host = body.value("HostConfig", json::object());
  if (!host.is_object()) return ApiError{400, "HostConfig is not a JSON object"};
  // Fields berth does not implement: a warning when set, so nothing is
  // silently dropped.
  for (const char* f : {"CapAdd", "CapDrop", "Devices", "Dns", "DnsSearch", "ExtraHosts", "Links", "LogConfig",
                        "SecurityOpt", "Sysctls", "Tmpfs", "Ulimits", "VolumesFrom", "Mounts"}) {
    auto it = host.find(f);
    if (it == host.end() || it->is_null() || (it->is_array() && it->empty()) || (it->is_object() && it->empty()))
      continue;
    if (std::string(f) == "LogConfig") {
      std::string type = it->value("Type", "");
      if (type.empty() || type == "json-file") continue;
    }
    warnings.push_back(cat("HostConfig.", f, " is not supported by berthd and was ignored"));
  }
  if (host.value("Privileged", false)) return ApiError{400, "privileged containers are not supported by berthd"};
  std::string netmode = host.value("NetworkMode", "default");
  if (netmode.empty()) netmode = "default";
  if (netmode.starts_with("container:")) {
    std::string other = netmode.substr(10);
    std::lock_guard g(mu_);
    auto o = lookup(other);
    if (!o) return ApiError{404, "No such container: " + other};
    netmode = "container:" + o->id;
  } else if (netmode != "default" && netmode != "none" && netmode != "host") {
    if (!o_.networks) return ApiError{400, cat("network mode \"", netmode, "\" needs networking, which is off")};
    if (!o_.networks->find(netmode)) return ApiError{404, cat("network ", netmode, " not found")};
  }
  if (auto ports = port_bindings(host.value("PortBindings", json::object())); !ports)
    return ApiError{400, ports.error().message()};
  else if (!ports->empty() && (netmode == "host" || netmode == "none" || netmode.starts_with("container:")))
    warnings.push_back(cat("published ports are discarded when using ", netmode, " network mode"));
  json networking = body.value("NetworkingConfig", json::object());
  if (!networking.is_object()) return ApiError{400, "NetworkingConfig is not a JSON object"};
  json policy = host.value("RestartPolicy", json::object());
  std::string pname = policy.is_object() ? policy.value("Name", "") : "";
  if (!valid_policy(pname)) return ApiError{400, cat("invalid restart policy '", pname, "'")};
  if (host.value("AutoRemove", false) && !pname.empty() && pname != "no")
    return ApiError{400, "can't create 'AutoRemove' container with restart policy"};
  if (policy.is_object() && policy.value("MaximumRetryCount", 0) != 0 && pname != "on-failure")
    return ApiError{400, cat("maximum retry count cannot be used with restart policy '", pname, "'")};
  for (const auto& b : strings_of(host.value("Binds", json::array()))) {
    auto parts = split(b, ':');
    if (parts.size() < 2 || parts.size() > 3 || !parts[0].starts_with('/') || !parts[1].starts_with('/'))
      return ApiError{400, cat("invalid bind \"", b, "\": want /host/path:/container/path[:ro] (named volumes are not supported)")};
    if (!path_exists(parts[0])) return ApiError{400, cat("invalid bind \"", b, "\": ", parts[0], " does not exist")};
  }
  if (int_field(host, "Memory") < 0 || int_field(host, "NanoCpus") < 0 || int_field(host, "CpuShares") < 0)
    return ApiError{400, "Memory, NanoCpus and CpuShares cannot be negative"};
  host["NetworkMode"] = netmode;
  if (!host.contains("RestartPolicy") || !host["RestartPolicy"].is_object())
    host["RestartPolicy"] = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  if (host["RestartPolicy"].value("Name", "").empty()) host["RestartPolicy"]["Name"] = "no";
  host["LogConfig"] = {{"Type", "json-file"}, {"Config", json::object()}};

  // The config inspect shows: what was asked, the image's values for the rest.
  json cfg = body;
  cfg.erase("HostConfig");
  cfg.erase("NetworkingConfig");
  bool has_entrypoint = cfg.contains("Entrypoint") && !cfg["Entrypoint"].is_null();
  std::vector<std::string> entrypoint = has_entrypoint ? strings_of(cfg["Entrypoint"]) : rc.entrypoint;
  std::vector<std::string> cmd = strings_of(cfg.value("Cmd", json()));
  if (cmd.empty() && !has_entrypoint) cmd = rc.cmd;
  if (entrypoint.empty() && cmd.empty()) return ApiError{400, "No command specified"};
  cfg["Entrypoint"] = list_or_null(entrypoint, !entrypoint.empty());
  cfg["Cmd"] = list_or_null(cmd, !cmd.empty());
  std::vector<std::string> env = rc.env;
  for (const auto& e : strings_of(cfg.value("Env", json()))) {
    std::string key = e.substr(0, e.find('='));
    std::erase_if(env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    env.push_back(e);
  }
  cfg["Env"] = env;
  if (cfg.value("WorkingDir", "").empty()) cfg["WorkingDir"] = rc.working_dir;
  if (cfg.value("User", "").empty()) cfg["User"] = rc.user;
  if (!cfg.contains("StopSignal") && !rc.stop_signal.empty()) cfg["StopSignal"] = rc.stop_signal;
  if (auto s = cfg.value("StopSignal", ""); !s.empty() && !runtime::parse_signal(s))
    return ApiError{400, cat("invalid signal: ", s)};
  json labels = json::object();
  for (const auto& [k, v] : rc.labels) labels[k] = v;
  if (auto l = cfg.find("Labels"); l != cfg.end() && l->is_object())
    for (auto& [k, v] : l->items()) labels[k] = v;
  cfg["Labels"] = labels;
  cfg["Image"] = image_name;
  for (const char* b : {"Tty", "OpenStdin", "StdinOnce", "AttachStdin", "AttachStdout", "AttachStderr"})
    if (!cfg.contains(b) || !cfg[b].is_boolean()) cfg[b] = false;

  auto c = std::make_shared<Container>();
  c->id = random_hex(32);
  if (cfg.value("Hostname", "").empty()) cfg["Hostname"] = c->id.substr(0, 12);
  c->created = now_nano();
  c->image = image_name;
  c->image_id = (*found)->image.id.str();
  c->config = std::move(cfg);
  c->host_config = std::move(host);
  c->networking = std::move(networking);
  std::vector<std::string> argv = entrypoint;
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  c->path = argv.front();
  c->args.assign(argv.begin() + 1, argv.end());
  c->dir = cat(o_.data_root, "/containers/", c->id);

  std::unique_lock g(mu_);
  if (name.empty()) {
    for (uint64_t i = 0;; ++i) {
      uint64_t seed = std::stoull(c->id.substr(0, 8), nullptr, 16) + i;
      name = generated_name(seed);
      if (i >= 256) name += cat("_", i);
      if (!by_name_.count(name)) break;
    }
  }
  if (auto it = by_name_.find(name); it != by_name_.end())
    return ApiError{409, cat("Conflict. The container name \"/", name, "\" is already in use by container \"",
                             it->second, "\". You have to remove (or rename) that container to be able to reuse that name.")};
  c->name = name;
  if (auto st = mkdir_all(c->dir, 0700); !st) return ApiError{500, st.error().message()};
  if (auto st = save(*c); !st) {
    best_effort(remove_all(c->dir), "remove " + c->dir);
    return ApiError{500, st.error().message()};
  }
  by_id_[c->id] = c;
  by_name_[name] = c->id;
  Snapshot s = snap(*c);
  std::string id = c->id;
  g.unlock();
  emit("create", s);
  return std::make_pair(id, warnings);
}


// ---- exec records --------------------------------------------------------------

ApiResult<std::string> ContainerManager::exec_create(const std::string& ref, const json& body) {
  if (!body.is_object()) return ApiError{400, "the request body is not a JSON object"};
  std::vector<std::string> cmd = strings_of(body.value("Cmd", json()));
  if (cmd.empty()) return ApiError{400, "No exec command specified"};
  if (body.value("Privileged", false)) return ApiError{400, "privileged exec is not supported by berthd"};
  std::lock_guard g(mu_);
  auto c = lookup(ref);
  if (!c) return ApiError{404, "No such container: " + ref};
  if (c->state.status == "paused") return ApiError{409, cat("Container ", c->id, " is paused, unpause the container before exec")};
  if (c->state.status != "running") return ApiError{409, cat("Container ", c->id, " is not running")};
  ExecRecord e;
  e.id = random_hex(32);
  e.container_id = c->id;
  e.cmd = cmd;
  e.env = strings_of(body.value("Env", json()));
  e.user = body.value("User", "");
  e.working_dir = body.value("WorkingDir", "");
  e.tty = body.value("Tty", false);
  e.attach_stdin = body.value("AttachStdin", false);
  e.attach_stdout = body.value("AttachStdout", false);
  e.attach_stderr = body.value("AttachStderr", false);
  execs_[e.id] = e;
  return e.id;
}

std::optional<ExecRecord> ContainerManager::exec_find(const std::string& id) {
  std::lock_guard g(mu_);
  auto it = execs_.find(id);
  if (it == execs_.end()) return std::nullopt;
  return it->second;
}

void ContainerManager::exec_update(const std::string& id, const std::function<void(ExecRecord&)>& f) {
  std::lock_guard g(mu_);
  if (auto it = execs_.find(id); it != execs_.end()) f(it->second);
}

// ---- events --------------------------------------------------------------------

uint64_t ContainerManager::subscribe(std::function<void(const Event&)> cb) {
  std::lock_guard g(ev_mu_);
  uint64_t t = next_token_++;
  subscribers_[t] = std::move(cb);
  return t;
}

void ContainerManager::unsubscribe(uint64_t token) {
  std::lock_guard g(ev_mu_);
  subscribers_.erase(token);
}

void ContainerManager::emit(const std::string& action, const Snapshot& c, std::map<std::string, std::string> extra) {
  Event e;
  e.action = action;
  e.id = c.id;
  e.attributes = std::move(extra);
  e.attributes["name"] = c.name;
  e.attributes["image"] = c.image;
  if (c.config.contains("Labels") && c.config["Labels"].is_object())
    for (auto& [k, v] : c.config["Labels"].items())
      if (v.is_string()) e.attributes.emplace(k, v.get<std::string>());
  e.time_nano = now_ns();
  std::lock_guard g(ev_mu_);
  for (auto& [t, cb] : subscribers_) cb(e);
}

void ContainerManager::emit_image(const std::string& action, const std::string& ref) {
  Event e;
  e.type = "image";
  e.action = action;
  e.id = ref;
  e.attributes["name"] = ref;
  e.time_nano = now_ns();
  std::lock_guard g(ev_mu_);
  for (auto& [t, cb] : subscribers_) cb(e);
}

}  // namespace berth::daemon
