// IPAM (net/ipam.hpp) in a temporary directory: allocation order, wanted
// addresses, full subnets, persistence across reopening, the lock between
// two stores on one directory, and choosing or checking subnets.
#include "net/ipam.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth;
using namespace berth::net;
using berth::test::TempDir;

namespace {

Ipv4 ip(const char* s) { return *Ipv4::parse(s); }
Ipv4Net cidr(const char* s) { return *Ipv4Net::parse(s); }

Ipam open_ipam(const std::string& dir) {
  auto r = Ipam::open(dir);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(*r);
}

std::string alloc(Ipam& ipam, const std::string& net, const std::string& owner,
                  std::optional<Ipv4> wanted = std::nullopt) {
  auto r = ipam.allocate(net, owner, wanted);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return r->to_string();
}

}  // namespace

TEST_CASE("net ipam hands out addresses in order, skipping the gateway") {
  TempDir tmp;
  auto ipam = open_ipam(tmp / "networks/ipam");
  REQUIRE(ipam.create_network("n1", cidr("10.88.0.0/16"), ip("10.88.0.1")).ok());
  CHECK(alloc(ipam, "n1", "a") == "10.88.0.2");
  CHECK(alloc(ipam, "n1", "b") == "10.88.0.3");
  CHECK(alloc(ipam, "n1", "a") == "10.88.0.2");  // an existing lease comes back
  CHECK(alloc(ipam, "n1", "c") == "10.88.0.4");

  // A gateway at the top of the range: the first container gets .1.
  REQUIRE(ipam.create_network("n2", cidr("10.89.0.0/24"), ip("10.89.0.254")).ok());
  CHECK(alloc(ipam, "n2", "a") == "10.89.0.1");

  auto leases = ipam.leases("n1");
  REQUIRE(leases.ok());
  CHECK(*leases == Leases{{"a", ip("10.88.0.2")}, {"b", ip("10.88.0.3")}, {"c", ip("10.88.0.4")}});
  CHECK(path_exists(tmp / "networks/ipam/n1.json"));
}

TEST_CASE("net ipam fills a subnet without duplicates, then says it is full") {
  TempDir tmp;
  auto ipam = open_ipam(tmp.path());
  auto subnet = cidr("10.3.0.0/25");
  REQUIRE(ipam.create_network("n", subnet, ip("10.3.0.65")).ok());
  std::set<Ipv4> seen;
  for (uint32_t i = 0; i < subnet.host_count() - 1; ++i) {
    auto r = ipam.allocate("n", cat("c", i));
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(subnet.contains(*r));
    CHECK(*r != subnet.network());
    CHECK(*r != subnet.broadcast());
    CHECK(*r != ip("10.3.0.65"));
    seen.insert(*r);
  }
  CHECK(seen.size() == subnet.host_count() - 1);
  auto full = ipam.allocate("n", "one-more");
  REQUIRE(!full.ok());
  CHECK(full.error().code() == ENOSPC);
  CHECK(full.error().message() ==
        "allocate an address on network n for one-more: subnet 10.3.0.0/25 is full: No space left on device");
}

TEST_CASE("net ipam: the smallest usable subnet and networks it refuses") {
  TempDir tmp;
  auto ipam = open_ipam(tmp.path());
  REQUIRE(ipam.create_network("tiny", cidr("10.4.0.0/30"), ip("10.4.0.1")).ok());
  CHECK(alloc(ipam, "tiny", "a") == "10.4.0.2");
  CHECK(ipam.allocate("tiny", "b").error().code() == ENOSPC);

  auto st = ipam.create_network("tiny", cidr("10.5.0.0/24"), ip("10.5.0.1"));
  REQUIRE(!st.ok());
  CHECK(st.error().code() == EEXIST);
  CHECK(st.error().message() == "create address pool of network tiny: it already exists: File exists");
  CHECK(ipam.create_network("p2p", cidr("10.6.0.0/31"), ip("10.6.0.0")).error().message() ==
        "create address pool of network p2p: subnet 10.6.0.0/31 is too small");
  CHECK(ipam.create_network("gw", cidr("10.7.0.0/24"), ip("10.8.0.1")).error().message() ==
        "create address pool of network gw: gateway 10.8.0.1 is not a host address of subnet 10.7.0.0/24");
  CHECK(!ipam.create_network("gw", cidr("10.7.0.0/24"), ip("10.7.0.255")).ok());
  CHECK(ipam.create_network("../x", cidr("10.7.0.0/24"), ip("10.7.0.1")).error().message() ==
        "create address pool of network ../x: invalid network id \"../x\"");
  CHECK(!ipam.create_network("", cidr("10.7.0.0/24"), ip("10.7.0.1")).ok());
  // A subnet given as an interface address is stored as the subnet.
  REQUIRE(ipam.create_network("host-form", cidr("10.9.0.77/24"), ip("10.9.0.1")).ok());
  CHECK(alloc(ipam, "host-form", "a") == "10.9.0.2");
}

