// berthd's bridge networks: the default "bridge" (interface berth0) and the
// user-defined ones, their records under <data-root>/networks, addresses from
// IPAM, one network namespace per running container joined to its bridge by
// a veth, published ports and masquerade in berth's nftables table, and, on
// user-defined networks, a DNS responder on the gateway that answers the
// containers' names and aliases.
//
// Kernel objects appear only when a container needs them: a berthd that runs
// no container on a bridge network makes no link and no rule.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "daemon/containers.hpp"
#include "net/dns.hpp"
#include "net/ipam.hpp"
#include "net/netlink.hpp"
#include "net/nft.hpp"

namespace berth::daemon {

struct NetworkRecord {
  std::string id;
  std::string name;
  std::string bridge;  // the link: berth0, or br-<12 hex of the id>
  net::Ipv4Net subnet;  // canonical
  net::Ipv4 gateway;
  std::string created;  // RFC 3339
  bool internal = false;  // no masquerade out
  nlohmann::json labels = nlohmann::json::object();
  /// Names resolve on user-defined networks, not on the default bridge (as in docker).
  bool dns() const { return name != "bridge"; }
};

/// What a running container holds of its network; kept with the container
/// (<container dir>/network.json) so a new berthd can undo it.
struct Attachment {
  std::string container_id;
  std::string network_id;
  std::string network_name;  // as when attached, for inspect
  std::string netns_path;
  bool owns_netns = true;  // the first network's attachment made the namespace
  std::string ifname = "eth0";
  std::string host_veth;
  net::Ipv4Net address;  // the container's, with the subnet's prefix
  net::Ipv4 gateway;
  std::vector<std::string> names;  // DNS names: the container's name and its aliases
  std::vector<net::PortMapping> ports;  // host ports as chosen
  nlohmann::json to_json() const;
  static Result<Attachment> from_json(const nlohmann::json& j);
};

/// A container's attachments as it keeps them (a JSON array, first the
/// network it was started on); unreadable entries are skipped.
std::vector<Attachment> attachments_of(const nlohmann::json& j);

class NetworkManager {
 public:
  NetworkManager(std::string data_root, std::string exec_root)
      : dir_(data_root + "/networks"), netns_dir_(exec_root + "/netns") {}
  ~NetworkManager();

  /// Reads the records and makes the default "bridge" record if missing.
  Status load();
  /// After the containers are loaded: re-publishes the ports and names of
  /// those still running (`running`), and releases the addresses of every
  /// other container. Also clears berth's nftables table of a crash's rules
  /// first, when berthd had one.
  void reconcile(const std::vector<Attachment>& running);

  /// POST /networks/create (docker's body: Name, Driver, Internal, Labels,
  /// IPAM.Config[0].Subnet/Gateway, CheckDuplicate).
  ApiResult<NetworkRecord> create(const nlohmann::json& body);
  /// DELETE /networks/{id}; 409 while `used` says a container is on it.
  ApiResult<bool> remove(const std::string& ref, const std::set<std::string>& used);
  std::vector<NetworkRecord> list();
  /// By id, unique id prefix or name.
  std::optional<NetworkRecord> find(const std::string& ref);

  /// Gives container `id` a network namespace on `network` with an address,
  /// its ports published and, on a user-defined network, its names in DNS.
  /// With `join` (the namespace of its first network), a further interface
  /// `ifname` there instead, with no default route. All or nothing: a
  /// failure leaves no netns, veth, rule or lease.
  ApiResult<Attachment> attach(const std::string& id, const std::string& network, std::vector<std::string> names,
                               std::vector<net::PortMapping> ports, const Attachment* join = nullptr,
                               unsigned index = 0);
  /// Undoes attach; safe to call twice and for an attachment of an earlier
  /// berthd.
  void detach(const Attachment& a);

  /// The nameserver a container on `network_id` gets: the gateway for a
  /// network with DNS, else nullopt (copy the host's).
  std::optional<net::Ipv4> dns_server(const std::string& network_id);

 private:
  std::optional<NetworkRecord> find_locked(const std::string& ref);
  Status save(const NetworkRecord& n);
  /// The bridge, its address and masquerade, the responder: made on first use.
  Status ensure_up(const NetworkRecord& n);
  /// The last container left `network_id`: its masquerade and responder go
  /// (the bridge stays, as docker's do).
  void ensure_down(const std::string& network_id);
  Result<net::Nft*> nft();
  void unpublish(const Attachment& a);

  std::string dir_;
  std::string netns_dir_;
  std::mutex mu_;
  std::map<std::string, NetworkRecord> nets_;  // by id
  std::optional<net::Ipam> ipam_;
  std::optional<net::Nft> nft_;
  std::set<std::string> up_;  // networks whose bridge and rules exist
  std::map<std::string, std::set<std::string>> members_;  // network id -> attached container ids
  std::map<std::string, std::unique_ptr<net::DnsResponder>> dns_;  // by network id
  // Published host ports: "tcp/0.0.0.0/8080" -> container id.
  std::map<std::string, std::string> published_;
};

/// docker's HostConfig.PortBindings ({"80/tcp": [{"HostIp", "HostPort"}]}) as mappings.
Result<std::vector<net::PortMapping>> port_bindings(const nlohmann::json& bindings);

}  // namespace berth::daemon
