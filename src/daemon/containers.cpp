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
#include "daemon/images.hpp"
#include "image/runconfig.hpp"
#include "monitor/protocol.hpp"
#include "runtime/container.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/spec_default.hpp"

extern char** environ;

namespace berth::daemon {

using nlohmann::json;

namespace {

constexpr const char* kRecord = "container.json";

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

}  // namespace

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
  if (netmode != "default" && netmode != "bridge" && netmode != "none" && netmode != "host")
    return ApiError{400, cat("network mode \"", netmode, "\" is not supported (default, bridge, none or host)")};
  if (auto pb = host.find("PortBindings"); pb != host.end() && pb->is_object() && !pb->empty() && netmode != "host")
    warnings.push_back("published ports need a bridge network, which this berthd does not provide yet; ignored");
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

// ---- start -------------------------------------------------------------------

Status ContainerManager::prepare_bundle(Container& c, const json& cfg, const json& host) {
  std::shared_lock store_lock(store_mu_);
  auto found = find_image(store_, index_, c.image_id);
  if (!found) return std::move(found).error();
  if (!*found) return make_error("No such image: ", c.image, " (", c.image_id, ")");
  const image::ResolvedImage& img = (*found)->image.resolved;
  auto chain = snaps_.prepare(store_, img);
  if (!chain) return std::move(chain).error().wrap("unpack " + c.image);
  std::string rootfs = c.dir + "/rootfs";
  unmount_rootfs(c.dir);
  BERTH_TRY(mkdir_all(rootfs, 0755));
  BERTH_TRY(image::mount_overlay(snaps_, *chain, c.dir + "/upper", c.dir + "/work", rootfs));
  auto fail = [&](Error e) -> Status {
    unmount_rootfs(c.dir);
    return e;
  };
  auto rootfd = open_file(rootfs, O_RDONLY | O_DIRECTORY);
  if (!rootfd) return fail(std::move(rootfd).error());

  image::RunOverrides o;
  o.entrypoint = strings_of(cfg.value("Entrypoint", json()));
  o.cmd = strings_of(cfg.value("Cmd", json()));
  o.env = strings_of(cfg.value("Env", json()));
  o.working_dir = cfg.value("WorkingDir", "");
  o.user = cfg.value("User", "");
  o.hostname = cfg.value("Hostname", "");
  o.tty = cfg.value("Tty", false);
  o.volume_root = c.dir + "/volumes";
  std::string base = runtime::default_spec_json(false, 0, 0);
  auto text = image::runtime_config(base, img.config, o, rootfd->get(), rootfs);
  if (!text) return fail(std::move(text).error());
  json spec = json::parse(*text);

  // Network: the host's, or a namespace of the container's own (loopback
  // only until berth has a bridge).
  json& ns = spec["linux"]["namespaces"];
  if (host.value("NetworkMode", "") == "host") {
    json kept = json::array();
    for (auto& n : ns)
      if (n.value("type", "") != "network" && n.value("type", "") != "uts") kept.push_back(n);
    ns = kept;
    spec.erase("hostname");
  }
  // /etc/hostname, /etc/hosts and /etc/resolv.conf, as docker provides them.
  std::string hostname = spec.value("hostname", "");
  if (hostname.empty()) {
    char h[256] = {};
    ::gethostname(h, sizeof h - 1);
    hostname = h;
  }
  auto etc = [&](const char* name, const std::string& content) -> Status {
    std::string p = cat(c.dir, "/", name);
    BERTH_TRY(write_file(p, content, true, 0644));
    spec["mounts"].push_back({{"destination", cat("/etc/", name)},
                              {"type", "bind"},
                              {"source", p},
                              {"options", {"rbind", "rprivate"}}});
    return {};
  };
  std::string resolv = read_file("/etc/resolv.conf").value_or("");
  if (auto st = etc("hostname", hostname + "\n"); !st) return fail(st.error());
  if (auto st = etc("hosts", cat("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t",
                                 hostname, "\n"));
      !st)
    return fail(st.error());
  if (auto st = etc("resolv.conf", resolv); !st) return fail(st.error());
  for (const auto& b : strings_of(host.value("Binds", json::array()))) {
    auto parts = split(b, ':');
    json opts = {"rbind", "rprivate"};
    if (parts.size() == 3)
      for (const auto& opt : split(parts[2], ','))
        if (opt == "ro") opts.push_back("ro");
    spec["mounts"].push_back({{"destination", parts[1]}, {"type", "bind"}, {"source", parts[0]}, {"options", opts}});
  }
  json res = json::object();
  if (int64_t m = int_field(host, "Memory"); m > 0) res["memory"]["limit"] = m;
  if (int64_t n = int_field(host, "NanoCpus"); n > 0) {
    res["cpu"]["period"] = 100000;
    res["cpu"]["quota"] = n / 10000;  // n/1e9 CPUs of a 100 ms period
  }
  if (int64_t s = int_field(host, "CpuShares"); s > 0) res["cpu"]["shares"] = s;
  if (int64_t p = int_field(host, "PidsLimit"); p > 0) res["pids"]["limit"] = p;
  if (!res.empty()) {
    json& r = spec["linux"]["resources"];
    for (auto& [k, v] : res.items()) r[k] = v;
  }
  // The terminal's size from the start (docker CLIs send it at create), so
  // the process never sees a 0x0 terminal before the first resize.
  if (auto cs = host.find("ConsoleSize"); o.tty && cs != host.end() && cs->is_array() && cs->size() == 2 &&
                                          (*cs)[0].is_number_unsigned() && (*cs)[1].is_number_unsigned() &&
                                          (*cs)[0].get<uint64_t>() > 0 && (*cs)[1].get<uint64_t>() > 0)
    spec["process"]["consoleSize"] = {{"height", (*cs)[0]}, {"width", (*cs)[1]}};
  spec["linux"]["cgroupsPath"] = o_.cgroup_parent + "/" + c.id;
  UniqueFd dfd(::open(c.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return fail(sys_error("open ", c.dir));
  if (auto st = write_file_atomic(dfd.get(), "config.json", spec.dump(2) + "\n", 0600); !st) return fail(st.error());
  return {};
}

ApiResult<bool> ContainerManager::start(const std::string& ref) {
  std::shared_ptr<Container> c;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
  }
  if (!c) return ApiError{404, "No such container: " + ref};
  std::lock_guard op(c->op);
  return start_locked(c);
}

ApiResult<bool> ContainerManager::start_locked(const std::shared_ptr<Container>& c) {
  json cfg, host;
  {
    std::lock_guard g(mu_);
    if (c->removed) return ApiError{404, "No such container: " + c->id};
    if (c->state.status == "paused") return ApiError{409, "cannot start a paused container, try unpause instead"};
    if (c->state.status == "running") return false;
    cfg = c->config;
    host = c->host_config;
    c->manual_stop = false;
  }
  // A start that fails counts as an exit (docker's "created" container
  // with the exit status the error implies): waiters and attached clients
  // finish, and an AutoRemove container goes.
  auto fail_start = [&](int status, const std::string& message) -> ApiResult<bool> {
    bool autoremove = false;
    {
      std::lock_guard g(mu_);
      c->state.error = message;
      c->state.exit_code = exit_code_for_start_error(message);
      c->state.finished_at = now_nano();
      if (c->state.status == "created" && c->has_been_started) c->state.status = "exited";
      if (c->state.status == "restarting") c->state.status = "exited";
      c->exits++;
      autoremove = c->host_config.value("AutoRemove", false);
      persist(*c);
    }
    cv_.notify_all();
    if (autoremove) {
      // This start holds the container's op lock; the removal waits for it.
      std::string id = c->id;
      std::thread([this, id] { remove(id, true, true); }).detach();
    }
    return ApiError{status, message};
  };
  ::unlink((c->dir + "/" + std::string(monitor::kExitFile)).c_str());
  if (auto st = prepare_bundle(*c, cfg, host); !st) return fail_start(500, st.error().message());

  std::string root = runtime_root();
  if (auto st = mkdir_all(root, 0700); !st) {
    unmount_rootfs(c->dir);
    return fail_start(500, st.error().message());
  }
  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) < 0) {
    unmount_rootfs(c->dir);
    return fail_start(500, sys_error("pipe").message());
  }
  UniqueFd sync_r(sync[0]), sync_w(sync[1]);
  std::vector<std::string> args = {o_.monitor_path, "--root",   root,  "--id",  c->id, "--bundle",
                                   c->dir,          "--dir",    c->dir, "--sync-fd", "3"};
  if (cfg.value("Tty", false)) args.push_back("--tty");
  if (cfg.value("OpenStdin", false)) args.push_back("--stdin");
  if (cfg.value("StdinOnce", false)) args.push_back("--stdin-once");
  args.insert(args.end(), {"--log-max-size", std::to_string(o_.log_max_size), "--log-max-files",
                           std::to_string(o_.log_max_files)});
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::string mlog = c->dir + "/monitor.log";
  posix_spawn_file_actions_addopen(&fa, 1, mlog.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_adddup2(&fa, sync_w.get(), 3);
  auto spawned = spawn_program(std::move(args), &fa, true);
  posix_spawn_file_actions_destroy(&fa);
  sync_w.reset();
  if (!spawned) {
    unmount_rootfs(c->dir);
    return fail_start(500, spawned.error().message());
  }
  pid_t mpid = *spawned;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, mpid, 0)));

  // The monitor's one line: "ok <pid>" or "error <message>".
  std::string line;
  for (;;) {
    pollfd p{sync_r.get(), POLLIN, 0};
    int n = ::poll(&p, 1, 120000);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      line = "error berth-monitor did not report within 120 s";
      break;
    }
    char buf[4096];
    ssize_t r = ::read(sync_r.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    line.append(buf, static_cast<size_t>(r));
    if (line.find('\n') != std::string::npos) break;
  }
  if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  if (!line.starts_with("ok ")) {
    // A monitor that never answered may still be at work: stop it and
    // whatever it made before reaping it.
    ::kill(mpid, SIGKILL);
    best_effort(runtime::delete_container(root, c->id, true), "delete " + c->id);
    int status = 0;
    while (::waitpid(mpid, &status, 0) < 0 && errno == EINTR) {
    }
    unmount_rootfs(c->dir);
    std::string msg = line.starts_with("error ") ? line.substr(6) : line;
    if (msg.empty()) {
      auto tail = read_file(mlog).value_or("");
      msg = "berth-monitor exited without reporting" + (tail.empty() ? std::string() : ": " + std::string(trim(tail)));
    }
    int code = exit_code_for_start_error(msg);
    return fail_start(code == 128 ? 500 : 400, msg);
  }
  pid_t init = static_cast<pid_t>(std::strtol(line.c_str() + 3, nullptr, 10));
  Snapshot s;
  {
    std::lock_guard g(mu_);
    c->state.status = "running";
    c->state.pid = init;
    c->state.error.clear();
    c->state.exit_code = 0;
    c->state.oom_killed = false;
    c->state.started_at = now_nano();
    c->state.finished_at = "0001-01-01T00:00:00Z";
    c->has_been_started = true;
    c->monitor_pid = mpid;
    persist(*c);
    s = snap(*c);
  }
  cv_.notify_all();
  watch(c, std::move(pidfd));
  emit("start", s);
  return true;
}