TEST_CASE("net ipam gives a wanted address or says why not") {
  TempDir tmp;
  auto ipam = open_ipam(tmp.path());
  REQUIRE(ipam.create_network("n", cidr("10.88.0.0/24"), ip("10.88.0.1")).ok());
  CHECK(alloc(ipam, "n", "a", ip("10.88.0.50")) == "10.88.0.50");
  CHECK(alloc(ipam, "n", "a", ip("10.88.0.50")) == "10.88.0.50");
  CHECK(ipam.allocate("n", "a", ip("10.88.0.51")).error().message() ==
        "allocate an address on network n for a: it already holds 10.88.0.50");

  auto taken = ipam.allocate("n", "b", ip("10.88.0.50"));
  REQUIRE(!taken.ok());
  CHECK(taken.error().code() == EADDRINUSE);
  CHECK(taken.error().message() == "allocate an address on network n for b: 10.88.0.50: Address already in use");
  CHECK(ipam.allocate("n", "b", ip("10.99.0.5")).error().message() ==
        "allocate an address on network n for b: 10.99.0.5 is not a host address of subnet 10.88.0.0/24");
  CHECK(!ipam.allocate("n", "b", ip("10.88.0.0")).ok());
  CHECK(!ipam.allocate("n", "b", ip("10.88.0.255")).ok());
  CHECK(ipam.allocate("n", "b", ip("10.88.0.1")).error().message() ==
        "allocate an address on network n for b: 10.88.0.1 is the gateway");

  // The cursor skips what was wanted by others.
  CHECK(alloc(ipam, "n", "c") == "10.88.0.2");
  CHECK(alloc(ipam, "n", "d", ip("10.88.0.3")) == "10.88.0.3");
  CHECK(alloc(ipam, "n", "e") == "10.88.0.4");
}

TEST_CASE("net ipam does not reuse a released address at once, and wraps around") {
  TempDir tmp;
  auto ipam = open_ipam(tmp.path());
  REQUIRE(ipam.create_network("n", cidr("10.10.0.0/29"), ip("10.10.0.1")).ok());  // hosts .1-.6
  CHECK(alloc(ipam, "n", "a") == "10.10.0.2");
  CHECK(alloc(ipam, "n", "b") == "10.10.0.3");
  REQUIRE(ipam.release("n", "a").ok());
  REQUIRE(ipam.release("n", "a").ok());  // idempotent
  REQUIRE(ipam.release("no-such-network", "a").ok());
  CHECK(alloc(ipam, "n", "c") == "10.10.0.4");
  CHECK(alloc(ipam, "n", "d") == "10.10.0.5");
  CHECK(alloc(ipam, "n", "e") == "10.10.0.6");
  // The end of the range: back to the start, past the gateway, to the freed .2.
  CHECK(alloc(ipam, "n", "f") == "10.10.0.2");
  CHECK(ipam.allocate("n", "g").error().code() == ENOSPC);
  REQUIRE(ipam.release("n", "d").ok());
  CHECK(alloc(ipam, "n", "g") == "10.10.0.5");
}

TEST_CASE("net ipam survives reopening") {
  TempDir tmp;
  {
    auto ipam = open_ipam(tmp.path());
    REQUIRE(ipam.create_network("n", cidr("10.20.0.0/24"), ip("10.20.0.1")).ok());
    CHECK(alloc(ipam, "n", "a") == "10.20.0.2");
    CHECK(alloc(ipam, "n", "b") == "10.20.0.3");
    REQUIRE(ipam.release("n", "b").ok());
  }
  auto again = open_ipam(tmp.path());
  CHECK(*again.leases("n") == Leases{{"a", ip("10.20.0.2")}});
  CHECK(alloc(again, "n", "a") == "10.20.0.2");
  CHECK(alloc(again, "n", "c") == "10.20.0.4");  // the cursor was kept too
}

