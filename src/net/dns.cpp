#include "net/dns.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"

namespace berth::net {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr uint16_t kFlagQr = 0x8000;
constexpr uint16_t kFlagAa = 0x0400;
constexpr uint16_t kFlagTc = 0x0200;
constexpr uint16_t kFlagRd = 0x0100;
constexpr uint16_t kFlagRa = 0x0080;
constexpr uint16_t kOpcodeMask = 0x7800;
constexpr size_t kMaxName = 255;  // wire length, RFC 1035 2.3.4

uint16_t get16(std::span<const uint8_t> p, size_t at) { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); }

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

std::string normalize(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads the name at `pos` and moves `pos` past it. Compression pointers must
// point strictly before the segment they end, so every jump goes further back
// and a loop is impossible.
Result<std::vector<std::string>> read_name(std::span<const uint8_t> p, size_t& pos) {
  std::vector<std::string> labels;
  size_t at = pos;
  size_t segment_start = pos;
  size_t wire_len = 1;  // the root label
  bool jumped = false;
  for (;;) {
    if (at >= p.size()) return make_error("dns name runs past the end of the packet");
    uint8_t len = p[at];
    if ((len & 0xC0) == 0xC0) {
      if (at + 1 >= p.size()) return make_error("dns name pointer runs past the end of the packet");
      size_t target = static_cast<size_t>(len & 0x3F) << 8 | p[at + 1];
      if (target >= segment_start) return make_error("dns name pointer does not point backwards");
      if (!jumped) pos = at + 2;
      jumped = true;
      at = segment_start = target;
      continue;
    }
    if (len & 0xC0) return make_error("dns label of ", static_cast<int>(len), " bytes is longer than 63");
    if (len == 0) break;
    wire_len += 1 + len;
    if (wire_len > kMaxName) return make_error("dns name is longer than 255 bytes");
    if (at + 1 + len > p.size()) return make_error("dns label runs past the end of the packet");
    labels.emplace_back(reinterpret_cast<const char*>(p.data() + at + 1), len);
    at += 1 + len;
  }
  if (!jumped) pos = at + 1;
  return labels;
}

void put_name(std::vector<uint8_t>& out, const std::vector<std::string>& labels) {
  for (const auto& label : labels) {
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
}

void put_header(std::vector<uint8_t>& out, uint16_t id, uint16_t flags, uint16_t qdcount, uint16_t ancount) {
  put16(out, id);
  put16(out, flags);
  put16(out, qdcount);
  put16(out, ancount);
  put16(out, 0);  // authority
  put16(out, 0);  // additional
}

// The flags of a reply: the query's opcode and RD echoed, recursion offered
// (unknown names are forwarded), authoritative for what the table decides.
uint16_t reply_flags(uint16_t query_flags, Rcode rcode) {
  uint16_t flags = kFlagQr | kFlagRa | (query_flags & (kOpcodeMask | kFlagRd)) | static_cast<uint16_t>(rcode);
  if (rcode == Rcode::no_error || rcode == Rcode::nx_domain) flags |= kFlagAa;
  return flags;
}

}  // namespace

std::string DnsQuestion::key() const { return normalize(join(labels, ".")); }

Result<DnsMessage> parse_query(std::span<const uint8_t> packet) {
  if (packet.size() < kHeaderSize) return make_error("dns message of ", packet.size(), " bytes has no header");
  DnsMessage msg;
  msg.id = get16(packet, 0);
  msg.flags = get16(packet, 2);
  if (uint16_t qdcount = get16(packet, 4); qdcount != 1)
    return make_error("dns message has ", static_cast<int>(qdcount), " questions, want 1");
  size_t pos = kHeaderSize;
  auto labels = read_name(packet, pos);
  if (!labels) return std::move(labels).error();
  msg.question.labels = std::move(*labels);
  if (pos + 4 > packet.size()) return make_error("dns question runs past the end of the packet");
  msg.question.type = get16(packet, pos);
  msg.question.qclass = get16(packet, pos + 2);
  return msg;
}

std::vector<uint8_t> build_reply(const DnsMessage& query, Rcode rcode, std::span<const uint32_t> addresses,
                                 size_t limit) {
  constexpr size_t kAnswerSize = 16;  // pointer, type, class, ttl, rdlength, address
  std::vector<uint8_t> out;
  put_header(out, query.id, reply_flags(query.flags, rcode), 1, 0);
  put_name(out, query.question.labels);
  put16(out, query.question.type);
  put16(out, query.question.qclass);
  size_t fit = out.size() < limit ? (limit - out.size()) / kAnswerSize : 0;
  size_t count = std::min(addresses.size(), fit);
  if (count < addresses.size()) out[2] |= kFlagTc >> 8;
  out[6] = static_cast<uint8_t>(count >> 8);
  out[7] = static_cast<uint8_t>(count);
  for (size_t i = 0; i < count; ++i) {
    put16(out, 0xC000 | kHeaderSize);  // the question's name
    put16(out, kDnsTypeA);
    put16(out, kDnsClassIn);
    put32(out, kDnsTtl);
    put16(out, 4);
    put32(out, addresses[i]);
  }
  return out;
}

std::vector<uint8_t> build_error(std::span<const uint8_t> packet, Rcode rcode) {
  std::vector<uint8_t> out;
  if (packet.size() < kHeaderSize) return out;
  put_header(out, get16(packet, 0), reply_flags(get16(packet, 2), rcode), 0, 0);
  return out;
}

std::vector<uint8_t> with_id(std::span<const uint8_t> message, uint16_t id) {
  std::vector<uint8_t> out(message.begin(), message.end());
  if (out.size() >= 2) {
    out[0] = static_cast<uint8_t>(id >> 8);
    out[1] = static_cast<uint8_t>(id);
  }
  return out;
}

void DnsRecords::add(std::string_view name, uint32_t ipv4) {
  auto& addresses = table_[normalize(name)].addresses;
  if (std::find(addresses.begin(), addresses.end(), ipv4) == addresses.end()) addresses.push_back(ipv4);
}

void DnsRecords::remove(std::string_view name, uint32_t ipv4) {
  auto it = table_.find(normalize(name));
  if (it == table_.end()) return;
  std::erase(it->second.addresses, ipv4);
  if (it->second.addresses.empty()) table_.erase(it);
}

void DnsRecords::remove_address(uint32_t ipv4) {
  for (auto it = table_.begin(); it != table_.end();) {
    std::erase(it->second.addresses, ipv4);
    it = it->second.addresses.empty() ? table_.erase(it) : std::next(it);
  }
}

std::vector<uint32_t> DnsRecords::lookup(std::string_view name) {
  auto it = table_.find(normalize(name));
  if (it == table_.end()) return {};
  Entry& e = it->second;
  size_t start = e.next++ % e.addresses.size();
  std::vector<uint32_t> out(e.addresses.begin() + static_cast<ptrdiff_t>(start), e.addresses.end());
  out.insert(out.end(), e.addresses.begin(), e.addresses.begin() + static_cast<ptrdiff_t>(start));
  return out;
}

std::map<std::string, std::vector<uint32_t>> DnsRecords::names() const {
  std::map<std::string, std::vector<uint32_t>> out;
  for (const auto& [name, entry] : table_) out.emplace(name, entry.addresses);
  return out;
}

DnsAction answer_query(std::span<const uint8_t> packet, DnsRecords& records, bool can_forward, size_t limit) {
  DnsAction action;
  // Never answer a reply: two responders could otherwise bounce one forever.
  if (packet.size() < kHeaderSize || (get16(packet, 2) & kFlagQr)) return action;
  action.kind = DnsAction::Kind::reply;
  if (get16(packet, 2) & kOpcodeMask) {
    action.reply = build_error(packet, Rcode::not_imp);
    return action;
  }
  auto query = parse_query(packet);
  if (!query) {
    action.reply = build_error(packet, Rcode::form_err);
    return action;
  }
  const DnsQuestion& q = query->question;
  if (q.qclass != kDnsClassIn && q.qclass != kDnsTypeAny) {
    action.reply = build_reply(*query, Rcode::refused, {}, limit);
    return action;
  }
  auto addresses = records.lookup(q.key());
  if (!addresses.empty()) {
    bool wants_a = q.type == kDnsTypeA || q.type == kDnsTypeAny;
    action.reply = build_reply(*query, Rcode::no_error, wants_a ? addresses : std::vector<uint32_t>{}, limit);
  } else if (can_forward) {
    action.kind = DnsAction::Kind::forward;
    action.query = std::move(*query);
  } else {
    action.reply = build_reply(*query, Rcode::nx_domain, {}, limit);
  }
  return action;
}

std::vector<sockaddr_in> host_resolvers(const std::string& path) {
  std::vector<sockaddr_in> out;
  auto content = read_file(path);
  if (!content) return out;
  for (const auto& line : split(*content, '\n')) {
    std::string text(trim(line));
    std::replace(text.begin(), text.end(), '\t', ' ');
    std::vector<std::string> words = split(text, ' ');
    std::erase(words, std::string());
    if (words.size() < 2 || words[0] != "nameserver") continue;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(53);
    if (::inet_pton(AF_INET, words[1].c_str(), &sa.sin_addr) == 1) out.push_back(sa);
  }
  return out;
}

// ---- the server ----

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kForwardTimeout = std::chrono::seconds(5);
constexpr auto kTcpIdle = std::chrono::seconds(10);
constexpr size_t kMaxPending = 1024;
constexpr size_t kMaxTcpClients = 32;

std::string addr_text(uint32_t address, uint16_t port) {
  in_addr a{htonl(address)};
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return cat(buf, ":", port);
}

bool same_endpoint(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

Result<UniqueFd> bound_socket(int type, const sockaddr_in& sa, const std::string& what) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error("create ", what, " socket");
  int one = 1;
  if (type == SOCK_STREAM && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    return sys_error("set SO_REUSEADDR on ", what, " socket");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) return sys_error("bind ", what);
  if (type == SOCK_STREAM && ::listen(fd.get(), 16) < 0) return sys_error("listen on ", what);
  return fd;
}

}  // namespace

