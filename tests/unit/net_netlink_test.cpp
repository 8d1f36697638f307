// IPv4 values and the bridge/endpoint plans of net/netlink.hpp, driven
// through a fake NetlinkClient that records every call and can fail one.
#include "net/netlink.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace berth;
using namespace berth::net;

namespace {

Ipv4 ip(const char* s) {
  auto r = Ipv4::parse(s);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return *r;
}

Ipv4Net cidr(const char* s) {
  auto r = Ipv4Net::parse(s);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return *r;
}

// One network namespace's worth of links. Calls go to a log shared by the
// host and container fakes ("host create_bridge b0"), so tests see the order
// across both; the operation named in `fail` returns EPERM.
class FakeNetlink final : public NetlinkClient {
 public:
  FakeNetlink(std::string who, std::vector<std::string>& log) : who_(std::move(who)), log_(log) {}

  Status create_bridge(const std::string& name) override {
    BERTH_TRY(call("create_bridge", name));
    return add_link(name, "bridge");
  }
  Status create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd) override {
    BERTH_TRY(call("create_veth", cat(name, " ", peer_name, " ", peer_netns_fd)));
    REQUIRE(peer_ns != nullptr);
    BERTH_TRY(add_link(name, "veth"));
    BERTH_TRY(peer_ns->add_link(peer_name, "veth"));
    peers_[name] = peer_name;
    return {};
  }
  Status set_master(const std::string& link, const std::string& bridge) override {
    BERTH_TRY(call("set_master", cat(link, " ", bridge)));
    if (!links_.count(link) || !links_.count(bridge)) return Error(ENODEV, "set master");
    links_[link].master_index = links_[bridge].index;
    return {};
  }
  Status set_hairpin(const std::string& link) override {
    BERTH_TRY(call("set_hairpin", link));
    if (!links_.count(link) || !links_[link].master_index) return Error(ENODEV, "set hairpin");
    hairpin_.insert(link);
    return {};
  }
  Status set_up(const std::string& link) override {
    BERTH_TRY(call("set_up", link));
    if (!links_.count(link)) return Error(ENODEV, "set up");
    links_[link].up = true;
    return {};
  }
  Status delete_link(const std::string& link) override {
    BERTH_TRY(call("delete_link", link));
    if (!links_.erase(link)) return Error(ENODEV, cat("delete link ", link));
    if (auto p = peers_.find(link); p != peers_.end()) {
      peer_ns->links_.erase(p->second);
      peers_.erase(p);
    }
    return {};
  }
  Result<bool> link_exists(const std::string& link) override {
    BERTH_TRY(call("link_exists", link));
    return links_.count(link) > 0;
  }
  Status add_address(const std::string& link, const Ipv4Net& address) override {
    BERTH_TRY(call("add_address", cat(link, " ", address.to_string())));
    if (!links_.count(link)) return Error(ENODEV, "add address");
    addrs_[link].push_back(address);
    return {};
  }
  Status add_default_route(Ipv4 gateway) override {
    BERTH_TRY(call("add_default_route", gateway.to_string()));
    gateway_ = gateway;
    return {};
  }
  Result<std::vector<LinkInfo>> links() override {
    BERTH_TRY(call("links", ""));
    std::vector<LinkInfo> out;
    for (const auto& [name, link] : links_) out.push_back(link);
    return out;
  }
  Result<std::vector<Ipv4Net>> addresses(const std::string& link) override {
    BERTH_TRY(call("addresses", link));
    if (!links_.count(link)) return Error(ENODEV, "list addresses");
    return addrs_[link];
  }
  Result<std::optional<Ipv4>> default_gateway() override {
    BERTH_TRY(call("default_gateway", ""));
    return gateway_;
  }

  Status add_link(const std::string& name, const std::string& kind) {
    if (links_.count(name)) return Error(EEXIST, cat("create ", name));
    links_[name] = LinkInfo{name, next_index_++, kind, 0, false};
    return {};
  }
  std::vector<std::string> link_names() const {
    std::vector<std::string> out;
    for (const auto& l : links_) out.push_back(l.first);
    return out;
  }

