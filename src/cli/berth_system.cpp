// berth version, info, events and stats.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <thread>

#include "cli/berth_cli.hpp"
#include "client/format.hpp"
#include "common/strings.hpp"
#include "version.hpp"

namespace berth::cli {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return {};
  if (j[key].is_string()) return j[key].get<std::string>();
  if (j[key].is_null()) return {};
  return j[key].dump();
}

const char* machine_arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

}  // namespace

int cmd_version(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"version", "[OPTIONS]", "Show the berth version information"};
  client::Args args;
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  printf("Client:\n");
  printf(" Version:           %s\n", kBerthVersion);
  printf(" API version:       %s\n", client::Client::kApiVersion);
  printf(" Git commit:        %s\n", kBerthCommit);
  printf(" OS/Arch:           linux/%s\n", machine_arch());
  fflush(stdout);
  auto r = ctx.client.call("GET", "/version");
  if (!r) {
    printf("\n");
    fflush(stdout);
    return transport_failure(ctx, r.error());
  }
  if (!r->ok()) return daemon_failure(*r);
  json j = parse_json(r->body);
  std::string platform = j.contains("Platform") ? str(j["Platform"], "Name") : "";
  printf("\nServer: %s\n", platform.c_str());
  printf(" Engine:\n");
  printf("  Version:          %s\n", str(j, "Version").c_str());
  printf("  API version:      %s (minimum version %s)\n", str(j, "ApiVersion").c_str(),
         str(j, "MinAPIVersion").c_str());
  printf("  Git commit:       %s\n", str(j, "GitCommit").c_str());
  printf("  OS/Arch:          %s/%s\n", str(j, "Os").c_str(), str(j, "Arch").c_str());
  printf("  Kernel version:   %s\n", str(j, "KernelVersion").c_str());
  return 0;
}

int cmd_info(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"info", "[OPTIONS]", "Display system-wide information"};
  client::Args args;
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  auto r = ctx.client.call("GET", "/info");
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  json j = parse_json(r->body);
  printf("Client:\n Version:    %s\n\nServer:\n", kBerthVersion);
  printf(" Containers: %s\n", str(j, "Containers").c_str());
  printf("  Running: %s\n", str(j, "ContainersRunning").c_str());
  printf("  Paused: %s\n", str(j, "ContainersPaused").c_str());
  printf("  Stopped: %s\n", str(j, "ContainersStopped").c_str());
  printf(" Images: %s\n", str(j, "Images").c_str());
  printf(" Server Version: %s\n", str(j, "ServerVersion").c_str());
  printf(" Storage Driver: %s\n", str(j, "Driver").c_str());
  printf(" Logging Driver: %s\n", str(j, "LoggingDriver").c_str());
  printf(" Cgroup Driver: %s\n", str(j, "CgroupDriver").c_str());
  printf(" Cgroup Version: %s\n", str(j, "CgroupVersion").c_str());
  printf(" Kernel Version: %s\n", str(j, "KernelVersion").c_str());
  printf(" Operating System: %s\n", str(j, "OperatingSystem").c_str());
  printf(" OSType: %s\n", str(j, "OSType").c_str());
  printf(" Architecture: %s\n", str(j, "Architecture").c_str());
  printf(" CPUs: %s\n", str(j, "NCPU").c_str());
  if (j.contains("MemTotal") && j["MemTotal"].is_number())
    printf(" Total Memory: %s\n", client::bytes_size(j["MemTotal"].get<double>()).c_str());
  printf(" Name: %s\n", str(j, "Name").c_str());
  printf(" Docker Root Dir: %s\n", str(j, "DockerRootDir").c_str());
  printf(" Debug Mode: %s\n", str(j, "Debug").c_str());
  return 0;
}

