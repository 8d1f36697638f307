// The /containers, /exec and /events endpoints: request parsing and
// docker's JSON shapes around ContainerManager.
#include "daemon/container_api.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "common/time.hpp"
#include "daemon/container_io.hpp"
#include "daemon/images.hpp"
#include "daemon/networks.hpp"
#include "daemon/reply.hpp"
#include "monitor/protocol.hpp"
#include "runtime/container.hpp"


namespace berth::daemon {

using nlohmann::json;

namespace {

// Sends the outcome of a manager call: the error, or `ok_status` (304 when
// the call says nothing changed).
void reply(ResponseWriter& resp, const ApiResult<bool>& r, int ok_status = 204) {
  if (auto* e = std::get_if<ApiError>(&r)) return send_error(resp, e->status, e->message);
  resp.send(std::get<bool>(r) ? ok_status : 304, "", "");
}

std::string join_command(const ContainerManager::Snapshot& c) {
  std::string s = c.path;
  for (const auto& a : c.args) s += " " + a;
  return s;
}

json state_json(const ContainerState& s) {
  return {{"Status", s.status},
          {"Running", s.status == "running" || s.status == "paused"},
          {"Paused", s.status == "paused"},
          {"Restarting", s.status == "restarting"},
          {"OOMKilled", s.oom_killed},
          {"Dead", s.status == "dead"},
          {"Pid", s.pid},
          {"ExitCode", s.exit_code},
          {"Error", s.error},
          {"StartedAt", s.started_at},
          {"FinishedAt", s.finished_at}};
}

json mounts_json(const json& host) {
  json out = json::array();
  if (auto b = host.find("Binds"); b != host.end() && b->is_array())
    for (const auto& e : *b) {
      if (!e.is_string()) continue;
      auto parts = split(e.get<std::string>(), ':');
      if (parts.size() < 2) continue;
      bool ro = parts.size() == 3 && parts[2].find("ro") != std::string::npos;
      out.push_back({{"Type", "bind"},
                     {"Source", parts[0]},
                     {"Destination", parts[1]},
                     {"Mode", parts.size() == 3 ? parts[2] : ""},
                     {"RW", !ro},
                     {"Propagation", "rprivate"}});
    }
  return out;
}

json network_settings(const ContainerManager::Snapshot& c) {
  std::string mode = c.host_config.value("NetworkMode", "default");
  auto attached = attachments_of(c.network);
  json networks = json::object(), ports = json::object();
  auto endpoint = [&](const Attachment* a) {
    json aliases = nullptr;
    if (a && !a->names.empty()) aliases = std::vector<std::string>(a->names.begin() + 1, a->names.end());
    return json{{"NetworkID", a ? a->network_id : ""},
                {"EndpointID", a ? c.id : ""},
                {"Gateway", a ? a->gateway.to_string() : ""},
                {"IPAddress", a ? a->address.address().to_string() : ""},
                {"IPPrefixLen", a ? a->address.prefix() : 0},
                {"MacAddress", ""},
                {"Aliases", aliases},
                {"Links", nullptr}};
  };
  for (const auto& a : attached) networks[a.network_name.empty() ? a.network_id : a.network_name] = endpoint(&a);
  if (attached.empty() && mode != "none" && !mode.starts_with("container:"))
    networks[mode == "default" ? "bridge" : mode] = endpoint(nullptr);
  const Attachment* first = attached.empty() ? nullptr : &attached.front();
  if (first)
    for (const auto& p : first->ports)
      ports[cat(p.container_port, "/", net::proto_name(p.proto))].push_back(
          {{"HostIp", p.host_ip.value_or("0.0.0.0")}, {"HostPort", std::to_string(p.host_port)}});
  json top = endpoint(first);
  return {{"Bridge", ""},
          {"SandboxID", first ? c.id : ""},
          {"SandboxKey", first ? first->netns_path : ""},
          {"Ports", ports},
          {"Gateway", top["Gateway"]},
          {"IPAddress", top["IPAddress"]},
          {"IPPrefixLen", top["IPPrefixLen"]},
          {"MacAddress", ""},
          {"Networks", networks}};
}

// docker ps's Ports: [{IP, PrivatePort, PublicPort, Type}].
json list_ports(const ContainerManager::Snapshot& c) {
  json out = json::array();
  auto attached = attachments_of(c.network);
  if (attached.empty()) return out;
  for (const auto& p : attached.front().ports)
    out.push_back({{"IP", p.host_ip.value_or("0.0.0.0")},
                   {"PrivatePort", p.container_port},
                   {"PublicPort", p.host_port},
                   {"Type", net::proto_name(p.proto)}});
  return out;
}

json inspect_json(const ContainerManager::Snapshot& c) {
  json cfg = c.config;
  return {{"Id", c.id},
          {"Created", c.created},
          {"Path", c.path},
          {"Args", c.args},
          {"State", state_json(c.state)},
          {"Image", c.image_id},
          {"ResolvConfPath", c.dir + "/resolv.conf"},
          {"HostnamePath", c.dir + "/hostname"},
          {"HostsPath", c.dir + "/hosts"},
          {"LogPath", c.dir + "/" + std::string(monitor::kLogFile)},
          {"Name", "/" + c.name},
          {"RestartCount", c.restart_count},
          {"Driver", "overlayfs"},
          {"Platform", "linux"},
          {"MountLabel", ""},
          {"ProcessLabel", ""},
          {"AppArmorProfile", ""},
          {"ExecIDs", nullptr},
          {"HostConfig", c.host_config},
          {"GraphDriver",
           {{"Name", "overlayfs"},
            {"Data",
             {{"UpperDir", c.dir + "/upper"}, {"WorkDir", c.dir + "/work"}, {"MergedDir", c.dir + "/rootfs"}}}}},
          {"Mounts", mounts_json(c.host_config)},
          {"Config", cfg},
          {"NetworkSettings", network_settings(c)}};
}

json list_json(const ContainerManager::Snapshot& c, int64_t now) {
  json labels = c.config.value("Labels", json::object());
  if (!labels.is_object()) labels = json::object();
  std::string mode = c.host_config.value("NetworkMode", "default");
  return {{"Id", c.id},
          {"Names", {"/" + c.name}},
          {"Image", c.image},
          {"ImageID", c.image_id},
          {"Command", join_command(c)},
          {"Created", parse_rfc3339(c.created)},
          {"Ports", list_ports(c)},
          {"Labels", labels},
          {"State", c.state.status},
          {"Status", human_status(c.state, now)},
          {"HostConfig", {{"NetworkMode", mode}}},
          {"NetworkSettings", {{"Networks", network_settings(c)["Networks"]}}},
          {"Mounts", mounts_json(c.host_config)}};
}

// docker's filters parameter: {"name": ["x"], "label": ["k=v"]} (older
// clients send {"name": {"x": true}}).
std::map<std::string, std::vector<std::string>> parse_filters(const std::string& text, std::string* err) {
  std::map<std::string, std::vector<std::string>> out;
  if (text.empty()) return out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) {
    *err = "invalid filters: " + text;
    return out;
  }
  for (auto& [k, v] : j.items()) {
    if (v.is_array())
      for (auto& e : v)
        if (e.is_string()) out[k].push_back(e.get<std::string>());
    if (v.is_object())
      for (auto& [vk, vv] : v.items()) out[k].push_back(vk);
  }
  return out;
}

bool label_matches(const json& labels, const std::string& want) {
  auto eq = want.find('=');
  std::string key = want.substr(0, eq);
  if (!labels.is_object() || !labels.contains(key)) return false;
  if (eq == std::string::npos) return true;
  return labels[key].is_string() && labels[key].get<std::string>() == want.substr(eq + 1);
}

bool list_matches(const ContainerManager::Snapshot& c, const std::map<std::string, std::vector<std::string>>& f) {
  auto any = [&](const char* key, auto pred) {
    auto it = f.find(key);
    if (it == f.end() || it->second.empty()) return true;
    return std::any_of(it->second.begin(), it->second.end(), pred);
  };
  return any("status", [&](const std::string& s) { return s == c.state.status; }) &&
         any("name", [&](const std::string& s) { return c.name.find(s[0] == '/' ? s.substr(1) : s) != std::string::npos; }) &&
         any("id", [&](const std::string& s) { return c.id.starts_with(s); }) &&
         any("label", [&](const std::string& s) { return label_matches(c.config.value("Labels", json()), s); }) &&
         any("ancestor", [&](const std::string& s) { return s == c.image || c.image_id.find(s) != std::string::npos; }) &&
         any("exited", [&](const std::string& s) { return c.state.status == "exited" && std::to_string(c.state.exit_code) == s; });
}

void create(ContainerManager& m, Request& req, ResponseWriter& resp) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return send_error(resp, 400, "invalid JSON in the request body");
  auto r = m.create(req.param("name"), body);
  if (auto* e = std::get_if<ApiError>(&r)) return send_error(resp, e->status, e->message);
  auto& [id, warnings] = std::get<0>(r);
  send_json(resp, 201, {{"Id", id}, {"Warnings", warnings}});
}

