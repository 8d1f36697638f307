// The DNS responder on real sockets. Each case runs in a fresh network
// namespace of its own with only `lo` up: the responder listens on
// 127.0.0.1:53, fake upstreams on 127.0.0.2 and 127.0.0.3, and no packet
// reaches the host's network.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "net/dns.hpp"
#include "test_support.hpp"

using namespace berth::net;
using berth::UniqueFd;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr uint32_t kLoopback = 0x7F000001;
constexpr uint32_t kWeb1 = 0x0A000002;  // 10.0.0.2
constexpr uint32_t kWeb2 = 0x0A000003;

// Moves the calling thread into a new network namespace with lo up, and
// back on destruction; threads and children started meanwhile stay in it.
class NetnsGuard {
 public:
  NetnsGuard() : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    REQUIRE(home_.valid());
    REQUIRE(::unshare(CLONE_NEWNET) == 0);
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s.valid());
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    REQUIRE(::ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags |= IFF_UP;
    REQUIRE(::ioctl(s.get(), SIOCSIFFLAGS, &ifr) == 0);
  }
  ~NetnsGuard() {
    if (::setns(home_.get(), CLONE_NEWNET) != 0) std::abort();  // never run later tests in the wrong namespace
  }
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  UniqueFd home_;
};

sockaddr_in endpoint(uint32_t address, uint16_t port = 53) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(address);
  sa.sin_port = htons(port);
  return sa;
}

Bytes query(const std::string& name, uint16_t id, uint16_t type = kDnsTypeA) {
  Bytes out = {uint8_t(id >> 8), uint8_t(id), 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const auto& label : berth::split(name, '.')) {
    if (label.empty()) continue;  // the trailing dot
    out.push_back(uint8_t(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.insert(out.end(), {0, uint8_t(type >> 8), uint8_t(type), 0, 1});
  return out;
}

uint16_t at16(const Bytes& b, size_t i) { return uint16_t(b.at(i) << 8 | b.at(i + 1)); }
int rcode(const Bytes& reply) { return reply.at(3) & 0x0F; }

// The addresses of the A records in a reply, in order; the answers are
// expected to follow the question with a pointer name (as berth and the
// fake upstream write them).
std::vector<uint32_t> answers(const Bytes& reply) {
  auto msg = parse_query(reply);
  REQUIRE(msg.ok());
  size_t pos = 12 + 1 + 4;
  for (const auto& label : msg->question.labels) pos += 1 + label.size();
  std::vector<uint32_t> out;
  for (uint16_t i = 0; i < at16(reply, 6); ++i, pos += 16)
    out.push_back(uint32_t(at16(reply, pos + 12)) << 16 | at16(reply, pos + 14));
  return out;
}

// Waits up to `ms` for one datagram; nullopt on timeout.
std::optional<Bytes> receive(int fd, int ms, sockaddr_in* from = nullptr) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1) return std::nullopt;
  Bytes buf(65535);
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&sa), &len);
  if (n < 0) return std::nullopt;
  buf.resize(size_t(n));
  if (from) *from = sa;
  return buf;
}

UniqueFd udp_socket(std::optional<sockaddr_in> bind_to = std::nullopt) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  if (bind_to) REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*bind_to), sizeof *bind_to) == 0);
  return fd;
}

// One UDP exchange with the responder on 127.0.0.1:53.
std::optional<Bytes> ask(const Bytes& packet, int timeout_ms = 2000) {
  UniqueFd fd = udp_socket();
  auto server = endpoint(kLoopback);
  REQUIRE(::sendto(fd.get(), packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&server),
                   sizeof server) == ssize_t(packet.size()));
  return receive(fd.get(), timeout_ms);
}

// A fake upstream resolver on address:53: `respond` turns each query into
// the bytes to send back (none: stay silent). It records the queries.
class FakeUpstream {
 public:
  using Responder = std::function<Bytes(const Bytes&)>;
  FakeUpstream(uint32_t address, Responder respond) : fd_(udp_socket(endpoint(address))), respond_(std::move(respond)) {
    thread_ = std::thread([this] {
      while (!done_) {
        sockaddr_in from{};
        auto q = receive(fd_.get(), 50, &from);
        if (!q) continue;
        {
          std::lock_guard lock(mu_);
          seen_.push_back(Query{*q, from});
        }
        Bytes out = respond_(*q);
        if (!out.empty())
          (void)::sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), sizeof from);
      }
    });
  }
  ~FakeUpstream() {
    done_ = true;
    thread_.join();
  }
  struct Query {
    Bytes packet;
    sockaddr_in from;  // the responder's upstream socket
  };
  int seen() const {
    std::lock_guard lock(mu_);
    return int(seen_.size());
  }
  /// The first query, waiting up to a second for it.
  std::optional<Query> wait_query() const {
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard lock(mu_);
        if (!seen_.empty()) return seen_.front();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

 private:
  UniqueFd fd_;
  Responder respond_;
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  std::vector<Query> seen_;
  std::thread thread_;
};