// ---- exits -------------------------------------------------------------------

void ContainerManager::watch(const std::shared_ptr<Container>& c, UniqueFd pidfd) {
  if (!pidfd) {
    // Without a pidfd there is nothing to wait on: treat as exited now.
    std::thread([this, c] { on_monitor_exit(c); }).detach();
    return;
  }
  int fd = pidfd.get();
  {
    std::lock_guard g(mu_);
    watched_[fd] = {c, std::move(pidfd)};
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
}

void ContainerManager::watcher_loop() {
  for (;;) {
    epoll_event evs[16];
    int n = ::epoll_wait(epoll_.get(), evs, 16, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == wake_.get()) {
        std::lock_guard g(mu_);
        if (stopping_) return;
        continue;
      }
      std::shared_ptr<Container> c;
      UniqueFd owned;
      {
        std::lock_guard g(mu_);
        auto it = watched_.find(fd);
        if (it == watched_.end()) continue;
        c = it->second.first;
        owned = std::move(it->second.second);
        watched_.erase(it);
      }
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
      siginfo_t si{};
      ::waitid(static_cast<idtype_t>(3) /* P_PIDFD */, static_cast<id_t>(fd), &si, WEXITED | WNOHANG);
      // The rest (unmounts, restarts) runs off the watcher thread.
      std::thread([this, c] { on_monitor_exit(c); }).detach();
    }
  }
}