void wait(ContainerManager& m, const std::string& ref, Request& req, ResponseWriter& resp) {
  bool started = false;
  auto r = m.wait(
      ref, req.param("condition", "not-running"),
      [&] {
        // The headers go out at once: the docker CLI starts the container
        // only after its wait request has been answered this far.
        resp.begin_stream(200, "application/json");
        started = true;
      },
      [&] { return resp.client_gone() || m.shutting_down(); });
  if (auto* e = std::get_if<ApiError>(&r)) {
    if (!started) return send_error(resp, e->status, e->message);
    // The client or berthd went away: no status to give; the connection
    // just closes.
    resp.close_after();
    return;
  }
  std::string err;
  if (auto c = m.find(ref)) err = c->state.error;
  json body = {{"StatusCode", std::get<int>(r)}, {"Error", err.empty() ? json() : json{{"Message", err}}}};
  resp.chunk(body.dump() + "\n");
}

void top(ContainerManager& m, const std::string& ref, Request& req, ResponseWriter& resp) {
  auto c = m.find(ref);
  if (!c) return send_error(resp, 404, "No such container: " + ref);
  if (c->state.status != "running" && c->state.status != "paused")
    return send_error(resp, 409, cat("Container ", c->id, " is not running"));
  auto pids = runtime::container_pids(m.runtime_root(), c->id);
  if (!pids) return send_error(resp, 500, pids.error().message());
  std::string ps_args = req.param("ps_args", "-ef");
  std::vector<std::string> args = {"ps"};
  for (const auto& a : split(ps_args, ' '))
    if (!a.empty()) args.push_back(a);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return send_error(resp, 500, sys_error("pipe").message());
  UniqueFd r(p[0]), w(p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, w.get(), 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto spawned = spawn_program(args, &fa, false, true);
  posix_spawn_file_actions_destroy(&fa);
  w.reset();
  if (!spawned) return send_error(resp, 500, spawned.error().message());
  pid_t pid = *spawned;
  std::string out = read_fd(r.get()).value_or("");
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return send_error(resp, 500, cat("ps ", ps_args, " failed: status ", WEXITSTATUS(status)));
  auto lines = split(out, '\n');
  if (lines.empty()) return send_error(resp, 500, "ps printed nothing");
  auto fields = [](const std::string& l, size_t max) {
    std::vector<std::string> f;
    size_t i = 0;
    while (i < l.size()) {
      while (i < l.size() && l[i] == ' ') ++i;
      if (i >= l.size()) break;
      if (f.size() + 1 == max) {
        f.push_back(l.substr(i));
        break;
      }
      size_t j = l.find(' ', i);
      f.push_back(l.substr(i, j == std::string::npos ? std::string::npos : j - i));
      i = j == std::string::npos ? l.size() : j;
    }
    return f;
  };
  auto titles = fields(lines[0], ~size_t{0});
  auto pid_col = std::find(titles.begin(), titles.end(), "PID");
  if (pid_col == titles.end()) return send_error(resp, 500, "Couldn't find PID field in ps output");
  size_t col = static_cast<size_t>(pid_col - titles.begin());
  json procs = json::array();
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = fields(lines[i], titles.size());
    if (f.size() <= col) continue;
    auto n = parse_int<pid_t>(f[col]);
    if (n && std::find(pids->begin(), pids->end(), *n) != pids->end()) procs.push_back(f);
  }
  send_json(resp, 200, {{"Titles", titles}, {"Processes", procs}});
}

