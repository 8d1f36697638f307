// IPv4 values, rtnetlink (bridges, veths, addresses, routes) and network
// namespaces kept as files. berthd talks to the kernel only through
// NetlinkClient, so the bridge and endpoint plans are unit-tested with a fake.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::net {

/// An IPv4 address held in host byte order, so arithmetic and ordering work.
class Ipv4 {
 public:
  constexpr Ipv4() = default;
  constexpr explicit Ipv4(uint32_t host_order) : v_(host_order) {}
  /// Strict dotted quad: four decimal octets, no leading zeros, no spaces.
  static Result<Ipv4> parse(std::string_view s);

  constexpr uint32_t value() const { return v_; }
  std::string to_string() const;
  constexpr auto operator<=>(const Ipv4&) const = default;

 private:
  uint32_t v_ = 0;
};

/// An address with a prefix length: "10.88.0.0/16" (a subnet) or
/// "10.88.0.5/16" (an interface address inside that subnet).
class Ipv4Net {
 public:
  Ipv4Net() = default;
  /// Parses "a.b.c.d/len"; the address need not be the network address.
  static Result<Ipv4Net> parse(std::string_view s);
  /// From parts; fails when the prefix is outside 0..32.
  static Result<Ipv4Net> make(Ipv4 address, int prefix);

  Ipv4 address() const { return address_; }
  int prefix() const { return prefix_; }
  uint32_t mask() const;
  Ipv4 network() const;
  Ipv4 broadcast() const;
  /// The same subnet, as network address + prefix ("10.88.0.5/16" -> "10.88.0.0/16").
  Ipv4Net canonical() const { return Ipv4Net(network(), prefix_); }
  /// `addr` with this prefix: the gateway or a container's interface address.
  Ipv4Net with_address(Ipv4 addr) const { return Ipv4Net(addr, prefix_); }
  bool contains(Ipv4 addr) const;
  bool overlaps(const Ipv4Net& other) const;
  /// Usable host addresses (all but the network and broadcast addresses); 0 for /31 and /32.
  uint32_t host_count() const;
  /// The n-th host address, 1-based: host(1) of 10.88.0.0/16 is 10.88.0.1.
  Result<Ipv4> host(uint32_t n) const;
  std::string to_string() const;
  bool operator==(const Ipv4Net&) const = default;

 private:
  Ipv4Net(Ipv4 address, int prefix) : address_(address), prefix_(prefix) {}
  Ipv4 address_;
  int prefix_ = 0;
};

/// One network interface, as a link dump reports it.
struct LinkInfo {
  std::string name;
  int index = 0;
  std::string kind;      // "bridge", "veth", ... ("" for lo and physical devices)
  int master_index = 0;  // the bridge it is enslaved to, 0 for none
  bool up = false;       // administratively up (IFF_UP)
};

/// The rtnetlink operations berthd needs, in one network namespace. Links are
/// named; every error names the operation and its objects
/// ("create bridge berth0: File exists"), and a missing link fails with ENODEV.
class NetlinkClient {
 public:
  virtual ~NetlinkClient() = default;

  virtual Status create_bridge(const std::string& name) = 0;
  /// A veth pair: `name` here, `peer_name` created directly inside the
  /// namespace `peer_netns_fd` refers to, so no name clash is possible here.
  virtual Status create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd) = 0;
  virtual Status set_master(const std::string& link, const std::string& bridge) = 0;
  /// Hairpin mode of a bridge port: frames may leave by the port they came
  /// in on. A container reaching its own published port needs it where the
  /// bridge passes frames through netfilter (br_netfilter).
  virtual Status set_hairpin(const std::string& link) = 0;
  virtual Status set_up(const std::string& link) = 0;
  /// Deleting one end of a veth deletes its peer as well.
  virtual Status delete_link(const std::string& link) = 0;
  virtual Result<bool> link_exists(const std::string& link) = 0;
  virtual Status add_address(const std::string& link, const Ipv4Net& address) = 0;
  virtual Status add_default_route(Ipv4 gateway) = 0;

  virtual Result<std::vector<LinkInfo>> links() = 0;
  /// The IPv4 addresses of a link, each with its prefix.
  virtual Result<std::vector<Ipv4Net>> addresses(const std::string& link) = 0;
  /// The gateway of the main table's IPv4 default route, if there is one.
  virtual Result<std::optional<Ipv4>> default_gateway() = 0;
};

