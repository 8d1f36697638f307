// IP address management for berthd's bridge networks: one JSON file per
// network under a root directory, every operation under an flock, so leases
// survive a berthd restart and two processes never hand out one address.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "net/netlink.hpp"

namespace berth::net {

/// Leases of one network: owner (a container id) -> address.
using Leases = std::map<std::string, Ipv4>;

class Ipam {
 public:
  /// Uses (and creates, with missing parents) `root`, e.g. <data-root>/networks/ipam.
  static Result<Ipam> open(const std::string& root);

  /// Records a network. The gateway must be a host address of the subnet,
  /// and the subnet must hold at least one more address for a container.
  Status create_network(const std::string& id, const Ipv4Net& subnet, Ipv4 gateway);
  /// Forgets a network and its leases; an unknown network is fine.
  Status remove_network(const std::string& id);
  /// An address for `owner`: the one it already holds, else `wanted`, else the
  /// next free one after the last handed out (so a just-released address is
  /// not reused at once). Never the network, broadcast or gateway address.
  Result<Ipv4> allocate(const std::string& id, const std::string& owner, std::optional<Ipv4> wanted = std::nullopt);
  /// Drops the lease of `owner`; no lease, or no network, is fine.
  Status release(const std::string& id, const std::string& owner);
  Result<Leases> leases(const std::string& id);
  /// Drops the leases of `owner` on every network (a removed container).
  Status release_owner_everywhere(const std::string& owner);

 private:
  struct Network;
  Ipam(std::string root, UniqueFd dir) : root_(std::move(root)), dir_(std::move(dir)) {}
  /// Runs `fn` while holding the directory's lock file exclusively.
  template <class F>
  auto locked(F&& fn) -> decltype(fn());
  Result<Network> load(const std::string& id);
  Status save(const std::string& id, const Network& net);

  std::string root_;
  UniqueFd dir_;
};

/// A network's name and subnet, for overlap messages.
struct NamedSubnet {
  std::string network;
  Ipv4Net subnet;
};

/// The first default subnet that overlaps none of `in_use`: 172.17.0.0/16 to
/// 172.31.0.0/16, then the /20 blocks of 192.168.0.0/16, as docker does.
Result<Ipv4Net> pick_subnet(const std::vector<Ipv4Net>& in_use);
/// Fails with "subnet A overlaps with network X's B" if `subnet` overlaps any of `in_use`.
Status check_overlap(const Ipv4Net& subnet, const std::vector<NamedSubnet>& in_use);

}  // namespace berth::net