// Host CPU time in nanoseconds, from /proc/stat's first line.
uint64_t system_cpu_ns() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  f >> cpu;
  uint64_t total = 0, v = 0;
  for (int i = 0; i < 8 && (f >> v); ++i) total += v;
  return total * (1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK)));
}

json stats_sample(ContainerManager& m, const ContainerManager::Snapshot& c) {
  json data = json::object();
  if (auto s = runtime::container_stats(m.runtime_root(), c.id)) {
    json j = json::parse(*s, nullptr, false);
    if (j.is_object()) data = j.value("data", json::object());
  }
  json cpu = data.value("cpu", json::object());
  json usage = cpu.value("usage", json::object());
  json mem = data.value("memory", json::object());
  json mu = mem.value("usage", json::object());
  json pids = data.value("pids", json::object());
  json percpu = usage.value("percpu", json::array());
  return {{"cpu_usage",
           {{"total_usage", usage.value("total", 0ull)},
            {"usage_in_kernelmode", usage.value("kernel", 0ull)},
            {"usage_in_usermode", usage.value("user", 0ull)}}},
          {"system_cpu_usage", system_cpu_ns()},
          {"online_cpus", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"throttling_data",
           {{"periods", cpu.value("throttling", json::object()).value("periods", 0ull)},
            {"throttled_periods", cpu.value("throttling", json::object()).value("throttledPeriods", 0ull)},
            {"throttled_time", cpu.value("throttling", json::object()).value("throttledTime", 0ull)}}},
          {"_memory",
           {{"usage", mu.value("usage", 0ull)},
            {"max_usage", mu.value("max", 0ull)},
            {"limit", mu.value("limit", 0ull)},
            {"stats", mem.value("raw", json::object())}}},
          {"_pids", {{"current", pids.value("current", 0ull)}, {"limit", pids.value("limit", 0ull)}}}};
}

