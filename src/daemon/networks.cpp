#include "daemon/networks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "common/time.hpp"
#include "daemon/container_util.hpp"

namespace berth::daemon {

using nlohmann::json;

namespace {

constexpr const char* kDefaultNetwork = "bridge";
constexpr const char* kDefaultBridge = "berth0";

json record_json(const NetworkRecord& n) {
  return {{"Id", n.id},           {"Name", n.name},         {"Bridge", n.bridge},
          {"Subnet", n.subnet.to_string()}, {"Gateway", n.gateway.to_string()}, {"Created", n.created},
          {"Internal", n.internal}, {"Labels", n.labels}};
}

Result<NetworkRecord> record_from(const json& j) {
  NetworkRecord n;
  n.id = j.value("Id", "");
  n.name = j.value("Name", "");
  n.bridge = j.value("Bridge", "");
  n.created = j.value("Created", "");
  n.internal = j.value("Internal", false);
  n.labels = j.value("Labels", json::object());
  auto subnet = net::Ipv4Net::parse(j.value("Subnet", ""));
  if (!subnet) return std::move(subnet).error();
  auto gw = net::Ipv4::parse(j.value("Gateway", ""));
  if (!gw) return std::move(gw).error();
  n.subnet = *subnet;
  n.gateway = *gw;
  if (n.id.empty() || n.name.empty() || n.bridge.empty()) return make_error("network record without Id, Name or Bridge");
  return n;
}

std::string port_key(const net::PortMapping& p) {
  return cat(net::proto_name(p.proto), "/", p.host_ip.value_or("0.0.0.0"), "/", p.host_port);
}

void warn(Status st, const std::string& what) {
  if (!st) log::warn(st.error().wrap(what).message());
}

}  // namespace

// ---- attachments ---------------------------------------------------------------

json Attachment::to_json() const {
  json ports_j = json::array();
  for (const auto& p : ports)
    ports_j.push_back({{"Proto", net::proto_name(p.proto)},
                       {"HostIp", p.host_ip.value_or("")},
                       {"HostPort", p.host_port},
                       {"ContainerPort", p.container_port}});
  return {{"ContainerId", container_id},   {"NetworkId", network_id},         {"NetworkName", network_name},
          {"Netns", netns_path},           {"OwnsNetns", owns_netns},         {"Ifname", ifname},
          {"HostVeth", host_veth},         {"Address", address.to_string()}, {"Gateway", gateway.to_string()},
          {"Names", names},                {"Ports", ports_j}};
}

Result<Attachment> Attachment::from_json(const json& j) {
  if (!j.is_object()) return make_error("network attachment is not an object");
  Attachment a;
  a.container_id = j.value("ContainerId", "");
  a.network_id = j.value("NetworkId", "");
  a.network_name = j.value("NetworkName", "");
  a.netns_path = j.value("Netns", "");
  a.owns_netns = j.value("OwnsNetns", true);
  a.ifname = j.value("Ifname", "eth0");
  a.host_veth = j.value("HostVeth", "");
  auto addr = net::Ipv4Net::parse(j.value("Address", ""));
  if (!addr) return std::move(addr).error();
  auto gw = net::Ipv4::parse(j.value("Gateway", ""));
  if (!gw) return std::move(gw).error();
  a.address = *addr;
  a.gateway = *gw;
  for (const auto& n : j.value("Names", json::array()))
    if (n.is_string()) a.names.push_back(n.get<std::string>());
  for (const auto& p : j.value("Ports", json::array())) {
    net::PortMapping m;
    m.proto = p.value("Proto", "tcp") == "udp" ? net::Proto::udp : net::Proto::tcp;
    if (std::string ip = p.value("HostIp", ""); !ip.empty()) m.host_ip = ip;
    m.host_port = p.value("HostPort", uint16_t{0});
    m.container_port = p.value("ContainerPort", uint16_t{0});
    a.ports.push_back(m);
  }
  return a;
}

std::vector<Attachment> attachments_of(const json& j) {
  std::vector<Attachment> out;
  if (j.is_object()) {  // one attachment, as the first networking berthd kept it
    if (auto a = Attachment::from_json(j); a) out.push_back(std::move(*a));
    return out;
  }
  if (!j.is_array()) return out;
  for (const auto& e : j)
    if (auto a = Attachment::from_json(e); a) out.push_back(std::move(*a));
  return out;
}

Result<std::vector<net::PortMapping>> port_bindings(const json& bindings) {
  std::vector<net::PortMapping> out;
  if (!bindings.is_object()) return out;
  for (const auto& [key, list] : bindings.items()) {
    auto slash = key.find('/');
    std::string proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    auto cport = parse_int<uint16_t>(key.substr(0, slash));
    if (!cport || *cport == 0 || (proto != "tcp" && proto != "udp"))
      return make_error("invalid port \"", key, "\": want PORT[/tcp|udp]");
    if (!list.is_array()) continue;
    for (const auto& b : list) {
      net::PortMapping m;
      m.proto = proto == "udp" ? net::Proto::udp : net::Proto::tcp;
      m.container_port = *cport;
      if (std::string ip = b.value("HostIp", ""); !ip.empty() && ip != "0.0.0.0") {
        if (!net::Ipv4::parse(ip)) return make_error("invalid host address \"", ip, "\" for port ", key);
        m.host_ip = ip;
      }
      if (std::string hp = b.value("HostPort", ""); !hp.empty()) {
        auto n = parse_int<uint16_t>(hp);
        if (!n) return make_error("invalid host port \"", hp, "\" for port ", key);
        m.host_port = *n;
      }
      out.push_back(m);
    }
  }
  return out;
}

// ---- records -------------------------------------------------------------------

NetworkManager::~NetworkManager() = default;

Status NetworkManager::load() {
  std::lock_guard g(mu_);
  BERTH_TRY(mkdir_all(dir_, 0700));
  auto ipam = net::Ipam::open(dir_ + "/ipam");
  if (!ipam) return std::move(ipam).error();
  ipam_.emplace(std::move(*ipam));
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string f = e->d_name;
      if (!f.ends_with(".json")) continue;
      auto text = read_file(dir_ + "/" + f);
      json j = text ? json::parse(*text, nullptr, false) : json();
      auto n = record_from(j);
      if (!n) {
        log::warn(n.error().wrap("network record " + dir_ + "/" + f).message());
        continue;
      }
      nets_[n->id] = *n;
    }
    ::closedir(d);
  }
  if (find_locked(kDefaultNetwork)) return {};
  std::vector<net::Ipv4Net> in_use;
  for (const auto& [id, n] : nets_) in_use.push_back(n.subnet);
  auto subnet = net::pick_subnet(in_use);
  if (!subnet) return std::move(subnet).error();
  NetworkRecord n;
  n.id = detail::random_hex(32);
  n.name = kDefaultNetwork;
  n.bridge = kDefaultBridge;
  n.subnet = subnet->canonical();
  n.gateway = *n.subnet.host(1);
  n.created = rfc3339_now();
  BERTH_TRY(ipam_->create_network(n.id, n.subnet, n.gateway));
  BERTH_TRY(save(n));
  nets_[n.id] = n;
  return {};
}

