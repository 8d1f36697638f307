// ContainerManager: start through a berth-monitor, exits, restart policies,
// the reload after berthd restarts.
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
#include "daemon/images.hpp"
#include "daemon/image_helper.hpp"
#include "daemon/networks.hpp"
#include "image/runconfig.hpp"
#include "monitor/protocol.hpp"
#include "runtime/container.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/spec_default.hpp"

namespace berth::daemon {

using nlohmann::json;
using namespace detail;

// ---- start -------------------------------------------------------------------

void ContainerManager::release_runtime(Container& c) {
  unmount_rootfs(c.dir);
  json attached;
  {
    std::lock_guard g(mu_);
    attached = std::exchange(c.network, json());
  }
  if (!o_.networks) return;
  // The later networks first: the first one's attachment owns the namespace.
  auto all = attachments_of(attached);
  for (auto it = all.rbegin(); it != all.rend(); ++it) o_.networks->detach(*it);
}

namespace {

// resolv.conf for a container on the default bridge: the host's, without
// loopback resolvers (not there in its namespace). With systemd-resolved's
// stub, the upstream servers it uses; with none left, public ones, as docker.
std::string bridge_resolv_conf() {
  std::string text = read_file("/etc/resolv.conf").value_or("");
  if (text.find("nameserver 127.0.0.53") != std::string::npos)
    if (auto r = read_file("/run/systemd/resolve/resolv.conf"); r) text = *r;
  std::string out;
  bool any = false;
  for (const auto& line : split(text, '\n')) {
    if (line.starts_with("nameserver 127.") || line.starts_with("nameserver ::1")) continue;
    any |= line.starts_with("nameserver ");
    out += line + "\n";
  }
  if (!any) out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  return out;
}

}  // namespace

// Names on a user-defined network: the container's name, its short ID and
// the aliases asked for on that network (by name or ID); none elsewhere.
std::vector<std::string> ContainerManager::dns_names(const Container& c, const NetworkRecord& n) {
  if (!n.dns()) return {};
  std::vector<std::string> names = {c.name, c.id.substr(0, 12)};
  const json endpoints = c.networking.value("EndpointsConfig", json::object());
  std::string mode = c.host_config.value("NetworkMode", "");
  for (const auto& key : {n.name, n.id, mode}) {
    if (key == mode && key != n.name && key != n.id) continue;
    if (auto ep = endpoints.find(key); ep != endpoints.end() && ep->is_object())
      for (const auto& a : strings_of(ep->value("Aliases", json())))
        if (std::find(names.begin(), names.end(), a) == names.end()) names.push_back(a);
  }
  return names;
}

ApiResult<std::pair<std::shared_ptr<Container>, NetworkRecord>> ContainerManager::network_target(
    const std::string& ref, const std::string& network) {
  if (!o_.networks) return ApiError{400, "networking is off in this berthd"};
  std::shared_ptr<Container> c;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
  }
  if (!c) return ApiError{404, "No such container: " + ref};
  auto rec = o_.networks->find(network);
  if (!rec) return ApiError{404, cat("network ", network, " not found")};
  return std::make_pair(c, *rec);
}

void ContainerManager::network_changed(Container& c, const std::string& action, const std::string& network) {
  Snapshot s;
  {
    std::lock_guard g(mu_);
    persist(c);
    s = snap(c);
  }
  emit(action, s, {{"network", network}});
}

ApiResult<bool> ContainerManager::connect(const std::string& ref, const std::string& network,
                                          const std::vector<std::string>& aliases) {
  auto target = network_target(ref, network);
  if (auto* e = std::get_if<ApiError>(&target)) return *e;
  auto& [c, net] = std::get<0>(target);
  const NetworkRecord* rec = &net;
  std::lock_guard op(c->op);
  std::string mode = c->host_config.value("NetworkMode", "default");
  if (mode == "host" || mode == "none" || mode.starts_with("container:"))
    return ApiError{400, "container sharing network namespace with another container or host cannot be connected to "
                         "any other network"};
  auto primary = o_.networks->find(mode == "default" ? "bridge" : mode);
  bool already = primary && primary->id == rec->id;
  json endpoints;
  {
    std::lock_guard g(mu_);
    endpoints = c->networking.value("EndpointsConfig", json::object());
  }
  for (const auto& [key, ep] : endpoints.items())
    if (auto n = o_.networks->find(key); n && n->id == rec->id) already = true;
  if (already) return ApiError{403, cat("endpoint with name ", c->name, " already exists in network ", rec->name)};
  {
    std::lock_guard g(mu_);
    c->networking["EndpointsConfig"][rec->name] = {{"Aliases", aliases}};
  }
  std::vector<Attachment> attached;
  bool running;
  {
    std::lock_guard g(mu_);
    attached = attachments_of(c->network);
    running = c->state.status == "running" || c->state.status == "paused";
  }
  if (running && !attached.empty()) {
    // The lowest interface number free (a disconnect leaves a gap).
    unsigned index = 1;
    while (std::any_of(attached.begin(), attached.end(), [&](const Attachment& a) { return a.ifname == cat("eth", index); }))
      ++index;
    auto extra = o_.networks->attach(c->id, rec->id, dns_names(*c, *rec), {}, &attached.front(), index);
    if (auto* e = std::get_if<ApiError>(&extra)) {
      std::lock_guard g(mu_);
      c->networking["EndpointsConfig"].erase(rec->name);
      return *e;
    }
    bool gone;
    {
      std::lock_guard g(mu_);
      // It may have exited meanwhile, its network released: then this goes too.
      gone = c->network.is_null() || !(c->state.status == "running" || c->state.status == "paused");
      if (!gone) c->network.push_back(std::get<Attachment>(extra).to_json());
    }
    if (gone) o_.networks->detach(std::get<Attachment>(extra));
  }
  network_changed(*c, "connect", rec->name);
  return true;
}