struct DnsResponder::Server {
  // Where a reply goes: a UDP client's address, or a TCP connection.
  struct Client {
    sockaddr_in addr{};
    uint64_t tcp = 0;  // connection serial; 0 for UDP
  };
  struct Pending {
    Client client;
    DnsMessage query;  // its id is the client's
    size_t failures = 0;
    Clock::time_point deadline;
  };
  struct TcpConn {
    UniqueFd fd;
    std::vector<uint8_t> in;
    Clock::time_point last_active;
  };

  UniqueFd udp, tcp, upstream, stop;
  std::vector<sockaddr_in> upstreams;
  mutable std::mutex mu;
  DnsRecords records;  // guarded by mu
  std::unordered_map<uint16_t, Pending> pending;
  std::map<uint64_t, TcpConn> conns;
  uint64_t next_conn = 1;
  std::mt19937 rng{std::random_device{}()};
  std::thread thread;

  void run();
  int poll_timeout() const;
  void on_client_packet(std::span<const uint8_t> packet, const Client& client, size_t limit);
  void forward(std::span<const uint8_t> packet, const Client& client, DnsMessage query);
  void on_upstream_packet();
  void expire();
  void deliver(const Client& client, std::span<const uint8_t> reply);
  void on_udp();
  void on_accept();
  void on_tcp(uint64_t serial);
};