void ContainerManager::on_monitor_exit(const std::shared_ptr<Container>& c) {
  auto text = read_file(c->dir + "/" + std::string(monitor::kExitFile));
  json ex = text ? json::parse(*text, nullptr, false) : json();
  bool recorded = ex.is_object();
  if (!recorded) {
    // The monitor died without recording an exit: make sure nothing of the
    // container is left running.
    best_effort(runtime::delete_container(runtime_root(), c->id, true), "delete " + c->id);
  }
  unmount_rootfs(c->dir);
  Snapshot s;
  bool restart = false, autoremove = false;
  int delay_ms = 0;
  {
    std::lock_guard g(mu_);
    if (c->removed) return;
    c->state.pid = 0;
    c->state.exit_code = recorded ? ex.value("ExitCode", 0) : 255;
    c->state.oom_killed = recorded && ex.value("OOMKilled", false);
    c->state.finished_at = recorded ? ex.value("FinishedAt", now_nano()) : now_nano();
    if (!recorded) c->state.error = "berth-monitor exited without recording the container's exit (see monitor.log)";
    c->monitor_pid = 0;
    c->exits++;
    json policy = c->host_config.value("RestartPolicy", json::object());
    std::string name = policy.value("Name", "no");
    int max = policy.value("MaximumRetryCount", 0);
    if (!c->manual_stop && !stopping_ && !c->user_restart) {
      if (name == "always" || name == "unless-stopped")
        restart = true;
      else if (name == "on-failure" && c->state.exit_code != 0 && (max == 0 || c->restart_count < max))
        restart = true;
    }
    autoremove = !restart && !c->user_restart && c->host_config.value("AutoRemove", false);
    if (restart) {
      // docker's back-off: 100 ms doubling per restart, at most a minute,
      // back to the start after a run of 10 s or more.
      int64_t ran = parse_rfc3339(c->state.finished_at) - parse_rfc3339(c->state.started_at);
      int n = ran >= 10 ? 0 : std::min(c->restart_count, 10);
      delay_ms = std::min(100 << n, 60000);
      c->state.status = "restarting";
    } else {
      c->state.status = "exited";
    }
    persist(*c);
    s = snap(*c);
  }
  cv_.notify_all();
  emit("die", s, {{"exitCode", std::to_string(s.state.exit_code)}});
  if (restart) schedule_restart(c, delay_ms);
  if (autoremove) remove(c->id, true, true);
}