void stats(ContainerManager& m, const std::string& ref, Request& req, ResponseWriter& resp) {
  auto c = m.find(ref);
  if (!c) return send_error(resp, 404, "No such container: " + ref);
  bool stream = req.param("stream", "1") != "0" && req.param("stream", "1") != "false";
  bool one_shot = req.flag("one-shot");
  auto doc = [&](const json& now, const json& pre, const std::string& pre_read) {
    json cur = now;
    json memory = cur["_memory"], pidj = cur["_pids"];
    cur.erase("_memory");
    cur.erase("_pids");
    json precpu = pre;
    precpu.erase("_memory");
    precpu.erase("_pids");
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return json{{"read", rfc3339_nano(ts)},
                {"preread", pre_read},
                {"id", c->id},
                {"name", "/" + c->name},
                {"pids_stats", pidj},
                {"cpu_stats", cur},
                {"precpu_stats", precpu},
                {"memory_stats", memory},
                {"blkio_stats", json::object()},
                {"num_procs", 0},
                {"storage_stats", json::object()},
                {"networks", json::object()}};
  };
  json zero = {{"cpu_usage", {{"total_usage", 0}}}, {"system_cpu_usage", 0}, {"online_cpus", 0}};
  bool running = c->state.status == "running" || c->state.status == "paused";
  if (!running) {
    // A stopped container: docker answers one document of zeros.
    json empty = doc(zero, zero, "0001-01-01T00:00:00Z");
    empty["read"] = "0001-01-01T00:00:00Z";
    return send_json(resp, 200, empty);
  }
  json pre = zero;
  std::string pre_read = "0001-01-01T00:00:00Z";
  if (!stream && !one_shot) {
    // CPU percentages need two samples.
    pre = stats_sample(m, *c);
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    pre_read = rfc3339_nano(ts);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!stream) return send_json(resp, 200, doc(stats_sample(m, *c), pre, pre_read));
  resp.begin_stream(200, "application/json");
  for (;;) {
    json now = stats_sample(m, *c);
    if (!resp.chunk(doc(now, pre, pre_read).dump() + "\n")) return;
    pre = now;
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    pre_read = rfc3339_nano(ts);
    for (int i = 0; i < 10; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (resp.client_gone()) return;
    }
    auto again = m.find(c->id);
    if (!again || (again->state.status != "running" && again->state.status != "paused")) return;
  }
}

