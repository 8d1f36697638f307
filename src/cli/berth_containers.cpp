// berth stop, restart, rm, pause, unpause, ps, logs, inspect, stats and
// events.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "cli/berth_cli.hpp"
#include "client/format.hpp"
#include "client/stdcopy.hpp"
#include "common/strings.hpp"

namespace berth::cli {

namespace {

using nlohmann::json;

void out(std::string_view s) { fwrite(s.data(), 1, s.size(), stdout); }

// One POST or DELETE per container, printing each name as docker does;
// failures are reported and make the exit status 1.
int for_each(Ctx& ctx, const std::vector<std::string>& names, const char* method, const std::string& suffix,
             const std::string& query) {
  int rc = 0;
  for (const auto& n : names) {
    auto r = ctx.client.call(method, cat("/containers/", n, suffix, query));
    if (!r) return transport_failure(ctx, r.error());
    if (!r->ok() && r->status != 304) {
      rc = daemon_failure(*r);
      continue;
    }
    printf("%s\n", n.c_str());
    fflush(stdout);
  }
  return rc;
}

int simple(Ctx& ctx, const CmdInfo& info, const std::vector<std::string>& argv, const char* method,
           const std::string& suffix) {
  client::Args args;
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  return for_each(ctx, pos, method, suffix, "");
}

int64_t now() { return static_cast<int64_t>(time(nullptr)); }

std::string container_name(const json& c) {
  std::vector<std::string> names;
  if (c.contains("Names") && c["Names"].is_array())
    for (const auto& n : c["Names"]) {
      std::string s = n.is_string() ? n.get<std::string>() : "";
      if (!s.empty() && s[0] == '/') s.erase(0, 1);
      // Link names hold another slash and are not shown.
      if (!s.empty() && s.find('/') == std::string::npos) names.push_back(s);
    }
  return join(names, ",");
}

std::string ports_column(const json& c) {
  std::vector<std::string> ports;
  if (c.contains("Ports") && c["Ports"].is_array())
    for (const auto& p : c["Ports"])
      ports.push_back(client::format_port(p.value("IP", ""), p.value("PrivatePort", 0), p.value("PublicPort", 0),
                                          p.value("Type", "tcp")));
  return join(ports, ", ");
}

}  // namespace

int cmd_stop(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers"};
  std::string timeout, signal;
  client::Args args;
  args.add_string("time", 't', &timeout, "int", "Seconds to wait before killing the container");
  args.add_string("signal", 's', &signal, "string", "Signal to send to the container");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  std::vector<std::string> q;
  if (!timeout.empty()) q.push_back("t=" + client::url_escape(timeout));
  if (!signal.empty()) q.push_back("signal=" + client::url_escape(signal));
  return for_each(ctx, pos, "POST", "/stop", q.empty() ? "" : "?" + join(q, "&"));
}

int cmd_restart(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"restart", "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers"};
  std::string timeout;
  client::Args args;
  args.add_string("time", 't', &timeout, "int", "Seconds to wait before killing the container");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  return for_each(ctx, pos, "POST", "/restart", timeout.empty() ? "" : "?t=" + client::url_escape(timeout));
}

int cmd_rm(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers"};
  bool force = false, volumes = false;
  client::Args args;
  args.add_bool("force", 'f', &force, "Force the removal of a running container (uses SIGKILL)");
  args.add_bool("volumes", 'v', &volumes, "Remove anonymous volumes associated with the container");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  std::vector<std::string> q;
  if (force) q.push_back("force=1");
  if (volumes) q.push_back("v=1");
  return for_each(ctx, pos, "DELETE", "", q.empty() ? "" : "?" + join(q, "&"));
}

int cmd_pause(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"pause", "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers"};
  return simple(ctx, info, argv, "POST", "/pause");
}

int cmd_unpause(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"unpause", "CONTAINER [CONTAINER...]",
                            "Unpause all processes within one or more containers"};
  return simple(ctx, info, argv, "POST", "/unpause");
}

