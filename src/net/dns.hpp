// The per-network DNS responder of berthd: containers on a user-defined
// network resolve each other by container name and alias through a small
// server on the network's gateway address; other names go to the host's
// resolvers. The message code is pure (parse, decide, build) so that it is
// unit-tested and fuzzed without sockets; DnsResponder adds the sockets and
// a thread.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace berth::net {

/// Response codes (RFC 1035 4.1.1) berth sends or reads.
enum class Rcode : uint8_t { no_error = 0, form_err = 1, serv_fail = 2, nx_domain = 3, not_imp = 4, refused = 5 };

inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeAaaa = 28;
inline constexpr uint16_t kDnsTypeAny = 255;
inline constexpr uint16_t kDnsClassIn = 1;
inline constexpr uint32_t kDnsTtl = 600;
/// Largest plain UDP message (no EDNS); longer answers are cut and marked TC.
inline constexpr size_t kDnsUdpLimit = 512;
inline constexpr size_t kDnsTcpLimit = 65535;

struct DnsQuestion {
  std::vector<std::string> labels;  // as sent: the reply echoes the client's case
  uint16_t type = 0;
  uint16_t qclass = 0;
  /// The lookup key: lower-case labels joined by dots, no trailing dot.
  std::string key() const;
};

/// The header and the single question of a message.
struct DnsMessage {
  uint16_t id = 0;
  uint16_t flags = 0;
  DnsQuestion question;
};

/// Parses the header and the one question of a message (query or reply;
/// other sections are ignored). Every length is checked against the packet:
/// truncated input, labels over 63 bytes, names over 255 bytes, pointer
/// loops and a question count other than one are errors.
Result<DnsMessage> parse_query(std::span<const uint8_t> packet);

/// A reply to `query`: the question echoed, `addresses` as A records (TTL
/// 600) in the given order. Answers that would pass `limit` bytes are left
/// out and the reply is marked truncated, so the client retries over TCP.
std::vector<uint8_t> build_reply(const DnsMessage& query, Rcode rcode, std::span<const uint32_t> addresses = {},
                                 size_t limit = kDnsUdpLimit);

/// A header-only reply to a packet that could not be parsed (FORMERR,
/// NOTIMP); empty when the packet is too short to carry a header.
std::vector<uint8_t> build_error(std::span<const uint8_t> packet, Rcode rcode);

/// A copy of a message with its id replaced: queries forwarded upstream get
/// a fresh id, and the upstream's reply gets the client's id back.
std::vector<uint8_t> with_id(std::span<const uint8_t> message, uint16_t id);

/// The name table of one network: container names and aliases to IPv4
/// addresses (host order). Not thread-safe; DnsResponder locks it.
class DnsRecords {
 public:
  /// Names compare case-insensitively, with or without the trailing dot.
  void add(std::string_view name, uint32_t ipv4);
  void remove(std::string_view name, uint32_t ipv4);
  /// Drops every name of one address (a container leaving the network).
  void remove_address(uint32_t ipv4);
  /// The addresses of a name, rotated by one on each call so that clients
  /// taking the first answer spread over the containers sharing the name.
  std::vector<uint32_t> lookup(std::string_view name);
  /// Every name with its addresses (in insertion order), for tests.
  std::map<std::string, std::vector<uint32_t>> names() const;

 private:
  struct Entry {
    std::vector<uint32_t> addresses;
    size_t next = 0;  // where the next answer starts
  };
  std::map<std::string, Entry> table_;
};

/// What to do with one packet from a client.
struct DnsAction {
  enum class Kind { drop, reply, forward };
  Kind kind = Kind::drop;
  std::vector<uint8_t> reply;  // for reply
  DnsMessage query;            // for forward (parsed, to check the upstream's answer against)
};

/// Answers a client's packet from `records`: A records for a known name,
/// NOERROR with no answer for its other types, forward for an unknown name
/// (NXDOMAIN when `can_forward` is false), FORMERR when malformed, NOTIMP
/// for opcodes other than QUERY, REFUSED for classes other than IN. Replies
/// and packets too short for a header are dropped.
DnsAction answer_query(std::span<const uint8_t> packet, DnsRecords& records, bool can_forward,
                       size_t limit = kDnsUdpLimit);

/// The IPv4 nameservers of a resolv.conf, port 53, in file order; empty when
/// the file cannot be read. Loopback resolvers are kept: the caller decides.
std::vector<sockaddr_in> host_resolvers(const std::string& path = "/etc/resolv.conf");

/// One network's DNS server: UDP and TCP on address:port, served by its own
/// thread. Names it does not know are forwarded over UDP to `upstreams`
/// (all at once; the first good answer is relayed, SERVFAIL when all fail
/// or none answers within 5 s). The destructor stops and joins the thread.
class DnsResponder {
 public:
  /// Binds the sockets (errors name the address) and starts the thread.
  static Result<std::unique_ptr<DnsResponder>> start(uint32_t address, uint16_t port,
                                                     std::vector<sockaddr_in> upstreams);
  static Result<std::unique_ptr<DnsResponder>> start(const std::string& address, uint16_t port,
                                                     std::vector<sockaddr_in> upstreams);
  ~DnsResponder();
  DnsResponder(const DnsResponder&) = delete;
  DnsResponder& operator=(const DnsResponder&) = delete;

  // Record table updates; safe from any thread, seen by the next query.
  void add(std::string_view name, uint32_t ipv4);
  void remove(std::string_view name, uint32_t ipv4);
  void remove_address(uint32_t ipv4);
  std::map<std::string, std::vector<uint32_t>> names() const;

 private:
  struct Server;  // sockets, pending forwards and the thread (dns.cpp)
  explicit DnsResponder(std::unique_ptr<Server> server);
  std::unique_ptr<Server> server_;
};

}  // namespace berth::net