void ContainerManager::schedule_restart(const std::shared_ptr<Container>& c, int delay_ms) {
  uint64_t generation;
  {
    std::lock_guard g(mu_);
    generation = ++c->restart_generation;
  }
  std::thread([this, c, delay_ms, generation] {
    {
      // Woken early only by shutdown; a stop or another exit in the
      // meantime makes this restart stale (the generation moved on).
      std::unique_lock g(mu_);
      cv_.wait_for(g, std::chrono::milliseconds(delay_ms), [&] { return stopping_; });
    }
    std::lock_guard op(c->op);
    std::string name;
    {
      std::lock_guard g(mu_);
      if (c->removed || c->manual_stop || stopping_ || c->state.status != "restarting" ||
          c->restart_generation != generation)
        return;
      c->restart_count++;
      name = c->name;
    }
    auto r = start_locked(c);
    if (auto* e = std::get_if<ApiError>(&r)) log::warn(cat("restart ", name, ": ", e->message));
  }).detach();
}

// ---- stop, kill, remove ------------------------------------------------------

ApiResult<bool> ContainerManager::stop_locked(const std::shared_ptr<Container>& c, int timeout_s, int sig) {
  std::unique_lock g(mu_);
  if (c->state.status == "restarting") {
    c->manual_stop = true;
    c->state.status = "exited";
    persist(*c);
    cv_.notify_all();
    return true;
  }
  if (c->state.status != "running" && c->state.status != "paused") return false;
  c->manual_stop = true;
  persist(*c);
  uint64_t exits = c->exits;
  bool paused = c->state.status == "paused";
  g.unlock();
  std::string root = runtime_root();
  if (timeout_s != 0) {
    best_effort(runtime::kill_container(root, c->id, sig, false), "signal " + c->id);
    if (paused) best_effort(runtime::resume_container(root, c->id), "resume " + c->id);
    g.lock();
    bool done = timeout_s < 0 ? (cv_.wait(g, [&] { return c->exits != exits; }), true)
                              : cv_.wait_for(g, std::chrono::seconds(timeout_s), [&] { return c->exits != exits; });
    g.unlock();
    if (done) return true;
  }
  best_effort(runtime::kill_container(root, c->id, SIGKILL, false), "kill " + c->id);
  if (paused) best_effort(runtime::resume_container(root, c->id), "resume " + c->id);
  g.lock();
  if (!cv_.wait_for(g, std::chrono::seconds(30), [&] { return c->exits != exits; }))
    return ApiError{500, cat("container ", c->id, " did not exit within 30 s of SIGKILL")};
  return true;
}