json event_json(const Event& e) {
  json attrs = json::object();
  for (const auto& [k, v] : e.attributes) attrs[k] = v;
  json j = {{"Type", e.type},
            {"Action", e.action},
            {"Actor", {{"ID", e.id}, {"Attributes", attrs}}},
            {"scope", "local"},
            {"time", e.time_nano / 1000000000},
            {"timeNano", e.time_nano}};
  if (e.type == "container") {
    j["status"] = e.action;
    j["id"] = e.id;
    if (auto it = e.attributes.find("image"); it != e.attributes.end()) j["from"] = it->second;
  }
  return j;
}

void events(ContainerManager& m, Request& req, ResponseWriter& resp) {
  std::string ferr;
  auto filters = parse_filters(req.param("filters"), &ferr);
  if (!ferr.empty()) return send_error(resp, 400, ferr);
  double until = 0;
  if (auto u = req.param("until"); !u.empty()) until = std::atof(u.c_str());
  auto match = [&](const Event& e) {
    auto any = [&](const char* key, auto pred) {
      auto it = filters.find(key);
      if (it == filters.end() || it->second.empty()) return true;
      return std::any_of(it->second.begin(), it->second.end(), pred);
    };
    auto attr = [&](const char* k) {
      auto it = e.attributes.find(k);
      return it == e.attributes.end() ? std::string() : it->second;
    };
    return any("type", [&](const std::string& s) { return s == e.type; }) &&
           any("event", [&](const std::string& s) { return s == e.action; }) &&
           any("container", [&](const std::string& s) { return e.type == "container" && (e.id.starts_with(s) || attr("name") == s); }) &&
           any("image", [&](const std::string& s) { return attr("image") == s || (e.type == "image" && e.id == s); });
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Event> queue;
  uint64_t token = m.subscribe([&](const Event& e) {
    std::lock_guard g(mu);
    queue.push_back(e);
    cv.notify_all();
  });
  struct Unsub {
    ContainerManager& m;
    uint64_t t;
    ~Unsub() { m.unsubscribe(t); }
  } unsub{m, token};
  resp.begin_stream(200, "application/json");
  resp.chunk("");
  for (;;) {
    std::unique_lock g(mu);
    cv.wait_for(g, std::chrono::milliseconds(500), [&] { return !queue.empty(); });
    std::deque<Event> batch;
    batch.swap(queue);
    g.unlock();
    for (const auto& e : batch)
      if (match(e) && !resp.chunk(event_json(e).dump() + "\n")) return;
    if (resp.client_gone()) return;
    if (until > 0) {
      timespec ts{};
      ::clock_gettime(CLOCK_REALTIME, &ts);
      if (static_cast<double>(ts.tv_sec) >= until) return;
    }
  }
}

std::optional<int> opt_int(const Request& req, const char* name) {
  std::string v = req.param(name);
  if (v.empty()) return std::nullopt;
  return parse_int<int>(v);
}

}  // namespace