Result<std::unique_ptr<DnsResponder>> DnsResponder::start(uint32_t address, uint16_t port,
                                                         std::vector<sockaddr_in> upstreams) {
  auto server = std::make_unique<Server>();
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(address);
  sa.sin_port = htons(port);
  std::string where = addr_text(address, port);
  auto udp = bound_socket(SOCK_DGRAM, sa, cat("dns ", where, "/udp"));
  if (!udp) return std::move(udp).error();
  auto tcp = bound_socket(SOCK_STREAM, sa, cat("dns ", where, "/tcp"));
  if (!tcp) return std::move(tcp).error();
  sockaddr_in any{};
  any.sin_family = AF_INET;
  auto up = bound_socket(SOCK_DGRAM, any, "dns upstream");
  if (!up) return std::move(up).error();
  server->udp = std::move(*udp);
  server->tcp = std::move(*tcp);
  server->upstream = std::move(*up);
  server->stop.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!server->stop) return sys_error("create dns stop eventfd");
  server->upstreams = std::move(upstreams);
  Server* s = server.get();
  server->thread = std::thread([s] { s->run(); });
  return std::unique_ptr<DnsResponder>(new DnsResponder(std::move(server)));
}

Result<std::unique_ptr<DnsResponder>> DnsResponder::start(const std::string& address, uint16_t port,
                                                         std::vector<sockaddr_in> upstreams) {
  in_addr a{};
  if (::inet_pton(AF_INET, address.c_str(), &a) != 1)
    return make_error("dns address ", quote(address), ": not an IPv4 address");
  return start(ntohl(a.s_addr), port, std::move(upstreams));
}