ApiResult<bool> ContainerManager::stop(const std::string& ref, std::optional<int> timeout_s, const std::string& signal) {
  std::shared_ptr<Container> c;
  int sig = SIGTERM;
  int timeout = 10;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    std::string s = signal.empty() ? c->config.value("StopSignal", "") : signal;
    if (!s.empty()) {
      auto n = runtime::parse_signal(s);
      if (!n) return ApiError{400, "invalid signal: " + s};
      sig = *n;
    }
    if (auto t = c->config.find("StopTimeout"); t != c->config.end() && t->is_number_integer()) timeout = t->get<int>();
  }
  if (timeout_s) timeout = *timeout_s;
  std::lock_guard op(c->op);
  auto r = stop_locked(c, timeout, sig);
  if (auto* ok = std::get_if<bool>(&r); ok && *ok)
    if (auto s = find(c->id)) emit("stop", *s);
  return r;
}

ApiResult<bool> ContainerManager::kill(const std::string& ref, const std::string& signal) {
  std::shared_ptr<Container> c;
  int sig = SIGKILL;
  if (!signal.empty()) {
    auto n = runtime::parse_signal(signal);
    if (!n) return ApiError{400, "invalid signal: " + signal};
    sig = *n;
  }
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    if (c->state.status != "running" && c->state.status != "paused")
      return ApiError{409, cat("Cannot kill container: ", ref, ": Container ", c->id, " is not running")};
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
      c->manual_stop = true;
      persist(*c);
    }
  }
  if (auto st = runtime::kill_container(runtime_root(), c->id, sig, false); !st)
    return ApiError{500, st.error().message()};
  if (auto s = find(c->id)) emit("kill", *s, {{"signal", std::to_string(sig)}});
  return true;
}

ApiResult<bool> ContainerManager::restart(const std::string& ref, std::optional<int> timeout_s) {
  std::shared_ptr<Container> c;
  int timeout = 10;
  int sig = SIGTERM;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    if (auto n = runtime::parse_signal(c->config.value("StopSignal", "SIGTERM"))) sig = *n;
  }
  if (timeout_s) timeout = *timeout_s;
  std::lock_guard op(c->op);
  {
    std::lock_guard g(mu_);
    c->user_restart = true;
  }
  auto r = stop_locked(c, timeout, sig);
  {
    std::lock_guard g(mu_);
    c->user_restart = false;
  }
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  auto s = start_locked(c);
  if (auto* e = std::get_if<ApiError>(&s)) return *e;
  if (auto sn = find(c->id)) emit("restart", *sn);
  return true;
}

void ContainerManager::remove_files(Container& c) {
  unmount_rootfs(c.dir);
  if (auto st = remove_all(c.dir); !st) log::warn(st.error().wrap("remove container " + c.id).message());
}