// An upstream's answer: the query turned into a reply with one A record.
Bytes upstream_answer(const Bytes& q, uint32_t address) {
  auto msg = parse_query(q);
  REQUIRE(msg.ok());
  Bytes out = build_reply(*msg, Rcode::no_error, std::vector<uint32_t>{address});
  out[2] &= ~0x04;  // not authoritative, as a recursive resolver's answer
  return out;
}

std::unique_ptr<DnsResponder> start_responder(std::vector<sockaddr_in> upstreams = {}) {
  auto r = DnsResponder::start(kLoopback, 53, std::move(upstreams));
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(*r);
}

}  // namespace

TEST_CASE("net dns responder: names, aliases and round-robin") {
  NetnsGuard ns;
  auto dns = start_responder();
  dns->add("web", kWeb1);
  dns->add("web", kWeb2);
  dns->add("frontend", kWeb1);  // a network alias of the first container

  auto first = ask(query("web", 0x1111));
  REQUIRE(first);
  CHECK(at16(*first, 0) == 0x1111);
  CHECK(rcode(*first) == 0);
  auto second = ask(query("WEB.", 0x2222));
  REQUIRE(second);
  CHECK(answers(*first) == std::vector<uint32_t>{kWeb1, kWeb2});
  CHECK(answers(*second) == std::vector<uint32_t>{kWeb2, kWeb1});

  auto alias = ask(query("frontend", 3));
  REQUIRE(alias);
  CHECK(answers(*alias) == std::vector<uint32_t>{kWeb1});

  auto aaaa = ask(query("web", 4, kDnsTypeAaaa));
  REQUIRE(aaaa);
  CHECK(rcode(*aaaa) == 0);
  CHECK(answers(*aaaa).empty());

  auto unknown = ask(query("db", 5));
  REQUIRE(unknown);
  CHECK(rcode(*unknown) == 3);
}

TEST_CASE("net dns responder: removals take effect on the next query") {
  NetnsGuard ns;
  auto dns = start_responder();
  dns->add("web", kWeb1);
  dns->add("web", kWeb2);
  dns->add("frontend", kWeb1);
  dns->remove("web", kWeb2);
  auto one = ask(query("web", 1));
  REQUIRE(one);
  CHECK(answers(*one) == std::vector<uint32_t>{kWeb1});

  dns->remove_address(kWeb1);
  CHECK(dns->names().empty());
  for (const char* name : {"web", "frontend"}) {
    auto gone = ask(query(name, 2));
    REQUIRE(gone);
    CHECK(rcode(*gone) == 3);
  }
}

TEST_CASE("net dns responder: unknown names are forwarded and the answer relayed") {
  NetnsGuard ns;
  FakeUpstream upstream(0x7F000002, [](const Bytes& q) { return upstream_answer(q, 0x5DB8D822); });
  auto dns = start_responder({endpoint(0x7F000002)});
  dns->add("web", kWeb1);

  auto reply = ask(query("Example.COM", 0x3333));
  REQUIRE(reply);
  CHECK(at16(*reply, 0) == 0x3333);
  CHECK(rcode(*reply) == 0);
  CHECK((at16(*reply, 2) & 0x0400) == 0);  // the upstream's bytes, not a reply of berth's own
  CHECK(answers(*reply) == std::vector<uint32_t>{0x5DB8D822});
  CHECK(upstream.seen() == 1);

  // Known names never reach the upstream.
  auto local = ask(query("web", 0x3334));
  REQUIRE(local);
  CHECK(answers(*local) == std::vector<uint32_t>{kWeb1});
  CHECK(upstream.seen() == 1);
}

TEST_CASE("net dns responder: an upstream that fails is passed over for one that answers") {
  NetnsGuard ns;
  FakeUpstream failing(0x7F000002, [](const Bytes& q) {
    auto msg = parse_query(q);
    REQUIRE(msg.ok());
    return build_reply(*msg, Rcode::serv_fail);
  });
  // The good one answers only after the failing one has had the query and
  // time to send its SERVFAIL, so the SERVFAIL is always the first answer.
  FakeUpstream good(0x7F000003, [&failing](const Bytes& q) {
    (void)failing.wait_query();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return upstream_answer(q, 0x01020304);
  });
  auto dns = start_responder({endpoint(0x7F000002), endpoint(0x7F000003)});
  auto reply = ask(query("example.org", 0x4444));
  REQUIRE(reply);
  CHECK(at16(*reply, 0) == 0x4444);
  CHECK(rcode(*reply) == 0);
  CHECK(answers(*reply) == std::vector<uint32_t>{0x01020304});
  CHECK(failing.seen() == 1);
}