namespace {

std::string format_event(const json& e) {
  int64_t nano = e.value("timeNano", int64_t{0});
  if (nano == 0) nano = e.value("time", int64_t{0}) * 1000000000;
  time_t secs = static_cast<time_t>(nano / 1000000000);
  tm t{};
  localtime_r(&secs, &t);
  char date[64], zone[16];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &t);
  strftime(zone, sizeof zone, "%z", &t);
  std::string z = zone;
  z = z == "+0000" ? "Z" : z.substr(0, 3) + ":" + z.substr(3);
  char frac[16];
  snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nano % 1000000000));
  std::string type = e.value("Type", e.value("type", ""));
  std::string action = e.value("Action", e.value("action", e.value("status", "")));
  std::string id;
  std::vector<std::string> attrs;
  if (e.contains("Actor") && e["Actor"].is_object()) {
    id = e["Actor"].value("ID", "");
    if (e["Actor"].contains("Attributes") && e["Actor"]["Attributes"].is_object()) {
      std::map<std::string, std::string> sorted;
      for (auto it = e["Actor"]["Attributes"].begin(); it != e["Actor"]["Attributes"].end(); ++it)
        sorted[it.key()] = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      for (const auto& [k, v] : sorted) attrs.push_back(k + "=" + v);
    }
  }
  if (id.empty()) id = e.value("id", "");
  std::string line = cat(date, frac, z, " ", type, " ", action, " ", id);
  if (!attrs.empty()) line += cat(" (", join(attrs, ", "), ")");
  return line;
}

}  // namespace

int cmd_events(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"events", "[OPTIONS]", "Get real time events from the server"};
  std::string since, until;
  std::vector<std::string> filters;
  client::Args args;
  args.add_string("since", 0, &since, "string", "Show all events created since timestamp");
  args.add_string("until", 0, &until, "string", "Stream events until this timestamp");
  args.add_list("filter", 'f', &filters, "filter", "Filter output based on conditions provided");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  std::vector<std::string> q;
  if (!since.empty()) q.push_back("since=" + client::url_escape(since));
  if (!until.empty()) q.push_back("until=" + client::url_escape(until));
  if (!filters.empty()) {
    json f = json::object();
    for (const auto& kv : filters) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        fprintf(stderr, "bad format of filter (expected name=value)\n");
        return 125;
      }
      f[kv.substr(0, eq)][kv.substr(eq + 1)] = true;
    }
    q.push_back("filters=" + client::url_escape(f.dump()));
  }
  auto conn = ctx.client.stream("GET", "/events" + (q.empty() ? std::string() : "?" + join(q, "&")));
  if (!conn) return transport_failure(ctx, conn.error());
  if (conn->head().status / 100 != 2) {
    client::Response e;
    e.status = conn->head().status;
    if (auto b = conn->read_body()) e.body = *b;
    return daemon_failure(e);
  }
  std::string pending;
  for (;;) {
    auto part = conn->read_body_some();
    if (!part) {
      fprintf(stderr, "berth: %s\n", part.error().message().c_str());
      return 1;
    }
    if (part->empty()) break;
    pending += *part;
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      json e = parse_json(pending.substr(0, nl));
      pending.erase(0, nl + 1);
      if (e.is_object()) {
        printf("%s\n", format_event(e).c_str());
        fflush(stdout);
      }
    }
  }
  return 0;
}