ApiResult<bool> ContainerManager::remove(const std::string& ref, bool force, bool volumes) {
  (void)volumes;  // anonymous volumes live in the container's directory
  std::shared_ptr<Container> c;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
  }
  std::lock_guard op(c->op);
  {
    std::lock_guard g(mu_);
    if (c->removed) return ApiError{404, "No such container: " + ref};
    bool live = c->state.status == "running" || c->state.status == "paused" || c->state.status == "restarting";
    if (live && !force)
      return ApiError{409, cat("cannot remove container \"/", c->name,
                               "\": container is running: stop the container before removing or force remove")};
  }
  auto r = stop_locked(c, 0, SIGKILL);
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  Snapshot s;
  {
    std::lock_guard g(mu_);
    c->removed = true;
    c->state.status = "removing";
    by_id_.erase(c->id);
    if (auto it = by_name_.find(c->name); it != by_name_.end() && it->second == c->id) by_name_.erase(it);
    for (auto it = execs_.begin(); it != execs_.end();)
      it = it->second.container_id == c->id ? execs_.erase(it) : std::next(it);
    s = snap(*c);
  }
  // A created container that never ran, or one whose monitor was killed,
  // may still have runtime state.
  best_effort(runtime::delete_container(runtime_root(), c->id, true), "delete " + c->id);
  remove_files(*c);
  cv_.notify_all();
  emit("destroy", s);
  return true;
}

ApiResult<bool> ContainerManager::pause(const std::string& ref, bool pause) {
  std::shared_ptr<Container> c;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    if (pause && c->state.status == "paused") return ApiError{409, cat("Container ", c->id, " is already paused")};
    if (!pause && c->state.status != "paused") return ApiError{409, cat("Container ", c->id, " is not paused")};
    if (c->state.status != "running" && c->state.status != "paused")
      return ApiError{409, cat("Container ", c->id, " is not running")};
  }
  std::lock_guard op(c->op);
  Status st = pause ? runtime::pause_container(runtime_root(), c->id) : runtime::resume_container(runtime_root(), c->id);
  if (!st) return ApiError{500, st.error().message()};
  Snapshot s;
  {
    std::lock_guard g(mu_);
    if (c->state.status == "running" || c->state.status == "paused") c->state.status = pause ? "paused" : "running";
    persist(*c);
    s = snap(*c);
  }
  emit(pause ? "pause" : "unpause", s);
  return true;
}

Status ContainerManager::send_to_monitor(const std::string& id, char type, std::string_view data) {
  auto s = connect_monitor(cat(o_.data_root, "/containers/", id));
  if (!s) return std::move(s).error();
  std::string msg(1, type);
  msg.append(data);
  if (::send(s->get(), msg.data(), msg.size(), MSG_NOSIGNAL) < 0) return sys_error("send to the monitor of ", id);
  return {};
}

ApiResult<bool> ContainerManager::resize(const std::string& ref, int rows, int cols) {
  auto s = find(ref);
  if (!s) return ApiError{404, "No such container: " + ref};
  if (s->state.status != "running" && s->state.status != "paused")
    return ApiError{409, cat("Container ", s->id, " is not running")};
  if (!s->tty) return true;
  if (auto st = send_to_monitor(s->id, monitor::kMsgResize, cat(rows, " ", cols)); !st)
    return ApiError{500, st.error().message()};
  return true;
}

ApiResult<bool> ContainerManager::rename(const std::string& ref, const std::string& name_in) {
  std::string name = name_in;
  if (!name.empty() && name[0] == '/') name = name.substr(1);
  if (!valid_container_name(name))
    return ApiError{400, cat("Invalid container name (", name_in, "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")};
  std::lock_guard g(mu_);
  auto c = lookup(ref);
  if (!c) return ApiError{404, "No such container: " + ref};
  if (auto it = by_name_.find(name); it != by_name_.end())
    return ApiError{409, cat("Conflict. The container name \"/", name, "\" is already in use by container \"",
                             it->second, "\". You have to remove (or rename) that container to be able to reuse that name.")};
  by_name_.erase(c->name);
  c->name = name;
  by_name_[name] = c->id;
  persist(*c);
  return true;
}