/// NetlinkClient over a NETLINK_ROUTE socket. Every request asks for an ACK
/// and checks its sequence number, so kernel errors are never lost.
class RtNetlink final : public NetlinkClient {
 public:
  /// A socket in the network namespace of the calling thread.
  static Result<RtNetlink> open();
  /// A socket in the namespace `netns_fd` refers to. The socket is made by a
  /// short-lived thread that enters it, so the caller never changes namespace;
  /// a socket keeps working in the namespace it was created in.
  static Result<RtNetlink> open_in(int netns_fd);

  Status create_bridge(const std::string& name) override;
  Status create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd) override;
  Status set_master(const std::string& link, const std::string& bridge) override;
  Status set_hairpin(const std::string& link) override;
  Status set_up(const std::string& link) override;
  Status delete_link(const std::string& link) override;
  Result<bool> link_exists(const std::string& link) override;
  Status add_address(const std::string& link, const Ipv4Net& address) override;
  Status add_default_route(Ipv4 gateway) override;
  Result<std::vector<LinkInfo>> links() override;
  Result<std::vector<Ipv4Net>> addresses(const std::string& link) override;
  Result<std::optional<Ipv4>> default_gateway() override;

 private:
  class Request;
  explicit RtNetlink(UniqueFd fd) : fd_(std::move(fd)) {}
  /// Sends `req` and reads replies up to its ACK (or NLMSG_DONE for a dump),
  /// handing every data message to `on_reply`.
  template <class F>
  Status transact(Request& req, const std::string& what, F&& on_reply);
  Status transact(Request& req, const std::string& what);
  Result<int> index_of(const std::string& link);

  UniqueFd fd_;
  uint32_t seq_ = 0;
};

/// Creates a network namespace kept alive by a bind mount on `path`, as
/// `ip netns add` and CNI do: the file is created (its directory must exist,
/// the file must not) and `lo` is brought up inside. On failure nothing is
/// left: no file, no mount.
Status create_netns(const std::string& path);
/// Unmounts (MNT_DETACH) and removes a namespace file; a path that is already
/// gone, or not mounted, is fine.
Status remove_netns(const std::string& path);

/// Where a container joins a bridge network.
struct Endpoint {
  std::string bridge;
  std::string host_veth;          // the host end, at most 15 characters
  int container_netns_fd = -1;
  std::string container_ifname = "eth0";
  Ipv4Net address;                // the container's address with the subnet's prefix
  Ipv4 gateway;                   // the bridge's address
  bool default_route = true;      // false for a second network of the container
};

/// Makes sure bridge `name` exists, holds `gateway` (address with the
/// subnet's prefix) and is up. Safe to call again on every berthd start.
Status ensure_bridge(NetlinkClient& client, const std::string& name, const Ipv4Net& gateway);
/// Plugs a container into a bridge: a veth with its peer in the container's
/// namespace, the host end on the bridge (in hairpin mode) and up, the container end addressed,
/// up and the default route through the gateway. `container` must be a client
/// in the container's namespace. A failure deletes the veth again.
Status connect_endpoint(NetlinkClient& host, NetlinkClient& container, const Endpoint& ep);
/// Removes the host end of an endpoint (its peer goes with it); a link that
/// is already gone is not an error.
Status disconnect_endpoint(NetlinkClient& host, const std::string& host_veth);
/// "veth" + 7 hex characters derived from the container id + the decimal
/// `index` (the container's n-th network, below 10000): always a valid
/// interface name, and stable for a container and network.
Result<std::string> host_veth_name(std::string_view container_id, unsigned index);
/// Checks an interface name the way the kernel does (1-15 characters, no '/',
/// no whitespace, not "." or "..").
Status check_ifname(std::string_view name);

}  // namespace berth::net