ApiResult<bool> ContainerManager::disconnect(const std::string& ref, const std::string& network) {
  auto target = network_target(ref, network);
  if (auto* e = std::get_if<ApiError>(&target)) return *e;
  auto& [c, net] = std::get<0>(target);
  const NetworkRecord* rec = &net;
  std::lock_guard op(c->op);
  std::string mode = c->host_config.value("NetworkMode", "default");
  if (auto primary = o_.networks->find(mode == "default" ? "bridge" : mode); primary && primary->id == rec->id)
    return ApiError{400, cat("container ", c->name, " was started on network ", rec->name,
                             " (--network); berthd disconnects only networks connected later")};
  bool found = false;
  std::optional<Attachment> live;
  {
    std::lock_guard g(mu_);
    json& eps = c->networking["EndpointsConfig"];
    for (auto it = eps.begin(); it != eps.end();) {
      auto n = o_.networks->find(it.key());
      if (n && n->id == rec->id) {
        it = eps.erase(it);
        found = true;
      } else {
        ++it;
      }
    }
    json kept = json::array();
    for (auto& a : attachments_of(c->network)) {
      if (a.network_id == rec->id)
        live = std::move(a);
      else
        kept.push_back(a.to_json());
    }
    if (!c->network.is_null()) c->network = kept;
  }
  if (!found && !live) return ApiError{400, cat("container ", c->name, " is not connected to network ", rec->name)};
  if (live) o_.networks->detach(*live);
  network_changed(*c, "disconnect", rec->name);
  return true;
}

Status ContainerManager::connect_network(Container& c, const json& host, json& spec, std::string* own_ip,
                                         std::optional<std::string>* nameserver) {
  std::string mode = host.value("NetworkMode", "default");
  std::string network = mode == "default" ? "bridge" : mode;
  auto rec = o_.networks->find(network);
  if (!rec) return make_error("network ", network, " not found");
  auto ports = port_bindings(host.value("PortBindings", json::object()));
  if (!ports) return std::move(ports).error();
  auto attached = o_.networks->attach(c.id, rec->id, dns_names(c, *rec), *ports);
  if (auto* e = std::get_if<ApiError>(&attached)) return make_error(e->message);
  const Attachment a = std::get<Attachment>(attached);
  {
    std::lock_guard g(mu_);
    c.network = json::array({a.to_json()});
  }
  // The networks connected while it was not running: more interfaces.
  unsigned index = 1;
  const json endpoints = c.networking.value("EndpointsConfig", json::object());
  for (const auto& [key, ep] : endpoints.items()) {
    auto more = o_.networks->find(key);
    if (!more || more->id == rec->id) continue;
    auto extra = o_.networks->attach(c.id, more->id, dns_names(c, *more), {}, &a, index++);
    if (auto* e = std::get_if<ApiError>(&extra)) return make_error(e->message);
    std::lock_guard g(mu_);
    c.network.push_back(std::get<Attachment>(extra).to_json());
  }
  for (auto& n : spec["linux"]["namespaces"])
    if (n.value("type", "") == "network") n["path"] = a.netns_path;
  *own_ip = a.address.address().to_string();
  if (auto dns = o_.networks->dns_server(rec->id)) *nameserver = dns->to_string();
  return {};
}