  std::string fail;                 // operation to fail, optionally "op args"
  FakeNetlink* peer_ns = nullptr;   // where create_veth puts the peer
  std::map<std::string, LinkInfo> links_;
  std::map<std::string, std::vector<Ipv4Net>> addrs_;
  std::optional<Ipv4> gateway_;
  std::set<std::string> hairpin_;  // ports in hairpin mode

 private:
  Status call(const std::string& op, const std::string& args) {
    std::string entry = args.empty() ? op : cat(op, " ", args);
    log_.push_back(cat(who_, " ", entry));
    if (!fail.empty() && (fail == op || fail == entry)) return Error(EPERM, cat(op, " (injected)"));
    return {};
  }

  std::string who_;
  std::vector<std::string>& log_;
  std::map<std::string, std::string> peers_;
  int next_index_ = 2;
};

struct Net {
  std::vector<std::string> log;
  FakeNetlink host{"host", log};
  FakeNetlink ctr{"ctr", log};
  Net() {
    host.peer_ns = &ctr;
    REQUIRE(host.add_link("br0", "bridge").ok());
    log.clear();
  }
};

Endpoint endpoint() {
  return Endpoint{"br0", "veth0123abc0", 7, "eth0", cidr("10.88.0.2/16"), ip("10.88.0.1")};
}

}  // namespace

TEST_CASE("net Ipv4 parses dotted quads strictly") {
  CHECK(ip("10.1.2.3").value() == 0x0a010203u);
  CHECK(ip("0.0.0.0").value() == 0u);
  CHECK(ip("255.255.255.255").value() == 0xffffffffu);
  CHECK(ip("192.168.0.1").to_string() == "192.168.0.1");
  CHECK(ip("10.0.0.2") > ip("10.0.0.1"));
  for (const char* bad : {"", "10.1.2", "10.1.2.3.4", "256.0.0.1", "10.01.2.3", "10.1.2.-3", "a.b.c.d", " 10.1.2.3",
                          "10.1.2.3 ", "10..2.3", "1000.1.1.1"}) {
    auto r = Ipv4::parse(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r) CHECK(r.error().message() == cat("invalid IPv4 address ", quote(bad)));
  }
}