bool serve_containers(ContainerManager& m, const std::string& p, Request& req, ResponseWriter& resp) {
  const std::string& meth = req.method;
  bool get = meth == "GET" || meth == "HEAD", post = meth == "POST";
  if (p == "/containers/create" && post) return create(m, req, resp), true;
  if (p == "/containers/json" && get) {
    std::string ferr;
    auto filters = parse_filters(req.param("filters"), &ferr);
    if (!ferr.empty()) return send_error(resp, 400, ferr), true;
    bool all = req.flag("all");
    int64_t now = std::time(nullptr);
    json out = json::array();
    int limit = opt_int(req, "limit").value_or(-1);
    for (const auto& c : m.list()) {
      bool up = c.state.status == "running" || c.state.status == "paused" || c.state.status == "restarting";
      if (!all && !up && !filters.count("status")) continue;
      if (!list_matches(c, filters)) continue;
      if (limit >= 0 && static_cast<int>(out.size()) >= limit) break;
      out.push_back(list_json(c, now));
    }
    return send_json(resp, 200, out), true;
  }
  if (p == "/events" && get) return events(m, req, resp), true;
  if (p.starts_with("/exec/")) {
    std::string rest = p.substr(6);
    size_t slash = rest.find('/');
    std::string id = rest.substr(0, slash), verb = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (verb == "start" && post) return exec_start(m, id, req, resp), true;
    if (verb == "resize" && post) return exec_resize(m, id, req, resp), true;
    if (verb == "json" && get) {
      auto e = m.exec_find(id);
      if (!e) return send_error(resp, 404, "No such exec instance: " + id), true;
      std::vector<std::string> arguments(e->cmd.begin() + 1, e->cmd.end());
      send_json(resp, 200,
                {{"ID", e->id},
                 {"Running", e->running},
                 {"ExitCode", e->exit_code ? json(*e->exit_code) : json()},
                 {"ProcessConfig",
                  {{"tty", e->tty},
                   {"entrypoint", e->cmd.front()},
                   {"arguments", arguments},
                   {"privileged", false},
                   {"user", e->user}}},
                 {"OpenStdin", e->attach_stdin},
                 {"OpenStderr", e->attach_stderr},
                 {"OpenStdout", e->attach_stdout},
                 {"CanRemove", false},
                 {"ContainerID", e->container_id},
                 {"DetachKeys", ""},
                 {"Pid", e->pid}});
      return true;
    }
    return false;
  }
  if (!p.starts_with("/containers/")) return false;
  std::string rest = p.substr(12);
  size_t slash = rest.find('/');
  std::string ref = rest.substr(0, slash), verb = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (ref.empty()) return false;
  if (verb.empty() && meth == "DELETE") return reply(resp, m.remove(ref, req.flag("force"), req.flag("v"))), true;
  if (verb == "json" && get) {
    auto c = m.find(ref);
    if (!c) return send_error(resp, 404, "No such container: " + ref), true;
    return send_json(resp, 200, inspect_json(*c)), true;
  }
  if (verb == "start" && post) return reply(resp, m.start(ref)), true;
  if (verb == "stop" && post) {
    auto t = opt_int(req, "t");
    if (!t) t = opt_int(req, "timeout");
    return reply(resp, m.stop(ref, t, req.param("signal"))), true;
  }
  if (verb == "restart" && post) {
    auto t = opt_int(req, "t");
    return reply(resp, m.restart(ref, t)), true;
  }
  if (verb == "kill" && post) return reply(resp, m.kill(ref, req.param("signal"))), true;
  if (verb == "pause" && post) return reply(resp, m.pause(ref, true)), true;
  if (verb == "unpause" && post) return reply(resp, m.pause(ref, false)), true;
  if (verb == "rename" && post) return reply(resp, m.rename(ref, req.param("name"))), true;
  if (verb == "resize" && post) {
    auto h = opt_int(req, "h"), w = opt_int(req, "w");
    if (!h || !w || *h < 0 || *w < 0) return send_error(resp, 400, "h and w must be non-negative numbers"), true;
    auto r = m.resize(ref, *h, *w);
    if (auto* e = std::get_if<ApiError>(&r)) return send_error(resp, e->status, e->message), true;
    return resp.send(200, "", ""), true;
  }
  if (verb == "wait" && post) return wait(m, ref, req, resp), true;
  if (verb == "attach" && post) return attach(m, ref, req, resp), true;
  if (verb == "logs" && get) return logs(m, ref, req, resp), true;
  if (verb == "top" && get) return top(m, ref, req, resp), true;
  if (verb == "stats" && get) return stats(m, ref, req, resp), true;
  if (verb == "exec" && post) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return send_error(resp, 400, "invalid JSON in the request body"), true;
    auto r = m.exec_create(ref, body);
    if (auto* e = std::get_if<ApiError>(&r)) return send_error(resp, e->status, e->message), true;
    return send_json(resp, 201, {{"Id", std::get<std::string>(r)}}), true;
  }
  return false;
}

}  // namespace berth::daemon