namespace {

std::vector<std::string> stat_cells(const std::string& id, const json& s) {
  std::string name = s.value("name", "");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  const json& cpu = s.contains("cpu_stats") ? s["cpu_stats"] : json::object();
  const json& pre = s.contains("precpu_stats") ? s["precpu_stats"] : json::object();
  auto total = [](const json& c) {
    return c.contains("cpu_usage") && c["cpu_usage"].is_object() ? c["cpu_usage"].value("total_usage", 0.0) : 0.0;
  };
  double cpu_delta = total(cpu) - total(pre);
  double sys_delta = cpu.value("system_cpu_usage", 0.0) - pre.value("system_cpu_usage", 0.0);
  double online = cpu.value("online_cpus", 0.0);
  if (online == 0 && cpu.contains("cpu_usage") && cpu["cpu_usage"].contains("percpu_usage") &&
      cpu["cpu_usage"]["percpu_usage"].is_array())
    online = static_cast<double>(cpu["cpu_usage"]["percpu_usage"].size());
  if (online == 0) online = 1;
  double cpu_pct = sys_delta > 0 && cpu_delta > 0 ? cpu_delta / sys_delta * online * 100.0 : 0.0;
  const json& mem = s.contains("memory_stats") ? s["memory_stats"] : json::object();
  double usage = mem.value("usage", 0.0), limit = mem.value("limit", 0.0);
  if (mem.contains("stats") && mem["stats"].is_object()) {
    // Page cache that can be dropped does not count, as in docker.
    double inactive = mem["stats"].value("inactive_file", mem["stats"].value("total_inactive_file", 0.0));
    if (inactive < usage) usage -= inactive;
  }
  double mem_pct = limit > 0 ? usage / limit * 100.0 : 0.0;
  double rx = 0, tx = 0;
  if (s.contains("networks") && s["networks"].is_object())
    for (const auto& [k, n] : s["networks"].items()) {
      rx += n.value("rx_bytes", 0.0);
      tx += n.value("tx_bytes", 0.0);
    }
  double rd = 0, wr = 0;
  if (s.contains("blkio_stats") && s["blkio_stats"].is_object() &&
      s["blkio_stats"].contains("io_service_bytes_recursive") &&
      s["blkio_stats"]["io_service_bytes_recursive"].is_array())
    for (const auto& e : s["blkio_stats"]["io_service_bytes_recursive"]) {
      std::string op = to_upper(e.value("op", ""));
      if (op == "READ") rd += e.value("value", 0.0);
      if (op == "WRITE") wr += e.value("value", 0.0);
    }
  int64_t pids =
      s.contains("pids_stats") && s["pids_stats"].is_object() ? s["pids_stats"].value("current", int64_t{0}) : 0;
  char cpu_s[32], mem_s[32];
  snprintf(cpu_s, sizeof cpu_s, "%.2f%%", cpu_pct);
  snprintf(mem_s, sizeof mem_s, "%.2f%%", mem_pct);
  return {client::short_id(id),
          name,
          cpu_s,
          cat(client::bytes_size(usage), " / ", client::bytes_size(limit)),
          mem_s,
          cat(client::human_size(rx, 3), " / ", client::human_size(tx, 3)),
          cat(client::human_size(rd, 3), " / ", client::human_size(wr, 3)),
          std::to_string(pids)};
}

}  // namespace

int cmd_stats(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"stats", "[OPTIONS] [CONTAINER...]",
                            "Display a live stream of container(s) resource usage statistics"};
  bool no_stream = false, all = false;
  client::Args args;
  args.add_bool("all", 'a', &all, "Show all containers (default shows just running)");
  args.add_bool("no-stream", 0, &no_stream, "Disable streaming stats and only pull the first result");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  for (;;) {
    std::vector<std::string> ids = pos;
    if (ids.empty()) {
      auto r = ctx.client.call("GET", all ? "/containers/json?all=1" : "/containers/json");
      if (!r) return transport_failure(ctx, r.error());
      if (!r->ok()) return daemon_failure(*r);
      json list = parse_json(r->body);
      if (list.is_array())
        for (const auto& c : list) ids.push_back(c.value("Id", ""));
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"});
    for (const auto& id : ids) {
      auto r = ctx.client.call("GET", cat("/containers/", id, "/stats?stream=false"));
      if (!r) return transport_failure(ctx, r.error());
      if (!r->ok()) {
        rc = daemon_failure(*r);
        continue;
      }
      json s = parse_json(r->body);
      rows.push_back(stat_cells(s.value("id", id), s));
    }
    if (!no_stream && isatty(STDOUT_FILENO)) printf("\x1b[2J\x1b[H");
    fputs(client::format_table(rows).c_str(), stdout);
    fflush(stdout);
    if (no_stream) return rc;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace berth::cli
