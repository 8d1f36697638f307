#include "daemon/network_api.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/strings.hpp"
#include "daemon/container_util.hpp"
#include "daemon/reply.hpp"

namespace berth::daemon {

using nlohmann::json;

namespace {

// docker's network document; `attached` maps container id -> (name, attachment).
json network_json(const NetworkRecord& n, const std::vector<ContainerManager::Snapshot>& containers) {
  json members = json::object();
  for (const auto& c : containers)
    for (const auto& a : attachments_of(c.network))
      if (a.network_id == n.id)
        members[c.id] = {{"Name", c.name},
                         {"EndpointID", c.id},
                         {"MacAddress", ""},
                         {"IPv4Address", a.address.to_string()},
                         {"IPv6Address", ""}};
  return {{"Name", n.name},
          {"Id", n.id},
          {"Created", n.created},
          {"Scope", "local"},
          {"Driver", "bridge"},
          {"EnableIPv6", false},
          {"IPAM",
           {{"Driver", "default"},
            {"Options", json::object()},
            {"Config", json::array({{{"Subnet", n.subnet.to_string()}, {"Gateway", n.gateway.to_string()}}})}}},
          {"Internal", n.internal},
          {"Attachable", false},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", members},
          {"Options", {{"com.docker.network.bridge.name", n.bridge}}},
          {"Labels", n.labels}};
}

// The two networks that are modes, not bridges: listed as docker lists them.
json pseudo_network(const std::string& name) {
  return {{"Name", name},          {"Id", name},
          {"Created", "0001-01-01T00:00:00Z"}, {"Scope", "local"},
          {"Driver", name == "host" ? "host" : "null"}, {"EnableIPv6", false},
          {"IPAM", {{"Driver", "default"}, {"Options", nullptr}, {"Config", json::array()}}},
          {"Internal", false},     {"Attachable", false}, {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}}, {"ConfigOnly", false},
          {"Containers", json::object()}, {"Options", json::object()}, {"Labels", json::object()}};
}

// docker's filters on a network list: name and id (substring and prefix),
// driver, label (key or key=value).
bool matches(const json& net, const json& filters) {
  if (!filters.is_object()) return true;
  for (const auto& [key, values] : filters.items()) {
    std::vector<std::string> wanted;
    if (values.is_object())
      for (const auto& [v, on] : values.items()) wanted.push_back(v);
    else if (values.is_array())
      for (const auto& v : values)
        if (v.is_string()) wanted.push_back(v.get<std::string>());
    if (wanted.empty()) continue;
    bool any = false;
    for (const auto& w : wanted) {
      if (key == "name") any |= net["Name"].get<std::string>().find(w) != std::string::npos;
      else if (key == "id") any |= net["Id"].get<std::string>().starts_with(w);
      else if (key == "driver") any |= net["Driver"] == w;
      else if (key == "label") {
        auto eq = w.find('=');
        const json& labels = net["Labels"];
        auto it = labels.find(w.substr(0, eq));
        any |= it != labels.end() && (eq == std::string::npos || *it == w.substr(eq + 1));
      } else {
        any = true;  // filters berthd does not know match everything
      }
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace

bool serve_networks(NetworkManager& n, ContainerManager& m, const std::string& p, Request& req,
                    ResponseWriter& resp) {
  if (p != "/networks" && !p.starts_with("/networks/")) return false;
  const std::string& method = req.method;
  bool get = method == "GET" || method == "HEAD";
  if (p == "/networks" && get) {
    json filters = json::parse(req.param("filters", "{}"), nullptr, false);
    auto containers = m.list();
    json out = json::array();
    for (const auto& rec : n.list()) {
      json j = network_json(rec, containers);
      if (matches(j, filters)) out.push_back(j);
    }
    for (const char* name : {"host", "none"})
      if (json j = pseudo_network(name); matches(j, filters)) out.push_back(j);
    send_json(resp, 200, out);
    return true;
  }
  if (p == "/networks/create" && method == "POST") {
    json body = json::parse(req.body, nullptr, false);
    auto r = n.create(body);
    if (auto* e = std::get_if<ApiError>(&r)) {
      send_error(resp, e->status, e->message);
      return true;
    }
    send_json(resp, 201, {{"Id", std::get<NetworkRecord>(r).id}, {"Warning", ""}});
    return true;
  }
  std::string rest = p.substr(std::string("/networks/").size());
  if (rest.empty()) return false;
  for (const char* verb : {"/connect", "/disconnect"}) {
    if (method != "POST" || !rest.ends_with(verb) || rest.size() == std::strlen(verb)) continue;
    std::string net = rest.substr(0, rest.size() - std::strlen(verb));
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || body.value("Container", "").empty()) {
      send_error(resp, 400, "a container is required");
      return true;
    }
    std::string container = body.value("Container", "");
    json ep = body.value("EndpointConfig", json::object());
    auto r = std::string(verb) == "/connect"
                 ? m.connect(container, net, ep.is_object() ? detail::strings_of(ep.value("Aliases", json())) : std::vector<std::string>{})
                 : m.disconnect(container, net);
    if (auto* e = std::get_if<ApiError>(&r)) {
      send_error(resp, e->status, e->message);
      return true;
    }
    resp.send(200, "", "");
    return true;
  }
  if (get) {
    if (rest == "host" || rest == "none") {
      send_json(resp, 200, pseudo_network(rest));
      return true;
    }
    auto rec = n.find(rest);
    if (!rec) {
      send_error(resp, 404, cat("network ", rest, " not found"));
      return true;
    }
    send_json(resp, 200, network_json(*rec, m.list()));
    return true;
  }
  if (method == "DELETE") {
    if (rest == "host" || rest == "none") {
      send_error(resp, 403, cat(rest, " is a pre-defined network and cannot be removed"));
      return true;
    }
    std::set<std::string> used;
    for (const auto& c : m.list())
      for (const auto& a : attachments_of(c.network)) used.insert(a.network_id);
    auto r = n.remove(rest, used);
    if (auto* e = std::get_if<ApiError>(&r)) {
      send_error(resp, e->status, e->message);
      return true;
    }
    resp.send(204, "", "");
    return true;
  }
  return false;
}

}  // namespace berth::daemon