DnsResponder::DnsResponder(std::unique_ptr<Server> server) : server_(std::move(server)) {}

DnsResponder::~DnsResponder() {
  uint64_t one = 1;
  (void)!::write(server_->stop.get(), &one, sizeof one);  // fails only on counter overflow
  server_->thread.join();
}

void DnsResponder::add(std::string_view name, uint32_t ipv4) {
  std::lock_guard lock(server_->mu);
  server_->records.add(name, ipv4);
}

void DnsResponder::remove(std::string_view name, uint32_t ipv4) {
  std::lock_guard lock(server_->mu);
  server_->records.remove(name, ipv4);
}

void DnsResponder::remove_address(uint32_t ipv4) {
  std::lock_guard lock(server_->mu);
  server_->records.remove_address(ipv4);
}

std::map<std::string, std::vector<uint32_t>> DnsResponder::names() const {
  std::lock_guard lock(server_->mu);
  return server_->records.names();
}

void DnsResponder::Server::run() {
  constexpr size_t kFixed = 4;  // stop, udp, tcp listener, upstream; then TCP clients
  for (;;) {
    std::vector<pollfd> fds = {{stop.get(), POLLIN, 0}, {udp.get(), POLLIN, 0}, {tcp.get(), POLLIN, 0},
                               {upstream.get(), POLLIN, 0}};
    std::vector<uint64_t> serials;
    for (const auto& [serial, conn] : conns) {
      fds.push_back({conn.fd.get(), POLLIN, 0});
      serials.push_back(serial);
    }
    int n = ::poll(fds.data(), fds.size(), poll_timeout());
    if (n < 0 && errno != EINTR) return;
    if (fds[0].revents) return;
    if (fds[1].revents) on_udp();
    if (fds[2].revents) on_accept();
    if (fds[3].revents) on_upstream_packet();
    for (size_t i = kFixed; i < fds.size(); ++i)
      if (fds[i].revents) on_tcp(serials[i - kFixed]);
    expire();
  }
}

int DnsResponder::Server::poll_timeout() const {
  if (pending.empty() && conns.empty()) return -1;
  auto now = Clock::now();
  auto next = now + kTcpIdle;
  for (const auto& [id, p] : pending) next = std::min(next, p.deadline);
  for (const auto& [serial, c] : conns) next = std::min(next, c.last_active + kTcpIdle);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::max<int64_t>(ms + 1, 0));
}

void DnsResponder::Server::on_udp() {
  uint8_t buf[kDnsTcpLimit];
  for (;;) {
    Client client;
    socklen_t len = sizeof client.addr;
    ssize_t n = ::recvfrom(udp.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&client.addr), &len);
    if (n < 0) return;
    on_client_packet({buf, static_cast<size_t>(n)}, client, kDnsUdpLimit);
  }
}

void DnsResponder::Server::on_client_packet(std::span<const uint8_t> packet, const Client& client, size_t limit) {
  DnsAction action;
  {
    std::lock_guard lock(mu);
    action = answer_query(packet, records, !upstreams.empty(), limit);
  }
  switch (action.kind) {
    case DnsAction::Kind::drop:
      return;
    case DnsAction::Kind::reply:
      deliver(client, action.reply);
      return;
    case DnsAction::Kind::forward:
      forward(packet, client, std::move(action.query));
      return;
  }
}