ApiResult<int> ContainerManager::wait(const std::string& ref, const std::string& condition,
                                      const std::function<void()>& ready, const std::function<bool()>& cancelled) {
  if (!condition.empty() && condition != "not-running" && condition != "next-exit" && condition != "removed")
    return ApiError{400, "invalid condition: \"" + condition + "\""};
  std::unique_lock g(mu_);
  auto c = lookup(ref);
  if (!c) return ApiError{404, "No such container: " + ref};
  uint64_t exits = c->exits;
  auto met = [&] {
    if (condition == "removed") return c->removed;
    if (condition == "next-exit") return c->exits != exits || c->removed;
    return c->exits != exits || c->removed ||
           (c->state.status != "running" && c->state.status != "paused" && c->state.status != "restarting");
  };
  g.unlock();
  ready();
  g.lock();
  while (!met()) {
    cv_.wait_for(g, std::chrono::milliseconds(500));
    if (met()) break;
    g.unlock();
    bool gone = cancelled();
    g.lock();
    if (gone) return ApiError{499, "client went away"};
  }
  return c->state.exit_code;
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

// ---- reload --------------------------------------------------------------------

Status ContainerManager::load() {
  std::string dir = o_.data_root + "/containers";
  BERTH_TRY(mkdir_all(dir, 0700));
  BERTH_TRY(mkdir_all(runtime_root(), 0700));
  std::vector<std::shared_ptr<Container>> to_start;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error("open ", dir);
  std::vector<std::string> ids;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ids.push_back(e->d_name);
  ::closedir(d);
  for (const auto& id : ids) {
    std::string cdir = dir + "/" + id;
    auto text = read_file(cdir + "/" + kRecord);
    json j = text ? json::parse(*text, nullptr, false) : json();
    if (!j.is_object() || j.value("Id", "") != id) {
      log::warn(cat("ignoring ", cdir, ": no readable ", kRecord));
      continue;
    }
    auto c = std::make_shared<Container>();
    c->id = id;
    c->dir = cdir;
    c->name = j.value("Name", id.substr(0, 12));
    c->created = j.value("Created", "");
    c->image = j.value("Image", "");
    c->image_id = j.value("ImageID", "");
    c->config = j.value("Config", json::object());
    c->host_config = j.value("HostConfig", json::object());
    c->path = j.value("Path", "");
    c->args = strings_of(j.value("Args", json::array()));
    c->restart_count = j.value("RestartCount", 0);
    c->manual_stop = j.value("ManualStop", false);
    c->has_been_started = j.value("HasBeenStarted", false);
    json st = j.value("State", json::object());
    c->state.status = st.value("Status", "created");
    c->state.pid = st.value("Pid", 0);
    c->state.exit_code = st.value("ExitCode", 0);
    c->state.oom_killed = st.value("OOMKilled", false);
    c->state.error = st.value("Error", "");
    c->state.started_at = st.value("StartedAt", c->state.started_at);
    c->state.finished_at = st.value("FinishedAt", c->state.finished_at);
    bool was_live = c->state.status == "running" || c->state.status == "paused";
    {
      std::lock_guard g(mu_);
      by_id_[id] = c;
      by_name_[c->name] = id;
    }
    // Any record may have a live monitor: berthd may have died between
    // spawning it and recording the start.
    if (monitor_alive(cdir)) {
      auto pid_text = read_file(cdir + "/" + std::string(monitor::kPidFile));
      pid_t mpid = pid_text ? static_cast<pid_t>(std::strtol(pid_text->c_str(), nullptr, 10)) : 0;
      UniqueFd pidfd(mpid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, mpid, 0)) : -1);
      // The lock is still held after the pidfd was opened: it is the monitor.
      if (pidfd && monitor_alive(cdir)) {
        c->monitor_pid = mpid;
        if (!was_live) {
          c->state.status = "running";
          c->has_been_started = true;
        }
        watch(c, std::move(pidfd));
        log::info(cat("container ", c->name, " is still running (monitor ", mpid, ")"));
        continue;
      }
    }
    if (was_live || c->state.status == "restarting") {
      // It stopped while berthd was away: record how.
      on_monitor_exit(c);
      continue;
    }
    std::string policy = c->host_config.value("RestartPolicy", json::object()).value("Name", "no");
    if ((policy == "always" || (policy == "unless-stopped" && !c->manual_stop)) && c->has_been_started &&
        !c->manual_stop)
      to_start.push_back(c);
  }
  for (auto& c : to_start) {
    std::lock_guard op(c->op);
    std::string name = c->name;  // no other thread serves requests yet
    auto r = start_locked(c);
    if (auto* e = std::get_if<ApiError>(&r)) log::warn(cat("restart ", name, ": ", e->message));
  }
  return {};
}

}  // namespace berth::daemon
