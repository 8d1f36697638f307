// berth network: create, ls, inspect, rm, connect, disconnect (docker's
// output and errors).
#include <cstdio>

#include "cli/berth_cli.hpp"
#include "client/format.hpp"
#include "common/strings.hpp"

namespace berth::cli {

using nlohmann::json;

namespace {

int network_create(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"network create", "[OPTIONS] NETWORK", "Create a network"};
  std::string driver = "bridge", subnet, gateway;
  bool internal = false;
  std::vector<std::string> labels;
  client::Args args;
  args.add_string("driver", 'd', &driver, "string", "Driver to manage the Network (default \"bridge\")");
  args.add_string("subnet", 0, &subnet, "string", "Subnet in CIDR format that represents a network segment");
  args.add_string("gateway", 0, &gateway, "string", "IPv4 Gateway for the master subnet");
  args.add_bool("internal", 0, &internal, "Restrict external access to the network");
  args.add_list("label", 0, &labels, "list", "Set metadata on a network");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  json body = {{"Name", pos[0]}, {"Driver", driver}, {"Internal", internal}, {"CheckDuplicate", true}};
  if (!subnet.empty() || !gateway.empty()) {
    json cfg = json::object();
    if (!subnet.empty()) cfg["Subnet"] = subnet;
    if (!gateway.empty()) cfg["Gateway"] = gateway;
    body["IPAM"] = {{"Driver", "default"}, {"Config", json::array({cfg})}};
  }
  json l = json::object();
  for (const auto& kv : labels) {
    auto eq = kv.find('=');
    l[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  body["Labels"] = l;
  auto r = ctx.client.call("POST", "/networks/create", body.dump());
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  printf("%s\n", parse_json(r->body).value("Id", "").c_str());
  return 0;
}

int network_ls(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"network ls", "[OPTIONS]", "List networks"};
  bool quiet = false, no_trunc = false;
  client::Args args;
  args.add_bool("quiet", 'q', &quiet, "Only display network IDs");
  args.add_bool("no-trunc", 0, &no_trunc, "Do not truncate the output");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  auto r = ctx.client.call("GET", "/networks");
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  json list = parse_json(r->body);
  if (!list.is_array()) list = json::array();
  std::vector<std::vector<std::string>> rows = {{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}};
  for (const auto& n : list) {
    std::string id = n.value("Id", "");
    std::string shown = no_trunc ? id : client::short_id(id);
    if (quiet) {
      printf("%s\n", shown.c_str());
      continue;
    }
    rows.push_back({shown, n.value("Name", ""), n.value("Driver", ""), n.value("Scope", "")});
  }
  if (!quiet) fputs(client::format_table(rows).c_str(), stdout);
  return 0;
}

int network_inspect(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"network inspect", "[OPTIONS] NETWORK [NETWORK...]",
                            "Display detailed information on one or more networks"};
  client::Args args;
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  json out = json::array();
  for (const auto& n : pos) {
    auto r = ctx.client.call("GET", "/networks/" + n);
    if (!r) return transport_failure(ctx, r.error());
    if (!r->ok()) {
      rc = daemon_failure(*r);
      continue;
    }
    out.push_back(parse_json(r->body));
  }
  printf("%s\n", out.dump(4).c_str());
  return rc;
}

int network_rm(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"network rm", "NETWORK [NETWORK...]", "Remove one or more networks"};
  client::Args args;
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  for (const auto& n : pos) {
    auto r = ctx.client.call("DELETE", "/networks/" + n);
    if (!r) return transport_failure(ctx, r.error());
    if (!r->ok()) {
      rc = daemon_failure(*r);
      continue;
    }
    printf("%s\n", n.c_str());
  }
  return rc;
}

int network_connect(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"network connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network"};
  std::vector<std::string> aliases;
  client::Args args;
  args.add_list("alias", 0, &aliases, "strings", "Add network-scoped alias for the container");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 2, &pos, &rc)) return rc;
  json body = {{"Container", pos[1]}, {"EndpointConfig", {{"Aliases", aliases}}}};
  auto r = ctx.client.call("POST", cat("/networks/", pos[0], "/connect"), body.dump());
  if (!r) return transport_failure(ctx, r.error());
  return r->ok() ? 0 : daemon_failure(*r);
}

int network_disconnect(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"network disconnect", "[OPTIONS] NETWORK CONTAINER",
                            "Disconnect a container from a network"};
  client::Args args;
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 2, &pos, &rc)) return rc;
  json body = {{"Container", pos[1]}};
  auto r = ctx.client.call("POST", cat("/networks/", pos[0], "/disconnect"), body.dump());
  if (!r) return transport_failure(ctx, r.error());
  return r->ok() ? 0 : daemon_failure(*r);
}

}  // namespace

int cmd_network(Ctx& ctx, const std::vector<std::string>& argv) {
  struct Sub {
    const char* name;
    const char* alias;
    int (*fn)(Ctx&, const std::vector<std::string>&);
    const char* summary;
  };
  static const Sub subs[] = {
      {"connect", nullptr, network_connect, "Connect a container to a network"},
      {"create", nullptr, network_create, "Create a network"},
      {"disconnect", nullptr, network_disconnect, "Disconnect a container from a network"},
      {"inspect", nullptr, network_inspect, "Display detailed information on one or more networks"},
      {"ls", "list", network_ls, "List networks"},
      {"rm", "remove", network_rm, "Remove one or more networks"},
  };
  std::string sub = argv.empty() ? "" : argv[0];
  for (const auto& s : subs)
    if (sub == s.name || (s.alias && sub == s.alias)) return s.fn(ctx, {argv.begin() + 1, argv.end()});
  bool help = sub == "--help" || sub == "-h";
  FILE* out = help ? stdout : stderr;
  if (!sub.empty() && !help) fprintf(stderr, "berth: 'network %s' is not a berth command.\n", sub.c_str());
  fprintf(out, "\nUsage:  berth network COMMAND\n\nManage networks\n\nCommands:\n");
  for (const auto& s : subs) fprintf(out, "  %-10s%s\n", s.name, s.summary);
  fprintf(out, "\nRun 'berth network COMMAND --help' for more information on a command.\n");
  return help ? 0 : 1;
}

}  // namespace berth::cli