TEST_CASE("net ipam: two stores on one directory never hand out one address twice") {
  TempDir tmp;
  auto first = open_ipam(tmp.path());
  auto second = open_ipam(tmp.path());
  REQUIRE(first.create_network("n", cidr("10.30.0.0/22"), ip("10.30.0.1")).ok());

  // Interleaved calls see each other's leases.
  CHECK(alloc(first, "n", "a") == "10.30.0.2");
  CHECK(alloc(second, "n", "b") == "10.30.0.3");
  CHECK(alloc(first, "n", "c") == "10.30.0.4");
  CHECK(second.leases("n")->size() == 3);

  // Concurrent read-modify-write cycles: without the lock, leases get lost
  // and addresses handed out twice.
  constexpr int kEach = 60;
  std::vector<std::string> errors;
  auto worker = [&](Ipam& ipam, const char* prefix) {
    for (int i = 0; i < kEach; ++i)
      if (auto r = ipam.allocate("n", cat(prefix, i)); !r) errors.push_back(r.error().message());
  };
  std::thread t1(worker, std::ref(first), "x");
  std::thread t2(worker, std::ref(second), "y");
  t1.join();
  t2.join();
  CHECK(errors.empty());
  auto leases = first.leases("n");
  REQUIRE(leases.ok());
  CHECK(leases->size() == 3 + 2 * kEach);
  std::set<Ipv4> distinct;
  for (const auto& lease : *leases) distinct.insert(lease.second);
  CHECK(distinct.size() == leases->size());
}

TEST_CASE("net ipam remove_network and release_owner_everywhere") {
  TempDir tmp;
  auto ipam = open_ipam(tmp.path());
  REQUIRE(ipam.create_network("n1", cidr("10.40.0.0/24"), ip("10.40.0.1")).ok());
  REQUIRE(ipam.create_network("n2", cidr("10.41.0.0/24"), ip("10.41.0.1")).ok());
  alloc(ipam, "n1", "web");
  alloc(ipam, "n1", "db");
  alloc(ipam, "n2", "web");
  REQUIRE(ipam.release_owner_everywhere("web").ok());
  CHECK(*ipam.leases("n1") == Leases{{"db", ip("10.40.0.3")}});
  CHECK(ipam.leases("n2")->empty());
  REQUIRE(ipam.release_owner_everywhere("nobody").ok());

  REQUIRE(ipam.remove_network("n1").ok());
  CHECK(!path_exists(tmp / "n1.json"));
  auto gone = ipam.allocate("n1", "x");
  REQUIRE(!gone.ok());
  CHECK(gone.error().code() == ENOENT);
  CHECK(gone.error().message() ==
        "allocate an address on network n1 for x: address pool of network n1: No such file or directory");
  REQUIRE(ipam.remove_network("n1").ok());  // already gone
  REQUIRE(ipam.create_network("n1", cidr("10.40.0.0/24"), ip("10.40.0.1")).ok());
  CHECK(ipam.leases("n1")->empty());
  CHECK(alloc(ipam, "n1", "x") == "10.40.0.2");
}

TEST_CASE("net ipam reports a damaged lease file by name") {
  TempDir tmp;
  auto ipam = open_ipam(tmp.path());
  REQUIRE(write_file(tmp / "bad.json", "{\"subnet\": 5}", true).ok());
  auto r = ipam.leases("bad");
  REQUIRE(!r.ok());
  CHECK(test::contains(r.error().message(), "read address pool of network bad in " + tmp.path() + ": "));
  CHECK(!ipam.release_owner_everywhere("x").ok());
}

TEST_CASE("net pick_subnet walks docker's default pools") {
  CHECK(pick_subnet({})->to_string() == "172.17.0.0/16");
  CHECK(pick_subnet({cidr("172.17.0.0/16"), cidr("172.18.5.0/24"), cidr("10.0.0.0/8")})->to_string() ==
        "172.19.0.0/16");
  CHECK(pick_subnet({cidr("172.16.0.0/12")})->to_string() == "192.168.0.0/20");
  CHECK(pick_subnet({cidr("172.16.0.0/12"), cidr("192.168.0.0/19")})->to_string() == "192.168.32.0/20");
  CHECK(pick_subnet({cidr("172.16.0.0/12"), cidr("192.168.240.0/20")})->to_string() == "192.168.0.0/20");
  auto none = pick_subnet({cidr("172.16.0.0/12"), cidr("192.168.0.0/16")});
  REQUIRE(!none.ok());
  CHECK(test::contains(none.error().message(), "no free subnet"));
}

TEST_CASE("net check_overlap names the other network") {
  std::vector<NamedSubnet> in_use{{"web", cidr("10.2.0.0/16")}, {"X", cidr("10.1.2.0/24")}};
  CHECK(check_overlap(cidr("10.3.0.0/16"), in_use).ok());
  CHECK(check_overlap(cidr("10.1.0.0/16"), in_use).error().message() ==
        "subnet 10.1.0.0/16 overlaps with network X's 10.1.2.0/24");
  CHECK(check_overlap(cidr("10.2.3.4/24"), in_use).error().message() ==
        "subnet 10.2.3.0/24 overlaps with network web's 10.2.0.0/16");
  CHECK(check_overlap(cidr("10.0.0.0/8"), {}).ok());
}
