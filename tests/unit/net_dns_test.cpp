// The DNS message code of the per-network responder, without sockets:
// parsing hostile queries, the replies built from the record table, and the
// id rewriting of relayed answers.
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "net/dns.hpp"
#include "test_support.hpp"

using namespace berth::net;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr uint32_t kWeb1 = 0x0A000002;  // 10.0.0.2
constexpr uint32_t kWeb2 = 0x0A000003;
constexpr uint32_t kWeb3 = 0x0A000004;

Bytes header(uint16_t id, uint16_t flags, uint16_t qdcount) {
  return {uint8_t(id >> 8), uint8_t(id), uint8_t(flags >> 8), uint8_t(flags), uint8_t(qdcount >> 8), uint8_t(qdcount),
          0, 0, 0, 0, 0, 0};
}

// A query as a stub resolver sends it: RD set, one question.
Bytes query(const std::string& name, uint16_t type = kDnsTypeA, uint16_t id = 0x1234, uint16_t qclass = kDnsClassIn,
            uint16_t flags = 0x0100) {
  Bytes out = header(id, flags, 1);
  for (const auto& label : berth::split(name, '.')) {
    if (label.empty()) continue;
    out.push_back(uint8_t(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.insert(out.end(), {0, uint8_t(type >> 8), uint8_t(type), uint8_t(qclass >> 8), uint8_t(qclass)});
  return out;
}

uint16_t at16(const Bytes& b, size_t i) { return uint16_t(b[i] << 8 | b[i + 1]); }
int rcode(const Bytes& reply) { return reply.at(3) & 0x0F; }
bool truncated(const Bytes& reply) { return reply.at(2) & 0x02; }

// The A records of one of our replies, checking each record's fixed fields.
std::vector<uint32_t> answers(const Bytes& reply) {
  auto msg = parse_query(reply);
  REQUIRE(msg.ok());
  size_t pos = 12 + 1 + 4;
  for (const auto& label : msg->question.labels) pos += 1 + label.size();
  std::vector<uint32_t> out;
  for (uint16_t i = 0; i < at16(reply, 6); ++i, pos += 16) {
    REQUIRE(pos + 16 <= reply.size());
    CHECK(at16(reply, pos) == 0xC00C);
    CHECK(at16(reply, pos + 2) == kDnsTypeA);
    CHECK(at16(reply, pos + 4) == kDnsClassIn);
    CHECK((uint32_t(at16(reply, pos + 6)) << 16 | at16(reply, pos + 8)) == kDnsTtl);
    CHECK(at16(reply, pos + 10) == 4);
    out.push_back(uint32_t(at16(reply, pos + 12)) << 16 | at16(reply, pos + 14));
  }
  CHECK(pos == reply.size());
  return out;
}

Bytes ask(DnsRecords& records, const Bytes& packet, bool can_forward = false, size_t limit = kDnsUdpLimit) {
  auto action = answer_query(packet, records, can_forward, limit);
  REQUIRE(action.kind == DnsAction::Kind::reply);
  return action.reply;
}

}  // namespace

TEST_CASE("net dns: parse a well-formed query") {
  auto msg = parse_query(query("Web.Net1.", kDnsTypeAaaa, 0xBEEF));
  REQUIRE(msg.ok());
  CHECK(msg->id == 0xBEEF);
  CHECK(msg->flags == 0x0100);
  CHECK(msg->question.labels == std::vector<std::string>{"Web", "Net1"});
  CHECK(msg->question.key() == "web.net1");
  CHECK(msg->question.type == kDnsTypeAaaa);
  CHECK(msg->question.qclass == kDnsClassIn);

  auto root = parse_query(query(""));
  REQUIRE(root.ok());
  CHECK(root->question.labels.empty());
}

TEST_CASE("net dns: every truncation of a query is rejected") {
  Bytes full = query("web.example");
  for (size_t n = 0; n < full.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(parse_query(std::span(full.data(), n)).ok());
  }
}

TEST_CASE("net dns: lengths that lie are rejected") {
  SUBCASE("label longer than the rest of the packet") {
    Bytes p = header(1, 0x0100, 1);
    p.insert(p.end(), {20, 'a', 'b', 'c'});
    CHECK_FALSE(parse_query(p).ok());
  }
  SUBCASE("question count other than one") {
    Bytes none = query("web");
    none[5] = 0;
    CHECK_FALSE(parse_query(none).ok());
    Bytes two = query("web");
    two[5] = 2;
    CHECK_FALSE(parse_query(two).ok());
  }
  SUBCASE("type and class cut off") {
    Bytes p = query("web");
    p.resize(p.size() - 1);
    CHECK_FALSE(parse_query(p).ok());
  }
}

TEST_CASE("net dns: compression pointers cannot loop") {
  SUBCASE("a pointer to itself") {
    Bytes p = header(1, 0, 1);
    p.insert(p.end(), {0xC0, 12, 0, 1, 0, 1});
    CHECK_FALSE(parse_query(p).ok());
  }
  SUBCASE("a pointer forward") {
    Bytes p = header(1, 0, 1);
    p.insert(p.end(), {0xC0, 18, 0, 1, 0, 1, 0});
    CHECK_FALSE(parse_query(p).ok());
  }
  SUBCASE("a backward pointer whose target runs into the pointer again") {
    // Bytes 10-11 (the additional count) read as the label "x", which is
    // followed by the pointer at 12 back to 10: backward, and still a loop.
    Bytes p = header(1, 0, 1);
    p[10] = 1;
    p[11] = 'x';
    p.insert(p.end(), {0xC0, 10, 0, 1, 0, 1});
    CHECK_FALSE(parse_query(p).ok());
  }
  SUBCASE("a backward pointer that ends is followed") {
    Bytes p = header(1, 0, 1);  // byte 11 is 0: the root name
    p.insert(p.end(), {0xC0, 11, 0, 1, 0, 1});
    auto msg = parse_query(p);
    REQUIRE(msg.ok());
    CHECK(msg->question.labels.empty());
    CHECK(msg->question.type == 1);
  }
  SUBCASE("a pointer cut in half") {
    Bytes p = header(1, 0, 1);
    p.push_back(0xC0);
    CHECK_FALSE(parse_query(p).ok());
  }
}

TEST_CASE("net dns: label and name size limits") {
  std::string l63(63, 'a'), l61(61, 'b');
  CHECK(parse_query(query(l63 + "." + l63 + "." + l63 + "." + l61)).ok());        // exactly 255 bytes on the wire
  CHECK_FALSE(parse_query(query(l63 + "." + l63 + "." + l63 + "." + l61 + "c")).ok());  // 256
  Bytes p = header(1, 0, 1);
  p.push_back(64);  // 0x40: neither a label length nor a pointer
  p.insert(p.end(), 64, 'a');
  p.insert(p.end(), {0, 0, 1, 0, 1});
  CHECK_FALSE(parse_query(p).ok());
}

TEST_CASE("net dns: random packets never crash the parser") {
  std::mt19937 rng(7);
  Bytes base = query("web.example.com");
  DnsRecords records;
  records.add("web.example.com", kWeb1);
  for (int i = 0; i < 20000; ++i) {
    Bytes p = base;
    if (i % 4 == 0) p.resize(rng() % 40);
    for (int j = 0; j < 3; ++j)
      if (!p.empty()) p[rng() % p.size()] = uint8_t(rng());
    auto action = answer_query(p, records, i % 2 == 0);
    if (action.kind == DnsAction::Kind::reply) CHECK(action.reply.size() >= 12);
  }
}

TEST_CASE("net dns: A answers rotate round-robin") {
  DnsRecords records;
  records.add("web", kWeb1);
  records.add("web", kWeb2);
  records.add("web", kWeb3);
  records.add("web", kWeb2);  // already there: no duplicate record
  Bytes first = ask(records, query("web", kDnsTypeA, 0x4242));
  CHECK(at16(first, 0) == 0x4242);
  CHECK(rcode(first) == 0);
  CHECK((at16(first, 2) & 0x8400) == 0x8400);  // QR, AA
  CHECK((at16(first, 2) & 0x0100) == 0x0100);  // RD echoed
  CHECK(answers(first) == std::vector<uint32_t>{kWeb1, kWeb2, kWeb3});
  CHECK(answers(ask(records, query("web"))) == std::vector<uint32_t>{kWeb2, kWeb3, kWeb1});
  CHECK(answers(ask(records, query("web"))) == std::vector<uint32_t>{kWeb3, kWeb1, kWeb2});
  CHECK(answers(ask(records, query("web"))) == std::vector<uint32_t>{kWeb1, kWeb2, kWeb3});
}

TEST_CASE("net dns: names match case-insensitively, with or without the trailing dot") {
  DnsRecords records;
  records.add("Web.", kWeb1);
  Bytes reply = ask(records, query("WEB", kDnsTypeA, 9));
  CHECK(answers(reply) == std::vector<uint32_t>{kWeb1});
  auto echoed = parse_query(reply);
  REQUIRE(echoed.ok());
  CHECK(echoed->question.labels == std::vector<std::string>{"WEB"});  // the client's case, for 0x20 checks
  CHECK(answers(ask(records, query("web."))) == std::vector<uint32_t>{kWeb1});
  CHECK(records.names() == std::map<std::string, std::vector<uint32_t>>{{"web", {kWeb1}}});
}

TEST_CASE("net dns: other types of a known name are NOERROR with no answer") {
  DnsRecords records;
  records.add("web", kWeb1);
  for (uint16_t type : {kDnsTypeAaaa, uint16_t{15}, uint16_t{16}}) {
    Bytes reply = ask(records, query("web", type));
    CHECK(rcode(reply) == 0);
    CHECK(at16(reply, 6) == 0);
    CHECK(answers(reply).empty());
  }
  CHECK(answers(ask(records, query("web", kDnsTypeAny))) == std::vector<uint32_t>{kWeb1});
}

TEST_CASE("net dns: unknown names are forwarded, or NXDOMAIN without upstreams") {
  DnsRecords records;
  records.add("web", kWeb1);
  Bytes nx = ask(records, query("db", kDnsTypeA, 77), false);
  CHECK(rcode(nx) == 3);
  CHECK(at16(nx, 0) == 77);
  CHECK(at16(nx, 6) == 0);

  auto action = answer_query(query("Example.COM", kDnsTypeA, 78), records, true);
  CHECK(action.kind == DnsAction::Kind::forward);
  CHECK(action.query.id == 78);
  CHECK(action.query.question.key() == "example.com");
}

TEST_CASE("net dns: malformed, unsupported and stray packets") {
  DnsRecords records;
  records.add("web", kWeb1);
  SUBCASE("FORMERR keeps the id") {
    Bytes p = header(0xABCD, 0x0100, 1);
    p.insert(p.end(), {5, 'a'});
    Bytes reply = ask(records, p, true);
    CHECK(reply.size() == 12);
    CHECK(at16(reply, 0) == 0xABCD);
    CHECK(rcode(reply) == 1);
    CHECK(at16(reply, 4) == 0);
  }
  SUBCASE("NOTIMP for another opcode") {
    Bytes reply = ask(records, query("web", kDnsTypeA, 5, kDnsClassIn, 0x2000 /* STATUS */), true);
    CHECK(rcode(reply) == 4);
    CHECK((at16(reply, 2) & 0x7800) == 0x2000);
  }
  SUBCASE("REFUSED for another class") {
    Bytes reply = ask(records, query("web", kDnsTypeA, 6, 3 /* CH */), true);
    CHECK(rcode(reply) == 5);
    CHECK(answers(reply).empty());
  }
  SUBCASE("replies and runts are dropped") {
    CHECK(answer_query(query("web", kDnsTypeA, 1, kDnsClassIn, 0x8100), records, true).kind ==
          DnsAction::Kind::drop);
    CHECK(answer_query(Bytes{1, 2, 3}, records, true).kind == DnsAction::Kind::drop);
    CHECK(build_error(Bytes{1, 2, 3}, Rcode::form_err).empty());
  }
}

TEST_CASE("net dns: answers past the size limit are cut and marked truncated") {
  DnsRecords records;
  for (uint32_t i = 0; i < 40; ++i) records.add("many", kWeb1 + i);
  Bytes udp = ask(records, query("many"));
  CHECK(truncated(udp));
  CHECK(udp.size() <= kDnsUdpLimit);
  CHECK(answers(udp).size() == (kDnsUdpLimit - 12 - 6 - 4) / 16);
  Bytes tcp = ask(records, query("many"), false, kDnsTcpLimit);
  CHECK_FALSE(truncated(tcp));
  CHECK(answers(tcp).size() == 40);
}

TEST_CASE("net dns: record table updates") {
  DnsRecords records;
  records.add("web", kWeb1);
  records.add("web", kWeb2);
  records.add("frontend", kWeb1);  // an alias of the first container
  records.add("db", kWeb3);
  records.remove("web", kWeb2);
  records.remove("nothing", kWeb2);
  CHECK(records.lookup("web") == std::vector<uint32_t>{kWeb1});
  records.remove_address(kWeb1);
  CHECK(records.lookup("web").empty());
  CHECK(records.lookup("frontend").empty());
  CHECK(records.names() == std::map<std::string, std::vector<uint32_t>>{{"db", {kWeb3}}});
}

TEST_CASE("net dns: relayed replies get the client's id back") {
  Bytes upstream = query("example.com", kDnsTypeA, 0x9999, kDnsClassIn, 0x8180);
  Bytes relayed = with_id(upstream, 0x0102);
  REQUIRE(relayed.size() == upstream.size());
  CHECK(at16(relayed, 0) == 0x0102);
  CHECK(std::equal(relayed.begin() + 2, relayed.end(), upstream.begin() + 2));
  CHECK(with_id(Bytes{7}, 0x0102) == Bytes{7});
}

TEST_CASE("net dns: host resolvers from resolv.conf") {
  berth::test::TempDir dir;
  REQUIRE(berth::write_file(dir / "resolv.conf",
                            "# generated\n"
                            "search example.com\n"
                            "nameserver 10.1.2.3\n"
                            "nameserver\t127.0.0.53  # systemd-resolved\n"
                            "; nameserver 9.9.9.9\n"
                            "nameserver 2001:db8::1\n"
                            "nameserver bogus\n"
                            "  nameserver 192.168.1.1\n",
                            true)
            .ok());
  auto list = host_resolvers(dir / "resolv.conf");
  std::vector<std::string> got;
  for (const auto& sa : list) {
    char buf[INET_ADDRSTRLEN];
    REQUIRE(::inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf));
    CHECK(sa.sin_family == AF_INET);
    CHECK(ntohs(sa.sin_port) == 53);
    got.push_back(buf);
  }
  CHECK(got == std::vector<std::string>{"10.1.2.3", "127.0.0.53", "192.168.1.1"});
  CHECK(host_resolvers(dir / "missing").empty());
}