int cmd_ps(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"ps", "[OPTIONS]", "List containers"};
  bool all = false, quiet = false, no_trunc = false;
  client::Args args;
  args.add_bool("all", 'a', &all, "Show all containers (default shows just running)");
  args.add_bool("quiet", 'q', &quiet, "Only display container IDs");
  args.add_bool("no-trunc", 0, &no_trunc, "Don't truncate output");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  auto r = ctx.client.call("GET", all ? "/containers/json?all=1" : "/containers/json");
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  json list = parse_json(r->body);
  if (!list.is_array()) list = json::array();
  std::vector<std::vector<std::string>> rows;
  if (!quiet) rows.push_back({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
  for (const auto& c : list) {
    std::string id = c.value("Id", "");
    if (quiet) {
      printf("%s\n", no_trunc ? id.c_str() : client::short_id(id).c_str());
      continue;
    }
    std::string image = c.value("Image", "");
    if (starts_with(image, "sha256:") && !no_trunc) image = client::short_id(image);
    std::string command = c.value("Command", "");
    rows.push_back({no_trunc ? id : client::short_id(id), image,
                    no_trunc ? cat("\"", command, "\"") : client::ps_command(command),
                    client::human_duration(now() - c.value("Created", int64_t{0})) + " ago", c.value("Status", ""),
                    ports_column(c), container_name(c)});
  }
  if (!quiet) out(client::format_table(rows));
  return 0;
}

int cmd_logs(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container"};
  bool follow = false, timestamps = false;
  std::string tail, since, until;
  client::Args args;
  args.add_bool("follow", 'f', &follow, "Follow log output");
  args.add_string("tail", 'n', &tail, "string", "Number of lines to show from the end of the logs (default \"all\")");
  args.add_bool("timestamps", 't', &timestamps, "Show timestamps");
  args.add_string("since", 0, &since, "string", "Show logs since timestamp or relative (e.g. 42m)");
  args.add_string("until", 0, &until, "string", "Show logs before a timestamp or relative (e.g. 42m)");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  auto r = ctx.client.call("GET", cat("/containers/", pos[0], "/json"));
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  json j = parse_json(r->body);
  bool tty = j.is_object() && j.contains("Config") && j["Config"].is_object() && j["Config"].value("Tty", false);
  std::string q = "?stdout=1&stderr=1";
  if (follow) q += "&follow=1";
  if (timestamps) q += "&timestamps=1";
  if (!tail.empty()) q += "&tail=" + client::url_escape(tail);
  if (!since.empty()) q += "&since=" + client::url_escape(since);
  if (!until.empty()) q += "&until=" + client::url_escape(until);
  auto conn = ctx.client.stream("GET", cat("/containers/", pos[0], "/logs", q));
  if (!conn) return transport_failure(ctx, conn.error());
  if (conn->head().status / 100 != 2) {
    client::Response e;
    e.status = conn->head().status;
    if (auto b = conn->read_body()) e.body = *b;
    return daemon_failure(e);
  }
  client::StdDemuxer demux([](int stream, std::string_view bytes) {
    FILE* f = stream == 2 ? stderr : stdout;
    fwrite(bytes.data(), 1, bytes.size(), f);
    fflush(f);
  });
  for (;;) {
    auto part = conn->read_body_some();
    if (!part) {
      fprintf(stderr, "berth: %s\n", part.error().message().c_str());
      return 1;
    }
    if (part->empty()) break;
    if (tty) {
      out(*part);
      fflush(stdout);
    } else if (auto st = demux.feed(*part); !st) {
      fprintf(stderr, "berth: %s\n", st.error().message().c_str());
      return 1;
    }
  }
  return 0;
}

int cmd_inspect(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"inspect", "[OPTIONS] NAME|ID [NAME|ID...]",
                            "Return low-level information on containers or images"};
  std::string type;
  client::Args args;
  args.add_string("type", 0, &type, "string", "Only inspect objects of the given type (container or image)");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  json result = json::array();
  for (const auto& n : pos) {
    bool found = false;
    for (const char* kind : {"containers", "images"}) {
      if (!type.empty() && type + "s" != kind) continue;
      auto r = ctx.client.call("GET", cat("/", kind, "/", n, "/json"));
      if (!r) return transport_failure(ctx, r.error());
      if (r->status == 404) continue;
      if (!r->ok()) {
        rc = daemon_failure(*r);
        found = true;
        break;
      }
      result.push_back(parse_json(r->body));
      found = true;
      break;
    }
    if (!found) {
      fprintf(stderr, "Error: No such object: %s\n", n.c_str());
      rc = 1;
    }
  }
  printf("%s\n", result.dump(4).c_str());
  return rc;
}

}  // namespace berth::cli