TEST_CASE("net dns responder: SERVFAIL when the upstream stays silent, spoofed answers ignored") {
  NetnsGuard ns;
  FakeUpstream silent(0x7F000002, [](const Bytes&) { return Bytes{}; });
  auto dns = start_responder({endpoint(0x7F000002)});
  UniqueFd client = udp_socket();
  Bytes q = query("bank.example", 0x5555);
  auto server = endpoint(kLoopback);
  auto begin = std::chrono::steady_clock::now();
  REQUIRE(::sendto(client.get(), q.data(), q.size(), 0, reinterpret_cast<const sockaddr*>(&server), sizeof server) > 0);
  auto forwarded = silent.wait_query();
  REQUIRE(forwarded);
  // An answer with the right id and port, but not from the upstream's address.
  UniqueFd spoofer = udp_socket(endpoint(0x7F000009));
  Bytes spoof = upstream_answer(forwarded->packet, 0x06060606);
  REQUIRE(::sendto(spoofer.get(), spoof.data(), spoof.size(), 0, reinterpret_cast<const sockaddr*>(&forwarded->from),
                   sizeof forwarded->from) > 0);

  auto reply = receive(client.get(), 8000);
  auto waited = std::chrono::steady_clock::now() - begin;
  REQUIRE(reply);
  CHECK(at16(*reply, 0) == 0x5555);
  CHECK(rcode(*reply) == 2);
  CHECK(answers(*reply).empty());
  CHECK(waited >= std::chrono::milliseconds(4500));
  CHECK(waited <= std::chrono::milliseconds(7000));
}

TEST_CASE("net dns responder: malformed packets get FORMERR and serving goes on") {
  NetnsGuard ns;
  auto dns = start_responder();
  dns->add("web", kWeb1);
  Bytes bad = {0xAB, 0xCD, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'x'};
  auto reply = ask(bad);
  REQUIRE(reply);
  CHECK(at16(*reply, 0) == 0xABCD);
  CHECK(rcode(*reply) == 1);
  CHECK_FALSE(ask(Bytes{1, 2, 3}, 300));  // no header: no answer at all
  auto good = ask(query("web", 7));
  REQUIRE(good);
  CHECK(answers(*good) == std::vector<uint32_t>{kWeb1});
}

TEST_CASE("net dns responder: queries over TCP") {
  NetnsGuard ns;
  auto dns = start_responder();
  dns->add("web", kWeb1);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto server = endpoint(kLoopback);
  REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0);
  // Two queries in one write, the second split off: both are answered in order.
  Bytes framed;
  for (uint16_t id : {11, 12}) {
    Bytes q = query("web", id);
    framed.push_back(uint8_t(q.size() >> 8));
    framed.push_back(uint8_t(q.size()));
    framed.insert(framed.end(), q.begin(), q.end());
  }
  REQUIRE(::send(fd.get(), framed.data(), framed.size() - 5, 0) == ssize_t(framed.size() - 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(::send(fd.get(), framed.data() + framed.size() - 5, 5, 0) == 5);
  Bytes in;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (in.size() < 2 * (2 + 12 + 5 + 4 + 16) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    uint8_t buf[512];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    REQUIRE(n > 0);
    in.insert(in.end(), buf, buf + n);
  }
  for (uint16_t id : {11, 12}) {
    REQUIRE(in.size() >= 2);
    size_t len = at16(in, 0);
    REQUIRE(in.size() >= 2 + len);
    Bytes msg(in.begin() + 2, in.begin() + 2 + ptrdiff_t(len));
    in.erase(in.begin(), in.begin() + 2 + ptrdiff_t(len));
    CHECK(at16(msg, 0) == id);
    CHECK(answers(msg) == std::vector<uint32_t>{kWeb1});
  }
}

TEST_CASE("net dns responder: stop joins while a forward is pending, and frees the port") {
  NetnsGuard ns;
  FakeUpstream silent(0x7F000002, [](const Bytes&) { return Bytes{}; });
  auto dns = start_responder({endpoint(0x7F000002)});
  UniqueFd client = udp_socket();
  Bytes q = query("example.com", 1);
  auto server = endpoint(kLoopback);
  REQUIRE(::sendto(client.get(), q.data(), q.size(), 0, reinterpret_cast<const sockaddr*>(&server), sizeof server) > 0);
  REQUIRE(silent.wait_query());
  auto begin = std::chrono::steady_clock::now();
  dns.reset();
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(1));
  auto again = DnsResponder::start(kLoopback, 53, {});
  CHECK(again.ok());
}

TEST_CASE("net dns responder: a second responder on the same address is refused by name") {
  NetnsGuard ns;
  auto dns = start_responder();
  auto second = DnsResponder::start("127.0.0.1", 53, {});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message() == "bind dns 127.0.0.1:53/udp: Address already in use");
  auto bad = DnsResponder::start("10.0.0.300", 53, {});
  REQUIRE_FALSE(bad.ok());
  CHECK(berth::test::contains(bad.error().message(), "not an IPv4 address"));
}

TEST_CASE("net dns responder: busybox nslookup resolves container names") {
  NetnsGuard ns;
  auto dns = start_responder();
  dns->add("web", kWeb1);
  auto found = berth::test::run({"/bin/busybox", "nslookup", "web", "127.0.0.1"}, "", 20);
  CAPTURE(found.out);
  CAPTURE(found.err);
  CHECK(found.status == 0);
  CHECK(berth::test::contains(found.out, "Address: 10.0.0.2"));
  auto missing = berth::test::run({"/bin/busybox", "nslookup", "nosuch", "127.0.0.1"}, "", 20);
  CAPTURE(missing.out);
  CHECK(missing.status != 0);
  CHECK(berth::test::contains(missing.out + missing.err, "NXDOMAIN"));
}