Status ContainerManager::prepare_bundle(Container& c, const json& cfg, const json& host) {
  std::shared_lock store_lock(store_mu_);
  auto found = find_image(store_, index_, c.image_id);
  if (!found) return std::move(found).error();
  if (!*found) return make_error("No such image: ", c.image, " (", c.image_id, ")");
  const image::ResolvedImage& img = (*found)->image.resolved;
  // Pulls and loads unpack; a layer is missing only when the snapshots were
  // pruned or the image came in with `berth-image --no-unpack`.
  auto chain = image::chain_ids(img.config.diff_ids);
  if (!std::all_of(chain.begin(), chain.end(), [&](const image::Digest& d) { return snaps_.has(d); }))
    BERTH_TRY_CTX(ImageHelper(o_.image_helper_path, o_.data_root).run({"unpack", c.image_id}), "unpack " + c.image);
  std::string rootfs = c.dir + "/rootfs";
  release_runtime(c);
  BERTH_TRY(mkdir_all(rootfs, 0755));
  BERTH_TRY(image::mount_overlay(snaps_, chain, c.dir + "/upper", c.dir + "/work", rootfs));
  auto fail = [&](Error e) -> Status {
    release_runtime(c);
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

  // Network: the host's, a bridge network's (a namespace berthd made and
  // joined to the bridge), or a namespace of its own with loopback only.
  json& ns = spec["linux"]["namespaces"];
  std::string mode = host.value("NetworkMode", "default");
  std::string own_ip;
  std::optional<std::string> nameserver;
  std::optional<std::string> nameserver_file;  // a resolv.conf to copy as is
  if (mode == "host") {
    json kept = json::array();
    for (auto& n : ns)
      if (n.value("type", "") != "network" && n.value("type", "") != "uts") kept.push_back(n);
    ns = kept;
    spec.erase("hostname");
  } else if (mode.starts_with("container:")) {
    // Another container's namespace: while it runs, through its init.
    std::string other = mode.substr(10);
    pid_t pid = 0;
    std::string other_dir;
    {
      std::lock_guard g(mu_);
      auto peer = lookup(other);
      if (peer && peer->state.status == "running") {
        pid = peer->state.pid;
        other_dir = peer->dir;
      }
    }
    if (pid <= 0) return fail(make_error("cannot join network of a non running container: ", other));
    for (auto& n : ns)
      if (n.value("type", "") == "network") n["path"] = cat("/proc/", pid, "/ns/net");
    // Its name service too: the same resolver and hosts.
    if (auto r = read_file(other_dir + "/resolv.conf"); r) nameserver_file = *r;
  } else if (mode != "none" && o_.networks) {
    if (auto st = connect_network(c, host, spec, &own_ip, &nameserver); !st) return fail(st.error());
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
  std::string resolv;
  if (nameserver_file) {
    resolv = *nameserver_file;
  } else if (nameserver) {
    resolv = cat("nameserver ", *nameserver, "\noptions ndots:0\n");
  } else if (mode == "host" || mode == "none" || !o_.networks) {
    resolv = read_file("/etc/resolv.conf").value_or("");
  } else {
    resolv = bridge_resolv_conf();
  }
  if (auto st = etc("hostname", hostname + "\n"); !st) return fail(st.error());
  if (auto st = etc("hosts", cat("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                                 own_ip.empty() ? "127.0.1.1" : own_ip, "\t", hostname, "\n"));
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
    release_runtime(*c);
    return fail_start(500, st.error().message());
  }
  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) < 0) {
    release_runtime(*c);
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
    release_runtime(*c);
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
    release_runtime(*c);
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
  release_runtime(*c);
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


// ---- reload --------------------------------------------------------------------

Status ContainerManager::load() {
  std::string dir = o_.data_root + "/containers";
  BERTH_TRY(mkdir_all(dir, 0700));
  BERTH_TRY(mkdir_all(runtime_root(), 0700));
  std::vector<std::shared_ptr<Container>> to_start, exited;
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
    c->networking = j.value("NetworkingConfig", json::object());
    c->network = j.value("NetworkAttachment", json());
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
      // It stopped while berthd was away: recorded below, once the network
      // side is reconciled (its restart must not race that).
      exited.push_back(c);
      continue;
    }
    std::string policy = c->host_config.value("RestartPolicy", json::object()).value("Name", "no");
    if ((policy == "always" || (policy == "unless-stopped" && !c->manual_stop)) && c->has_been_started &&
        !c->manual_stop)
      to_start.push_back(c);
  }
  // The network side of the containers still running comes back (their
  // ports and names); what a crash left of the others goes.
  if (o_.networks) {
    std::vector<Attachment> running;
    {
      std::lock_guard g(mu_);
      for (const auto& [id, c] : by_id_)
        if (c->monitor_pid > 0)
          for (auto& a : attachments_of(c->network)) running.push_back(std::move(a));
    }
    o_.networks->reconcile(running);
  }
  for (auto& c : exited) on_monitor_exit(c);
  for (auto& c : to_start) {
    std::lock_guard op(c->op);
    std::string name = c->name;  // no other thread serves requests yet
    auto r = start_locked(c);
    if (auto* e = std::get_if<ApiError>(&r)) log::warn(cat("restart ", name, ": ", e->message));
  }
  return {};
}

}  // namespace berth::daemon