Status NetworkManager::save(const NetworkRecord& n) {
  UniqueFd dfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return sys_error("open ", dir_);
  return write_file_atomic(dfd.get(), n.id + ".json", record_json(n).dump() + "\n", 0600);
}

std::optional<NetworkRecord> NetworkManager::find_locked(const std::string& ref) {
  if (ref.empty()) return std::nullopt;
  for (const auto& [id, n] : nets_)
    if (n.name == ref || id == ref) return n;
  std::optional<NetworkRecord> hit;
  for (const auto& [id, n] : nets_) {
    if (!id.starts_with(ref)) continue;
    if (hit) return std::nullopt;  // ambiguous
    hit = n;
  }
  return hit;
}

std::optional<NetworkRecord> NetworkManager::find(const std::string& ref) {
  std::lock_guard g(mu_);
  return find_locked(ref);
}

std::vector<NetworkRecord> NetworkManager::list() {
  std::lock_guard g(mu_);
  std::vector<NetworkRecord> out;
  for (const auto& [id, n] : nets_) out.push_back(n);
  return out;
}

std::optional<net::Ipv4> NetworkManager::dns_server(const std::string& network_id) {
  std::lock_guard g(mu_);
  auto it = nets_.find(network_id);
  if (it == nets_.end() || !it->second.dns()) return std::nullopt;
  return it->second.gateway;
}

