// nftables NAT for berth's bridge networks and published ports, through
// libnftables in-process. Every rule lives in berth's own `table ip berth`;
// the rest of the ruleset is never touched. Rules carry a comment naming their
// owner ("berth net <id>", "berth ports <id>") so they can be found again and
// deleted by handle.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

struct nft_ctx;

namespace berth::net {

enum class Proto { tcp, udp };

/// "tcp" or "udp".
std::string_view proto_name(Proto p);

/// One published port, as in docker's `-p [host_ip:]host_port:container_port[/proto]`.
struct PortMapping {
  Proto proto = Proto::tcp;
  std::optional<std::string> host_ip;  // dotted IPv4; none (or 0.0.0.0) means every host address
  uint16_t host_port = 0;              // 0: not chosen yet (see pick_free_port)
  uint16_t container_port = 0;

  bool operator==(const PortMapping&) const = default;
};

/// Parses a docker `-p` spec: "[ip:]hostPort:containerPort[/tcp|udp]", "ip::containerPort" or
/// "containerPort[/proto]" (both leave host_port 0). Port ranges and IPv6 are not supported.
Result<PortMapping> parse_port_spec(std::string_view spec);

/// Binds `port` (SO_REUSEADDR off) and lets it go again, so a publish can fail up front with
/// "port 8080/tcp on 0.0.0.0 is already in use" instead of shadowing a host service.
/// Checks the network namespace of the calling thread.
Status check_port_free(Proto proto, const std::optional<std::string>& host_ip, uint16_t port);
/// A port the kernel considers free right now (bind to port 0).
Result<uint16_t> pick_free_port(Proto proto, const std::optional<std::string>& host_ip);

/// Sets net.ipv4.ip_forward=1 in the calling thread's network namespace.
Status enable_ip_forward();

/// berth's nftables table. The netlink socket belongs to the network namespace of the
/// thread that opens it, as do the /proc/sys/net files written by add_ports. Not thread-safe.
class Nft {
 public:
  static Result<Nft> open();

  /// Deletes berth's table with whatever a crashed daemon left in it, and recreates it
  /// with its base chains (nat prerouting/output/postrouting, filter forward accept).
  Status reset();
  /// Deletes berth's table; no error if it does not exist.
  Status remove_table();

  /// Masquerades traffic from `subnet` ("10.88.0.0/16") leaving through any interface but
  /// `bridge`; an `internal` network instead gets no masquerade and no forwarding in or out of
  /// its bridge. Replaces the rules of an earlier add_network with the same id.
  Status add_network(const std::string& net_id, const std::string& subnet, const std::string& bridge,
                     bool internal = false);
  /// Deletes the rules of add_network(net_id); none is fine.
  Status remove_network(const std::string& net_id);

  /// Publishes a container's ports: DNAT of traffic to the host's own addresses (from
  /// outside, from other containers and from the host itself, 127.0.0.1 included), plus the
  /// masquerade that lets loopback-sourced and hairpin connections get answers. Sets
  /// route_localnet on `bridge` when a mapping binds 127.0.0.1 or every address. One
  /// transaction: on failure no rule is left. Replaces an earlier add_ports for the id.
  Status add_ports(const std::string& container_id, const std::string& container_ip, const std::string& bridge,
                   const std::vector<PortMapping>& ports);
  /// Deletes exactly the rules of add_ports(container_id); none is fine.
  Status remove_ports(const std::string& container_id);

  /// berth's table in nft's text syntax.
  Result<std::string> ruleset();

 private:
  struct CtxFree {
    void operator()(nft_ctx* ctx) const;
  };
  explicit Nft(nft_ctx* ctx) : ctx_(ctx) {}

  // Runs a script of nft commands as one transaction; returns nft's output.
  Result<std::string> run(const std::string& script, bool json);
  // run() for scripts that change the ruleset; `what` prefixes the error.
  Status apply(const std::string& script, std::string_view what);
  // "delete rule" commands for every rule of berth's table whose comment is `tag`.
  Result<std::string> delete_tagged(const std::string& tag);
  // Deletes every rule tagged `tag` in one transaction.
  Status remove_tagged(const std::string& tag, std::string_view what);

  std::unique_ptr<nft_ctx, CtxFree> ctx_;
};

}  // namespace berth::net