void DnsResponder::Server::forward(std::span<const uint8_t> packet, const Client& client, DnsMessage query) {
  if (pending.size() >= kMaxPending) {
    deliver(client, build_reply(query, Rcode::serv_fail));
    return;
  }
  // A fresh random id per forward: the upstream's answer is matched by it,
  // so an off-path sender has to guess it as well as the port.
  uint16_t id;
  do id = static_cast<uint16_t>(rng()); while (pending.contains(id));
  auto out = with_id(packet, id);
  size_t failures = 0;
  for (const auto& up : upstreams)
    if (::sendto(upstream.get(), out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&up), sizeof up) < 0)
      ++failures;
  if (failures == upstreams.size()) {
    deliver(client, build_reply(query, Rcode::serv_fail));
    return;
  }
  pending.emplace(id, Pending{client, std::move(query), failures, Clock::now() + kForwardTimeout});
}

void DnsResponder::Server::on_upstream_packet() {
  uint8_t buf[kDnsTcpLimit];
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(upstream.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    std::span<const uint8_t> reply(buf, static_cast<size_t>(n));
    if (std::none_of(upstreams.begin(), upstreams.end(), [&](const auto& u) { return same_endpoint(u, from); }))
      continue;
    auto msg = parse_query(reply);
    if (!msg || !(msg->flags & kFlagQr)) continue;
    auto it = pending.find(msg->id);
    if (it == pending.end()) continue;
    Pending& p = it->second;
    if (msg->question.key() != p.query.question.key() || msg->question.type != p.query.question.type) continue;
    auto rcode = static_cast<Rcode>(msg->flags & 0x000F);
    if (rcode == Rcode::serv_fail || rcode == Rcode::refused || rcode == Rcode::not_imp) {
      // Another upstream may still answer; fail only when all have.
      if (++p.failures < upstreams.size()) continue;
      deliver(p.client, build_reply(p.query, Rcode::serv_fail));
    } else {
      deliver(p.client, with_id(reply, p.query.id));
    }
    pending.erase(it);
  }
}

void DnsResponder::Server::expire() {
  auto now = Clock::now();
  std::erase_if(pending, [&](const auto& kv) {
    if (kv.second.deadline > now) return false;
    deliver(kv.second.client, build_reply(kv.second.query, Rcode::serv_fail));
    return true;
  });
  std::erase_if(conns, [&](const auto& kv) { return kv.second.last_active + kTcpIdle <= now; });
}

void DnsResponder::Server::deliver(const Client& client, std::span<const uint8_t> reply) {
  if (client.tcp == 0) {
    (void)::sendto(udp.get(), reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&client.addr),
                   sizeof client.addr);
    return;
  }
  auto it = conns.find(client.tcp);
  if (it == conns.end()) return;  // the client hung up while we waited for upstream
  std::vector<uint8_t> framed;
  put16(framed, static_cast<uint16_t>(reply.size()));
  framed.insert(framed.end(), reply.begin(), reply.end());
  // A client that does not read its answers is not waited for.
  ssize_t n = ::send(it->second.fd.get(), framed.data(), framed.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n != static_cast<ssize_t>(framed.size())) conns.erase(it);
}

void DnsResponder::Server::on_accept() {
  for (;;) {
    UniqueFd fd(::accept4(tcp.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return;
    if (conns.size() >= kMaxTcpClients) continue;  // closed right away
    conns.emplace(next_conn++, TcpConn{std::move(fd), {}, Clock::now()});
  }
}

void DnsResponder::Server::on_tcp(uint64_t serial) {
  auto it = conns.find(serial);
  if (it == conns.end()) return;
  TcpConn& conn = it->second;
  uint8_t buf[4096];
  ssize_t n = ::recv(conn.fd.get(), buf, sizeof buf, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    conns.erase(it);
    return;
  }
  if (n < 0) return;
  conn.in.insert(conn.in.end(), buf, buf + n);
  conn.last_active = Clock::now();
  // Each message is prefixed by its length (RFC 1035 4.2.2). Take complete
  // ones off the front; deliver() may close the connection under us.
  while (conns.contains(serial) && conn.in.size() >= 2) {
    size_t len = get16(conn.in, 0);
    if (conn.in.size() < 2 + len) break;
    std::vector<uint8_t> msg(conn.in.begin() + 2, conn.in.begin() + 2 + static_cast<ptrdiff_t>(len));
    conn.in.erase(conn.in.begin(), conn.in.begin() + 2 + static_cast<ptrdiff_t>(len));
    on_client_packet(msg, Client{{}, serial}, kDnsTcpLimit);
  }
}

}  // namespace berth::net