ApiResult<NetworkRecord> NetworkManager::create(const json& body) {
  if (!body.is_object()) return ApiError{400, "the request body is not a JSON object"};
  std::string name = body.value("Name", "");
  if (name.empty()) return ApiError{400, "network name is required"};
  if (!valid_container_name(name))
    return ApiError{400, cat("invalid network name \"", name, "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")};
  std::string driver = body.value("Driver", "bridge");
  if (!driver.empty() && driver != "bridge")
    return ApiError{400, cat("network driver \"", driver, "\" is not supported by berthd (bridge only)")};
  if (name == "host" || name == "none")
    return ApiError{403, cat(name, " is a pre-defined network and cannot be created")};

  std::optional<net::Ipv4Net> subnet;
  std::optional<net::Ipv4> gateway;
  json ipam = body.value("IPAM", json::object());
  if (auto cfgs = ipam.is_object() ? ipam.value("Config", json::array()) : json::array();
      cfgs.is_array() && !cfgs.empty()) {
    if (cfgs.size() > 1) return ApiError{400, "berthd networks have one IPv4 subnet"};
    const json& c = cfgs[0];
    if (std::string s = c.value("Subnet", ""); !s.empty()) {
      auto p = net::Ipv4Net::parse(s);
      if (!p) return ApiError{400, p.error().message()};
      if (p->prefix() > 30) return ApiError{400, cat("subnet ", s, " is too small for a network")};
      subnet = p->canonical();
    }
    if (std::string s = c.value("Gateway", ""); !s.empty()) {
      auto p = net::Ipv4::parse(s);
      if (!p) return ApiError{400, p.error().message()};
      if (!subnet) return ApiError{400, "a gateway needs a subnet"};
      if (!subnet->contains(*p) || *p == subnet->network() || *p == subnet->broadcast())
        return ApiError{400, cat("gateway ", s, " is not a host address of subnet ", subnet->to_string())};
      gateway = *p;
    }
  }

  std::lock_guard g(mu_);
  if (find_locked(name) && find_locked(name)->name == name)
    return ApiError{409, cat("network with name ", name, " already exists")};
  std::vector<net::NamedSubnet> used;
  std::vector<net::Ipv4Net> in_use;
  for (const auto& [id, n] : nets_) {
    used.push_back({n.name, n.subnet});
    in_use.push_back(n.subnet);
  }
  if (subnet) {
    if (auto st = net::check_overlap(*subnet, used); !st) return ApiError{400, st.error().message()};
  } else {
    auto picked = net::pick_subnet(in_use);
    if (!picked) return ApiError{500, picked.error().message()};
    subnet = picked->canonical();
  }
  NetworkRecord n;
  n.id = detail::random_hex(32);
  n.name = name;
  n.bridge = "br-" + n.id.substr(0, 12);
  n.subnet = *subnet;
  n.gateway = gateway ? *gateway : *subnet->host(1);
  n.created = rfc3339_now();
  n.internal = body.value("Internal", false);
  if (auto l = body.find("Labels"); l != body.end() && l->is_object()) n.labels = *l;
  if (auto st = ipam_->create_network(n.id, n.subnet, n.gateway); !st) return ApiError{500, st.error().message()};
  if (auto st = save(n); !st) {
    warn(ipam_->remove_network(n.id), "forget the addresses of network " + n.name);
    return ApiError{500, st.error().message()};
  }
  nets_[n.id] = n;
  return n;
}

ApiResult<bool> NetworkManager::remove(const std::string& ref, const std::set<std::string>& used) {
  std::lock_guard g(mu_);
  auto n = find_locked(ref);
  if (!n) return ApiError{404, cat("network ", ref, " not found")};
  if (n->name == kDefaultNetwork) return ApiError{403, cat(n->name, " is a pre-defined network and cannot be removed")};
  if (used.count(n->id) || (members_.count(n->id) && !members_[n->id].empty()))
    return ApiError{409, cat("error while removing network: network ", n->name, " id ", n->id, " has active endpoints")};
  ensure_down(n->id);
  // The bridge outlives its last container (as docker's do) but not the
  // network: a later network may get the same subnet.
  if (auto host = net::RtNetlink::open(); host)
    if (auto st = host->delete_link(n->bridge); !st && st.error().code() != ENODEV)
      warn(std::move(st), "remove bridge " + n->bridge);
  warn(ipam_->remove_network(n->id), "forget the addresses of network " + n->name);
  if (::unlink(cat(dir_, "/", n->id, ".json").c_str()) < 0 && errno != ENOENT)
    return ApiError{500, sys_error("remove ", dir_, "/", n->id, ".json").message()};
  nets_.erase(n->id);
  return true;
}

// ---- the kernel side -------------------------------------------------------------

Result<net::Nft*> NetworkManager::nft() {
  if (!nft_) {
    auto n = net::Nft::open();
    if (!n) return std::move(n).error();
    nft_.emplace(std::move(*n));
    // The first use after a start: whatever a crashed berthd left goes.
    BERTH_TRY(nft_->reset());
  }
  return &*nft_;
}

