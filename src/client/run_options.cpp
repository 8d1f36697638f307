// run/create flags to the create body; see run_options.hpp.
#include "client/run_options.hpp"

#include <cstdlib>

#include "client/format.hpp"
#include "common/strings.hpp"

namespace berth::client {

using nlohmann::json;

void RunOptions::add_flags(Args* a, bool with_detach) {
  if (with_detach) a->add_bool("detach", 'd', &detach, "Run container in background and print container ID");
  a->add_bool("interactive", 'i', &interactive, "Keep STDIN open even if not attached");
  a->add_bool("tty", 't', &tty, "Allocate a pseudo-TTY");
  a->add_bool("rm", 0, &rm, "Automatically remove the container and its associated anonymous volumes when it exits");
  a->add_string("name", 0, &name, "string", "Assign a name to the container");
  a->add_list("env", 'e', &env, "list", "Set environment variables");
  a->add_list("volume", 'v', &volumes, "list", "Bind mount a volume");
  a->add_list("publish", 'p', &publish, "list", "Publish a container's port(s) to the host");
  a->add_string("memory", 'm', &memory, "bytes", "Memory limit");
  a->add_string("cpus", 0, &cpus, "decimal", "Number of CPUs");
  a->add_string("pids-limit", 0, &pids_limit, "int", "Tune container pids limit (set -1 for unlimited)");
  a->add_string("restart", 0, &restart, "string", "Restart policy to apply when a container exits (default \"no\")");
  a->add_string("entrypoint", 0, &entrypoint, "string", "Overwrite the default ENTRYPOINT of the image");
  a->add_string("workdir", 'w', &workdir, "string", "Working directory inside the container");
  a->add_string("user", 'u', &user, "string", "Username or UID (format: <name|uid>[:<group|gid>])");
  a->add_string("network", 0, &network, "network", "Connect a container to a network");
  a->add_list("network-alias", 0, &network_aliases, "list", "Add network-scoped alias for the container");
}

namespace {

// "[ip:][hostPort:]containerPort[/proto]"
Status add_port(const std::string& spec, json* exposed, json* bindings) {
  std::string proto = "tcp";
  std::string rest = spec;
  if (size_t slash = rest.rfind('/'); slash != std::string::npos) {
    proto = rest.substr(slash + 1);
    rest.resize(slash);
  }
  std::string ip, host_port, container_port;
  size_t last = rest.rfind(':');
  if (last == std::string::npos) {
    container_port = rest;
  } else {
    container_port = rest.substr(last + 1);
    std::string head = rest.substr(0, last);
    size_t mid = head.rfind(':');
    if (mid == std::string::npos) {
      host_port = head;
    } else {
      ip = head.substr(0, mid);
      host_port = head.substr(mid + 1);
      if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    }
  }
  auto cport = parse_int<int>(container_port);
  if (!cport || *cport <= 0 || *cport > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp"))
    return make_error("invalid containerPort: ", container_port);
  if (!host_port.empty()) {
    auto hport = parse_int<int>(host_port);
    if (!hport || *hport < 0 || *hport > 65535) return make_error("invalid hostPort: ", host_port);
  }
  std::string key = cat(*cport, "/", proto);
  (*exposed)[key] = json::object();
  (*bindings)[key].push_back({{"HostIp", ip}, {"HostPort", host_port}});
  return {};
}

Result<json> restart_policy(const std::string& spec) {
  if (spec.empty() || spec == "no") return json{{"Name", "no"}, {"MaximumRetryCount", 0}};
  std::string name = spec;
  int count = 0;
  if (size_t colon = spec.find(':'); colon != std::string::npos) {
    name = spec.substr(0, colon);
    auto n = parse_int<int>(std::string_view(spec).substr(colon + 1));
    if (!n || *n < 0) return make_error("invalid restart policy format: maximum retry count must be an integer");
    if (name != "on-failure")
      return make_error("invalid restart policy format: maximum retry count can only be used with 'on-failure'");
    count = *n;
  }
  if (name != "always" && name != "unless-stopped" && name != "on-failure")
    return make_error("invalid restart policy format: unknown policy '", name, "'");
  return json{{"Name", name}, {"MaximumRetryCount", count}};
}

}  // namespace

Result<json> create_body(const RunOptions& o, const std::string& image, const std::vector<std::string>& cmd,
                         const char* (*lookup_env)(const char*)) {
  json config = json::object();
  bool attach = !o.detach;
  config["Image"] = image;
  config["Tty"] = o.tty;
  config["OpenStdin"] = o.interactive;
  config["StdinOnce"] = o.interactive && attach;
  config["AttachStdin"] = o.interactive && attach;
  config["AttachStdout"] = attach;
  config["AttachStderr"] = attach;
  if (!cmd.empty()) config["Cmd"] = cmd;
  if (o.entrypoint_set) {
    // An empty --entrypoint resets the image's entrypoint.
    config["Entrypoint"] = o.entrypoint.empty() ? json::array({""}) : json::array({o.entrypoint});
  }
  json env = json::array();
  for (const auto& e : o.env) {
    if (e.find('=') != std::string::npos) {
      env.push_back(e);
    } else if (const char* v = lookup_env ? lookup_env(e.c_str()) : nullptr) {
      env.push_back(e + "=" + v);
    }
  }
  if (!env.empty()) config["Env"] = env;
  if (!o.workdir.empty()) {
    if (o.workdir[0] != '/')
      return make_error("the working directory '", o.workdir, "' is invalid, it needs to be an absolute path");
    config["WorkingDir"] = o.workdir;
  }
  if (!o.user.empty()) config["User"] = o.user;

  json host = json::object();
  json binds = json::array(), volumes = json::object();
  for (const auto& v : o.volumes) {
    if (v.find(':') != std::string::npos)
      binds.push_back(v);
    else if (!v.empty() && v[0] == '/')
      volumes[v] = json::object();
    else
      return make_error("invalid volume specification: '", v, "'");
  }
  if (!binds.empty()) host["Binds"] = binds;
  if (!volumes.empty()) config["Volumes"] = volumes;
  json exposed = json::object(), bindings = json::object();
  for (const auto& p : o.publish) BERTH_TRY(add_port(p, &exposed, &bindings));
  if (!exposed.empty()) {
    config["ExposedPorts"] = exposed;
    host["PortBindings"] = bindings;
  }
  if (!o.memory.empty()) {
    auto m = ram_in_bytes(o.memory);
    if (!m)
      return make_error("invalid argument \"", o.memory, "\" for \"-m, --memory\" flag: invalid size: '", o.memory,
                        "'");
    host["Memory"] = *m;
  }
  if (!o.cpus.empty()) {
    char* end = nullptr;
    double c = std::strtod(o.cpus.c_str(), &end);
    if (end == o.cpus.c_str() || *end != '\0' || c < 0)
      return make_error("invalid argument \"", o.cpus, "\" for \"--cpus\" flag: failed to parse ", o.cpus,
                        " as a rational number");
    host["NanoCpus"] = static_cast<int64_t>(c * 1e9 + 0.5);
  }
  if (!o.pids_limit.empty()) {
    auto p = parse_int<int64_t>(o.pids_limit);
    if (!p)
      return make_error("invalid argument \"", o.pids_limit, "\" for \"--pids-limit\" flag: strconv.ParseInt: parsing ",
                        quote(o.pids_limit), ": invalid syntax");
    host["PidsLimit"] = *p;
  }
  auto policy = restart_policy(o.restart);
  if (!policy) return std::move(policy).error();
  if (o.rm && (*policy)["Name"] != "no")
    return make_error("conflicting options: cannot specify both --restart and --rm");
  host["RestartPolicy"] = *policy;
  host["AutoRemove"] = o.rm;
  host["NetworkMode"] = o.network.empty() ? "default" : o.network;

  json body = config;
  body["HostConfig"] = host;
  json endpoints = json::object();
  if (!o.network_aliases.empty()) {
    // As docker: aliases belong to a user-defined network.
    if (o.network.empty() || o.network == "default" || o.network == "bridge" || o.network == "host" ||
        o.network == "none")
      return make_error("network-scoped aliases are only supported for user-defined networks");
    endpoints[o.network] = {{"Aliases", o.network_aliases}};
  }
  body["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};
  return body;
}

int start_failure_exit_code(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos ||
      message.find("No such file or directory") != std::string::npos ||
      message.find("system cannot find the file specified") != std::string::npos)
    return 127;
  if (message.find("permission denied") != std::string::npos ||
      message.find("Permission denied") != std::string::npos || message.find("is a directory") != std::string::npos ||
      message.find("Is a directory") != std::string::npos)
    return 126;
  return 125;
}

std::pair<std::string, std::string> split_reference(const std::string& ref) {
  if (ref.find('@') != std::string::npos) return {ref, ""};
  size_t colon = ref.rfind(':');
  size_t slash = ref.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    return {ref.substr(0, colon), ref.substr(colon + 1)};
  return {ref, "latest"};
}

}  // namespace berth::client