TEST_CASE("net Ipv4Net parses subnets and interface addresses") {
  auto n = cidr("10.88.0.5/16");
  CHECK(n.address() == ip("10.88.0.5"));
  CHECK(n.prefix() == 16);
  CHECK(n.mask() == 0xffff0000u);
  CHECK(n.network() == ip("10.88.0.0"));
  CHECK(n.broadcast() == ip("10.88.255.255"));
  CHECK(n.to_string() == "10.88.0.5/16");
  CHECK(n.canonical().to_string() == "10.88.0.0/16");
  CHECK(n.with_address(ip("10.88.3.4")).to_string() == "10.88.3.4/16");

  CHECK(cidr("0.0.0.0/0").mask() == 0u);
  CHECK(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  CHECK(cidr("10.0.0.7/32").network() == ip("10.0.0.7"));
  CHECK(cidr("10.0.0.7/32").broadcast() == ip("10.0.0.7"));

  auto r = Ipv4Net::parse("10.0.0.0/33");
  REQUIRE(!r.ok());
  CHECK(r.error().message() == "invalid subnet 10.0.0.0/33: prefix length out of range");
  CHECK(Ipv4Net::parse("10.0.0.0").error().message() == "invalid subnet 10.0.0.0: missing prefix length");
  CHECK(Ipv4Net::parse("10.0.0.300/8").error().message() ==
        "invalid subnet 10.0.0.300/8: invalid IPv4 address \"10.0.0.300\"");
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/1x", "/8", "10.0.0.0/8/8"})
    CHECK_MESSAGE(!Ipv4Net::parse(bad).ok(), bad);
  CHECK(!Ipv4Net::make(ip("10.0.0.0"), 40).ok());
  CHECK(Ipv4Net::make(ip("10.0.0.0"), 8)->to_string() == "10.0.0.0/8");
}

TEST_CASE("net Ipv4Net arithmetic: contains, overlaps, hosts") {
  auto n = cidr("10.88.0.0/16");
  CHECK(n.contains(ip("10.88.0.0")));
  CHECK(n.contains(ip("10.88.255.255")));
  CHECK(!n.contains(ip("10.89.0.0")));
  CHECK(!n.contains(ip("10.87.255.255")));

  CHECK(n.overlaps(cidr("10.88.7.0/24")));
  CHECK(cidr("10.88.7.0/24").overlaps(n));
  CHECK(n.overlaps(cidr("10.0.0.0/8")));
  CHECK(!n.overlaps(cidr("10.89.0.0/16")));
  CHECK(!cidr("192.168.0.0/20").overlaps(cidr("192.168.16.0/20")));

  CHECK(n.host_count() == 65534u);
  CHECK(cidr("10.0.0.0/30").host_count() == 2u);
  CHECK(cidr("10.0.0.0/31").host_count() == 0u);
  CHECK(cidr("10.0.0.0/32").host_count() == 0u);
  CHECK(cidr("0.0.0.0/0").host_count() == 0xfffffffeu);

  CHECK(n.host(1)->to_string() == "10.88.0.1");
  CHECK(n.host(256)->to_string() == "10.88.1.0");
  CHECK(n.host(65534)->to_string() == "10.88.255.254");
  CHECK(cidr("10.88.3.9/16").host(2)->to_string() == "10.88.0.2");
  CHECK(n.host(0).error().message() == "subnet 10.88.0.0/16 has no host number 0");
  CHECK(!n.host(65535).ok());
}

TEST_CASE("net check_ifname and host_veth_name") {
  CHECK(check_ifname("eth0").ok());
  CHECK(check_ifname("123456789012345").ok());
  CHECK(check_ifname("1234567890123456").error().message() ==
        "invalid interface name \"1234567890123456\": longer than 15 characters");
  for (const char* bad : {"", ".", "..", "a/b", "a b", "a:1"}) CHECK_MESSAGE(!check_ifname(bad).ok(), bad);

  std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  CHECK(*host_veth_name(id, 0) == "veth01234560");
  CHECK(*host_veth_name(id, 12) == "veth012345612");
  CHECK(host_veth_name(id, 9999)->size() == 15);
  CHECK(check_ifname(*host_veth_name(id, 9999)).ok());
  CHECK(!host_veth_name(id, 10000).ok());

  // Ids that are not hex still give valid, stable and distinct names.
  auto a = host_veth_name("web/1 with spaces", 0);
  auto b = host_veth_name("web/2 with spaces", 0);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(check_ifname(*a).ok());
  CHECK(*a == *host_veth_name("web/1 with spaces", 0));
  CHECK(*a != *b);
  CHECK(check_ifname(*host_veth_name("", 3)).ok());
}

TEST_CASE("net ensure_bridge creates, addresses and raises a bridge once") {
  std::vector<std::string> log;
  FakeNetlink host("host", log);
  REQUIRE(ensure_bridge(host, "berth0", cidr("172.17.0.1/16")).ok());
  CHECK(log == std::vector<std::string>{"host links", "host create_bridge berth0", "host addresses berth0",
                                        "host add_address berth0 172.17.0.1/16", "host set_up berth0"});
  CHECK(host.links_["berth0"].kind == "bridge");
  CHECK(host.links_["berth0"].up);

  log.clear();
  REQUIRE(ensure_bridge(host, "berth0", cidr("172.17.0.1/16")).ok());
  CHECK(log == std::vector<std::string>{"host links", "host addresses berth0", "host set_up berth0"});
  CHECK(host.addrs_["berth0"].size() == 1);
}

TEST_CASE("net ensure_bridge refuses a link of another kind and reports failures") {
  std::vector<std::string> log;
  FakeNetlink host("host", log);
  REQUIRE(host.add_link("berth0", "veth").ok());
  auto st = ensure_bridge(host, "berth0", cidr("172.17.0.1/16"));
  REQUIRE(!st.ok());
  CHECK(st.error().message() == "set up bridge berth0: link berth0 exists and is not a bridge");

  FakeNetlink fresh("host", log);
  fresh.fail = "add_address";
  st = ensure_bridge(fresh, "b1", cidr("10.1.0.1/24"));
  REQUIRE(!st.ok());
  CHECK(st.error().code() == EPERM);
  CHECK(st.error().message() == "set up bridge b1: add_address (injected): Operation not permitted");
}

TEST_CASE("net connect_endpoint plugs the veth in, in order") {
  Net net;
  REQUIRE(connect_endpoint(net.host, net.ctr, endpoint()).ok());
  CHECK(net.log == std::vector<std::string>{
                       "host create_veth veth0123abc0 eth0 7",
                       "host set_master veth0123abc0 br0",
                       "host set_hairpin veth0123abc0",
                       "host set_up veth0123abc0",
                       "ctr add_address eth0 10.88.0.2/16",
                       "ctr set_up eth0",
                       "ctr add_default_route 10.88.0.1",
                   });
  CHECK(net.host.links_["veth0123abc0"].master_index == net.host.links_["br0"].index);
  CHECK(net.host.links_["veth0123abc0"].up);
  CHECK(net.host.hairpin_.count("veth0123abc0"));
  CHECK(net.ctr.links_["eth0"].up);
  CHECK(net.ctr.gateway_ == ip("10.88.0.1"));
}

TEST_CASE("net connect_endpoint removes the veth when a later step fails") {
  for (const char* step : {"host set_master veth0123abc0 br0", "host set_hairpin veth0123abc0", "host set_up veth0123abc0",
                           "ctr add_address eth0 10.88.0.2/16", "ctr set_up eth0", "ctr add_default_route 10.88.0.1"}) {
    CAPTURE(step);
    Net net;
    std::string s = step;
    auto sp = s.find(' ');
    (s.substr(0, sp) == "host" ? net.host : net.ctr).fail = s.substr(sp + 1);
    auto st = connect_endpoint(net.host, net.ctr, endpoint());
    REQUIRE(!st.ok());
    CHECK(st.error().code() == EPERM);
    CHECK(starts_with(st.error().message(), "connect veth0123abc0 to bridge br0: "));
    CHECK(net.log.back() == "host delete_link veth0123abc0");
    CHECK(net.host.link_names() == std::vector<std::string>{"br0"});
    CHECK(net.ctr.link_names().empty());
  }
}

TEST_CASE("net connect_endpoint: a failed create or a bad name touches nothing else") {
  Net net;
  net.host.fail = "create_veth";
  auto st = connect_endpoint(net.host, net.ctr, endpoint());
  REQUIRE(!st.ok());
  CHECK(st.error().message() == "connect veth0123abc0 to bridge br0: create_veth (injected): Operation not permitted");
  CHECK(net.log == std::vector<std::string>{"host create_veth veth0123abc0 eth0 7"});

  net.log.clear();
  Endpoint ep = endpoint();
  ep.host_veth = "veth0123456789abc";
  st = connect_endpoint(net.host, net.ctr, ep);
  REQUIRE(!st.ok());
  CHECK(st.error().message() ==
        "connect veth0123456789abc to bridge br0: invalid interface name \"veth0123456789abc\": longer than 15 "
        "characters");
  CHECK(net.log.empty());
}

TEST_CASE("net disconnect_endpoint deletes the host end and tolerates its absence") {
  Net net;
  REQUIRE(connect_endpoint(net.host, net.ctr, endpoint()).ok());
  REQUIRE(disconnect_endpoint(net.host, "veth0123abc0").ok());
  CHECK(net.host.link_names() == std::vector<std::string>{"br0"});
  CHECK(net.ctr.link_names().empty());
  CHECK(disconnect_endpoint(net.host, "veth0123abc0").ok());

  net.host.fail = "delete_link";
  auto st = disconnect_endpoint(net.host, "veth0123abc0");
  REQUIRE(!st.ok());
  CHECK(st.error().code() == EPERM);
}