Status NetworkManager::ensure_up(const NetworkRecord& n) {
  if (up_.count(n.id)) return {};
  auto host = net::RtNetlink::open();
  if (!host) return std::move(host).error();
  BERTH_TRY(net::ensure_bridge(*host, n.bridge, n.subnet.with_address(n.gateway)));
  BERTH_TRY(net::enable_ip_forward());
  auto nft = this->nft();
  if (!nft) return std::move(nft).error();
  BERTH_TRY((*nft)->add_network(n.id, n.subnet.to_string(), n.bridge, n.internal));
  if (n.dns() && !dns_.count(n.id)) {
    auto dns = net::DnsResponder::start(n.gateway.value(), 53, net::host_resolvers());
    if (!dns) return std::move(dns).error().wrap("DNS for network " + n.name);
    dns_[n.id] = std::move(*dns);
  }
  up_.insert(n.id);
  return {};
}

ApiResult<Attachment> NetworkManager::attach(const std::string& id, const std::string& network,
                                             std::vector<std::string> names, std::vector<net::PortMapping> ports,
                                             const Attachment* join, unsigned index) {
  std::lock_guard g(mu_);
  auto n = find_locked(network);
  if (!n) return ApiError{404, cat("network ", network, " not found")};
  // Host ports: free on the host and not published by another container.
  for (auto& p : ports) {
    if (p.host_port == 0) {
      auto port = net::pick_free_port(p.proto, p.host_ip);
      if (!port) return ApiError{500, port.error().message()};
      p.host_port = *port;
    }
    // A port published on every address takes it on each one too.
    bool taken = published_.count(port_key(p)) > 0;
    for (const auto& [key, owner] : published_) {
      std::string proto(net::proto_name(p.proto)), port = std::to_string(p.host_port);
      if (key.starts_with(proto + "/") && key.ends_with("/" + port) &&
          (!p.host_ip || key == cat(proto, "/0.0.0.0/", port)))
        taken = true;
    }
    if (taken)
      return ApiError{500, cat("Bind for ", p.host_ip.value_or("0.0.0.0"), ":", p.host_port,
                               " failed: port is already allocated")};
    if (auto st = net::check_port_free(p.proto, p.host_ip, p.host_port); !st)
      return ApiError{500, st.error().message()};
  }

  if (auto st = ensure_up(*n); !st) {
    if (!members_.count(n->id)) ensure_down(n->id);
    return ApiError{500, st.error().wrap("set up network " + n->name).message()};
  }

  Attachment a;
  a.container_id = id;
  a.network_id = n->id;
  a.network_name = n->name;
  a.gateway = n->gateway;
  a.names = std::move(names);
  a.ports = std::move(ports);
  a.netns_path = join ? join->netns_path : cat(netns_dir_, "/", id);
  a.owns_netns = !join;
  a.ifname = cat("eth", index);
  auto veth = net::host_veth_name(id, index);
  if (!veth) return ApiError{500, veth.error().message()};
  a.host_veth = *veth;

  // Undone in reverse on any failure below.
  bool leased = false, netns = false, linked = false, ported = false;
  auto fail = [&](const Error& e) -> ApiResult<Attachment> {
    auto host = net::RtNetlink::open();
    if (ported && nft_) warn(nft_->remove_ports(id), "unpublish the ports of " + id);
    if (linked && host) warn(net::disconnect_endpoint(*host, a.host_veth), "remove " + a.host_veth);
    if (netns) warn(net::remove_netns(a.netns_path), "remove " + a.netns_path);
    if (leased) warn(ipam_->release(n->id, id), "release the address of " + id);
    if (!members_.count(n->id)) ensure_down(n->id);
    return ApiError{500, Error(e).wrap("connect to network " + n->name).message()};
  };
  auto ip = ipam_->allocate(n->id, id);
  if (!ip) return fail(ip.error());
  leased = true;
  a.address = n->subnet.with_address(*ip);
  if (!join) {
    if (auto st = mkdir_all(netns_dir_, 0700); !st) return fail(st.error());
    if (auto st = net::create_netns(a.netns_path); !st) return fail(st.error());
    netns = true;
  }
  {
    UniqueFd nsfd(::open(a.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!nsfd) return fail(sys_error("open ", a.netns_path));
    auto host = net::RtNetlink::open();
    if (!host) return fail(host.error());
    auto inside = net::RtNetlink::open_in(nsfd.get());
    if (!inside) return fail(inside.error());
    net::Endpoint ep;
    ep.bridge = n->bridge;
    ep.host_veth = a.host_veth;
    ep.container_netns_fd = nsfd.get();
    ep.container_ifname = a.ifname;
    ep.default_route = !join;
    ep.address = a.address;
    ep.gateway = n->gateway;
    if (auto st = net::connect_endpoint(*host, *inside, ep); !st) return fail(st.error());
    linked = true;
  }
  if (!a.ports.empty()) {
    auto nft = this->nft();
    if (!nft) return fail(nft.error());
    if (auto st = (*nft)->add_ports(id, ip->to_string(), n->bridge, a.ports); !st) return fail(st.error());
    ported = true;
  }
  for (const auto& p : a.ports) published_[port_key(p)] = id;
  members_[n->id].insert(id);
  if (auto d = dns_.find(n->id); d != dns_.end())
    for (const auto& name : a.names) d->second->add(name, ip->value());
  return a;
}

void NetworkManager::unpublish(const Attachment& a) {
  for (const auto& p : a.ports) published_.erase(port_key(p));
  if (auto d = dns_.find(a.network_id); d != dns_.end()) d->second->remove_address(a.address.address().value());
  if (!a.ports.empty() && nft_) warn(nft_->remove_ports(a.container_id), "unpublish the ports of " + a.container_id);
}

void NetworkManager::detach(const Attachment& a) {
  std::lock_guard g(mu_);
  unpublish(a);
  if (!a.ports.empty() && !nft_)
    if (auto nft = this->nft(); nft) warn((*nft)->remove_ports(a.container_id), "unpublish " + a.container_id);
  if (auto host = net::RtNetlink::open(); host) warn(net::disconnect_endpoint(*host, a.host_veth), "remove " + a.host_veth);
  if (a.owns_netns) warn(net::remove_netns(a.netns_path), "remove " + a.netns_path);
  if (ipam_) warn(ipam_->release(a.network_id, a.container_id), "release the address of " + a.container_id);
  if (auto m = members_.find(a.network_id); m != members_.end()) {
    m->second.erase(a.container_id);
    if (m->second.empty()) ensure_down(a.network_id);
  }
}

void NetworkManager::ensure_down(const std::string& network_id) {
  members_.erase(network_id);
  dns_.erase(network_id);
  if (up_.erase(network_id) && nft_) warn(nft_->remove_network(network_id), "remove the rules of network " + network_id);
}

void NetworkManager::reconcile(const std::vector<Attachment>& running) {
  std::lock_guard g(mu_);
  std::set<std::string> live;
  for (const auto& a : running) live.insert(a.container_id);
  // Containers attached since this berthd started (a restart policy at work) are live too.
  for (const auto& [id, members] : members_) live.insert(members.begin(), members.end());
  // Rules and links of the running containers come back; the rest is a
  // crash's leftovers and goes: nft() resets berth's table on its first use,
  // here when containers run, else with the first container on a network
  // (a start with nothing running loads no nftables context at all: start-up
  // is the hot path, and the context costs memory).
  if (!running.empty())
    if (auto nft = this->nft(); !nft) log::warn(nft.error().wrap("reset berth's nftables table").message());
  for (const auto& a : running) {
    auto it = nets_.find(a.network_id);
    if (it == nets_.end()) continue;
    if (auto st = ensure_up(it->second); !st) {
      log::warn(st.error().wrap("set up network " + it->second.name).message());
      continue;
    }
    if (!a.ports.empty() && nft_)
      warn(nft_->add_ports(a.container_id, a.address.address().to_string(), it->second.bridge, a.ports),
           "publish the ports of " + a.container_id);
    for (const auto& p : a.ports) published_[port_key(p)] = a.container_id;
    members_[a.network_id].insert(a.container_id);
    if (auto d = dns_.find(a.network_id); d != dns_.end())
      for (const auto& name : a.names) d->second->add(name, a.address.address().value());
  }
  // Leases and namespaces of containers that are not running.
  for (const auto& [id, n] : nets_) {
    auto leases = ipam_->leases(id);
    if (!leases) continue;
    for (const auto& [owner, addr] : *leases)
      if (!live.count(owner)) warn(ipam_->release(id, owner), "release the address of " + owner);
  }
  if (DIR* d = ::opendir(netns_dir_.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.' && !live.count(e->d_name)) stale.push_back(netns_dir_ + "/" + e->d_name);
    ::closedir(d);
    for (const auto& p : stale) warn(net::remove_netns(p), "remove " + p);
  }
}

}  // namespace berth::daemon
