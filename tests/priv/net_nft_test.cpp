// berth's nftables NAT, checked with real traffic: every case runs in a fresh
// network namespace holding a bridge br-t (10.99.0.1/24) and, where traffic is
// needed, a second namespace standing in for a container at 10.99.0.2.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "net/nft.hpp"
#include "test_support.hpp"

using namespace berth::test;
using berth::UniqueFd;
using berth::net::Nft;
using berth::net::PortMapping;
using berth::net::Proto;

namespace {

// Moves the calling thread into a new, empty network namespace and back on
// destruction; everything made inside vanishes with the namespace.
class FreshNetns {
 public:
  FreshNetns() {
    auto fd = berth::open_file("/proc/thread-self/ns/net", O_RDONLY);
    REQUIRE(fd.ok());
    saved_ = std::move(*fd);
    REQUIRE(::unshare(CLONE_NEWNET) == 0);
  }
  ~FreshNetns() { ::setns(saved_.get(), CLONE_NEWNET); }
  FreshNetns(const FreshNetns&) = delete;
  FreshNetns& operator=(const FreshNetns&) = delete;

 private:
  UniqueFd saved_;
};

void sh(const std::string& cmd) {
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// A second namespace, made by a short-lived thread and kept alive by an fd.
class ContainerNetns {
 public:
  ContainerNetns() {
    std::thread([this] {
      if (::unshare(CLONE_NEWNET) != 0) return;
      if (auto fd = berth::open_file("/proc/thread-self/ns/net", O_RDONLY)) fd_ = std::move(*fd);
    }).join();
    REQUIRE(fd_.valid());
  }
  std::string path() const { return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_.get()); }
  // Runs `fn` on a thread inside the namespace; sockets made there stay in it.
  void run(const std::function<void()>& fn) const {
    std::thread([&] {
      if (::setns(fd_.get(), CLONE_NEWNET) == 0) fn();
    }).join();
  }

 private:
  UniqueFd fd_;
};

// The bridge in the test namespace, and the container's veth behind it.
void make_topology(const ContainerNetns& ctr) {
  sh("ip link set lo up && ip link add br-t type bridge && ip addr add 10.99.0.1/24 dev br-t && ip link set br-t up");
  sh("ip link add veth-h type veth peer name veth-c netns " + ctr.path());
  // With br_netfilter loaded, a container reaching its own published port is DNATed on the
  // bridge and must be bridged back out of the port it came in on.
  sh("ip link set veth-h master br-t up && ip link set veth-h type bridge_slave hairpin on");
  sh("nsenter --net=" + ctr.path() +
     " sh -c 'ip link set lo up && ip addr add 10.99.0.2/24 dev veth-c && ip link set veth-c up &&"
     " ip route add default via 10.99.0.1'");
}

sockaddr_in address(const std::string& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

UniqueFd make_socket(int type) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  timeval tv{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// A bound socket on 0.0.0.0:port (listening, for tcp).
UniqueFd serve(int type, uint16_t port) {
  UniqueFd fd = make_socket(type);
  auto sa = address("0.0.0.0", port);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  if (type == SOCK_STREAM) REQUIRE(::listen(fd.get(), 8) == 0);
  return fd;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 1000) == 1;
}

std::string receive(int fd) {
  char buf[64];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Connects `client` to ip:port; if `listener` gets the connection it answers
// "pong". Returns what the client read ("" when nothing answered).
std::string tcp_exchange(UniqueFd client, const std::string& ip, uint16_t port, int listener) {
  auto sa = address(ip, port);
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return "";
  if (!readable(listener)) return "";
  UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn || ::send(conn.get(), "pong", 4, MSG_NOSIGNAL) != 4) return "";
  return receive(client.get());
}

// The same with a datagram to ip:port, answered by `server`.
std::string udp_exchange(const std::string& ip, uint16_t port, int server) {
  UniqueFd client = make_socket(SOCK_DGRAM);
  auto sa = address(ip, port);
  if (::sendto(client.get(), "ping", 4, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 4) return "";
  if (!readable(server)) return "";
  char buf[16];
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  if (::recvfrom(server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) != 4) return "";
  ::sendto(server, "pong", 4, 0, reinterpret_cast<sockaddr*>(&peer), len);
  return receive(client.get());
}

Nft open_reset() {
  auto nft = Nft::open();
  REQUIRE_MESSAGE(nft.ok(), nft.error().message());
  auto r = nft->reset();
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(*nft);
}

std::string rules(Nft& nft) {
  auto text = nft.ruleset();
  REQUIRE_MESSAGE(text.ok(), text.error().message());
  return *text;
}

size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (auto at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

PortMapping mapping(Proto proto, uint16_t host_port, uint16_t container_port) {
  return PortMapping{proto, std::nullopt, host_port, container_port};
}

}  // namespace

TEST_CASE("net nft reset makes berth's table, clears stale rules and leaves other tables alone") {
  FreshNetns netns;
  sh("nft add table ip other && nft add chain ip other c '{ type filter hook input priority 0; }' &&"
     " nft add rule ip other c tcp dport 9 accept");
  Nft nft = open_reset();
  std::string text = rules(nft);
  CHECK(contains(text, "table ip berth"));
  CHECK(contains(text, "type nat hook prerouting priority dstnat"));
  CHECK(contains(text, "type nat hook output priority -100"));
  CHECK(contains(text, "type nat hook postrouting priority srcnat"));
  CHECK(contains(text, "type filter hook forward priority filter; policy accept"));
  CHECK(contains(text, "iifname != \"lo\" ip daddr 127.0.0.0/8 drop"));

  REQUIRE(nft.add_network("stale", "10.98.0.0/16", "br-old").ok());
  REQUIRE(contains(rules(nft), "berth net stale"));
  REQUIRE(nft.reset().ok());
  CHECK_FALSE(contains(rules(nft), "berth net stale"));
  CHECK(contains(rules(nft), "chain postrouting"));

  REQUIRE(nft.remove_table().ok());
  CHECK_FALSE(nft.ruleset().ok());
  CHECK(nft.remove_table().ok());
  auto other = run({"nft", "list", "table", "ip", "other"});
  CHECK(other.status == 0);
  CHECK(contains(other.out, "tcp dport 9 accept"));
}

TEST_CASE("net nft add_network masquerades the subnet leaving other interfaces; remove_network takes it away") {
  FreshNetns netns;
  Nft nft = open_reset();
  REQUIRE(nft.add_network("n1", "10.99.0.0/24", "br-t").ok());
  REQUIRE(nft.add_network("n2", "10.97.3.4/16", "br-two").ok());
  // A second add for the same id replaces the first.
  REQUIRE(nft.add_network("n1", "10.99.0.0/24", "br-t").ok());
  std::string text = rules(nft);
  CHECK(count(text, "ip saddr 10.99.0.0/24 oifname != \"br-t\" masquerade comment \"berth net n1\"") == 1);
  CHECK(contains(text, "ip saddr 10.97.0.0/16 oifname != \"br-two\" masquerade comment \"berth net n2\""));

  REQUIRE(nft.remove_network("n1").ok());
  text = rules(nft);
  CHECK_FALSE(contains(text, "berth net n1"));
  CHECK(contains(text, "berth net n2"));
  CHECK(nft.remove_network("n1").ok());

  auto bad = nft.add_network("n3", "10.99.0.0/33", "br-t");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "add NAT for network n3: invalid subnet \"10.99.0.0/33\"");
  bad = nft.add_network("n3", "10.99.0.0/24", "br\"; flush ruleset");
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error().message(), "invalid interface name"));
  CHECK_FALSE(contains(rules(nft), "berth net n3"));
}

TEST_CASE("net nft an internal network: no masquerade, no forwarding in or out of its bridge") {
  FreshNetns netns;
  Nft nft = open_reset();
  REQUIRE(nft.add_network("n4", "10.96.0.0/24", "br-int", true).ok());
  std::string text = rules(nft);
  CHECK(contains(text, "iifname \"br-int\" oifname != \"br-int\" drop comment \"berth net n4\""));
  CHECK(contains(text, "oifname \"br-int\" iifname != \"br-int\" drop comment \"berth net n4\""));
  CHECK_FALSE(contains(text, "10.96.0.0/24 oifname != \"br-int\" masquerade"));
  REQUIRE(nft.remove_network("n4").ok());
  CHECK_FALSE(contains(rules(nft), "berth net n4"));
}

TEST_CASE("net nft published ports answer over tcp and udp until remove_ports") {
  FreshNetns netns;
  ContainerNetns ctr;
  make_topology(ctr);
  REQUIRE(berth::net::enable_ip_forward().ok());
  CHECK(slurp("/proc/sys/net/ipv4/ip_forward") == "1\n");
  Nft nft = open_reset();

  UniqueFd tcp_server, udp_server, hairpin_client;
  ctr.run([&] {
    tcp_server = serve(SOCK_STREAM, 80);
    udp_server = serve(SOCK_DGRAM, 53);
    hairpin_client = make_socket(SOCK_STREAM);
  });
  auto r = nft.add_ports("c1", "10.99.0.2", "br-t", {mapping(Proto::tcp, 8080, 80), mapping(Proto::udp, 5353, 53)});
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  // Another container's rules, which remove_ports("c1") must leave alone.
  REQUIRE(nft.add_ports("c2", "10.99.0.3", "br-t", {mapping(Proto::tcp, 9090, 90)}).ok());
  REQUIRE(nft.add_ports("c2", "10.99.0.3", "br-t", {mapping(Proto::tcp, 9090, 90)}).ok());
  CHECK(count(rules(nft), "dnat to 10.99.0.3:90 comment") == 2);  // replaced, not doubled: prerouting + output
  CHECK(slurp("/proc/sys/net/ipv4/conf/br-t/route_localnet") == "1\n");

  CHECK(tcp_exchange(make_socket(SOCK_STREAM), "127.0.0.1", 8080, tcp_server.get()) == "pong");
  CHECK(tcp_exchange(make_socket(SOCK_STREAM), "10.99.0.1", 8080, tcp_server.get()) == "pong");
  CHECK(tcp_exchange(std::move(hairpin_client), "10.99.0.1", 8080, tcp_server.get()) == "pong");
  CHECK(udp_exchange("127.0.0.1", 5353, udp_server.get()) == "pong");
  CHECK(udp_exchange("10.99.0.1", 5353, udp_server.get()) == "pong");

  REQUIRE(nft.remove_ports("c1").ok());
  std::string text = rules(nft);
  CHECK_FALSE(contains(text, "berth ports c1\""));
  CHECK(contains(text, "dnat to 10.99.0.3:90 comment \"berth ports c2\""));
  CHECK(tcp_exchange(make_socket(SOCK_STREAM), "127.0.0.1", 8080, tcp_server.get()).empty());
  CHECK(tcp_exchange(make_socket(SOCK_STREAM), "10.99.0.1", 8080, tcp_server.get()).empty());
  CHECK(udp_exchange("127.0.0.1", 5353, udp_server.get()).empty());
}

TEST_CASE("net nft a mapping bound to one host address only answers there") {
  FreshNetns netns;
  ContainerNetns ctr;
  make_topology(ctr);
  Nft nft = open_reset();
  UniqueFd tcp_server;
  ctr.run([&] { tcp_server = serve(SOCK_STREAM, 80); });
  PortMapping m = mapping(Proto::tcp, 8080, 80);
  m.host_ip = "10.99.0.1";
  REQUIRE(nft.add_ports("c1", "10.99.0.2", "br-t", {m}).ok());
  CHECK(slurp("/proc/sys/net/ipv4/conf/br-t/route_localnet") == "0\n");
  CHECK(tcp_exchange(make_socket(SOCK_STREAM), "10.99.0.1", 8080, tcp_server.get()) == "pong");
  CHECK(tcp_exchange(make_socket(SOCK_STREAM), "127.0.0.1", 8080, tcp_server.get()).empty());
}

TEST_CASE("net nft a failed add_ports leaves no rule behind") {
  FreshNetns netns;
  sh("ip link add br-t type bridge");
  Nft nft = open_reset();
  const std::string before = rules(nft);

  auto bad = nft.add_ports("c1", "10.99.0.300", "br-t", {mapping(Proto::tcp, 8080, 80)});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "publish ports of container c1: invalid container IP \"10.99.0.300\"");
  bad = nft.add_ports("c1", "10.99.0.2", "br-t", {mapping(Proto::tcp, 0, 80)});
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error().message(), "has no port chosen"));
  CHECK(rules(nft) == before);

  // The kernel refuses the output rules after accepting the prerouting ones in the same
  // transaction: nothing of it may stay.
  sh("nft delete chain ip berth output");
  bad = nft.add_ports("c1", "10.99.0.2", "br-t", {mapping(Proto::tcp, 8080, 80)});
  REQUIRE_FALSE(bad.ok());
  INFO(bad.error().message());
  CHECK(contains(bad.error().message(), "publish ports of container c1: nftables: "));
  CHECK(contains(bad.error().message(), "Could not process rule: No such file or directory (add rule ip berth "));
  CHECK_FALSE(contains(rules(nft), "berth ports c1"));
}

TEST_CASE("net nft check_port_free and pick_free_port") {
  FreshNetns netns;
  sh("ip link set lo up");
  auto port = berth::net::pick_free_port(Proto::tcp, "127.0.0.1");
  REQUIRE(port.ok());
  CHECK(*port != 0);
  CHECK(berth::net::check_port_free(Proto::tcp, std::nullopt, *port).ok());

  UniqueFd listener = serve(SOCK_STREAM, *port);
  auto busy = berth::net::check_port_free(Proto::tcp, std::nullopt, *port);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().message() == "port " + std::to_string(*port) + "/tcp on 0.0.0.0 is already in use");
  busy = berth::net::check_port_free(Proto::tcp, "127.0.0.1", *port);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().message() == "port " + std::to_string(*port) + "/tcp on 127.0.0.1 is already in use");
  CHECK(berth::net::check_port_free(Proto::udp, std::nullopt, *port).ok());

  listener.reset();
  CHECK(berth::net::check_port_free(Proto::tcp, std::nullopt, *port).ok());
  CHECK_FALSE(berth::net::check_port_free(Proto::tcp, "10.0.0.256", 80).ok());
}

TEST_CASE("net parse_port_spec") {
  using berth::net::parse_port_spec;
  CHECK(*parse_port_spec("8080:80") == PortMapping{Proto::tcp, std::nullopt, 8080, 80});
  CHECK(*parse_port_spec("127.0.0.1:8080:80/udp") == PortMapping{Proto::udp, "127.0.0.1", 8080, 80});
  CHECK(*parse_port_spec("80") == PortMapping{Proto::tcp, std::nullopt, 0, 80});
  CHECK(*parse_port_spec("53/udp") == PortMapping{Proto::udp, std::nullopt, 0, 53});
  CHECK(*parse_port_spec("10.0.0.1::80") == PortMapping{Proto::tcp, "10.0.0.1", 0, 80});
  CHECK(*parse_port_spec("65535:1/tcp") == PortMapping{Proto::tcp, std::nullopt, 65535, 1});

  auto error = [](std::string_view spec) {
    auto r = parse_port_spec(spec);
    return r.ok() ? std::string("accepted") : r.error().message();
  };
  CHECK(error("8080:80/sctp") == "invalid port spec \"8080:80/sctp\": unknown protocol \"sctp\" (want tcp or udp)");
  CHECK(error("8080:0") == "invalid port spec \"8080:0\": container port \"0\" is not a port number (1-65535)");
  CHECK(error("70000:80") == "invalid port spec \"70000:80\": host port \"70000\" is not a port number (1-65535)");
  CHECK(error("") == "invalid port spec \"\": container port \"\" is not a port number (1-65535)");
  CHECK(error("http") == "invalid port spec \"http\": container port \"http\" is not a port number (1-65535)");
  CHECK(error("8000-8010:80") == "invalid port spec \"8000-8010:80\": port ranges are not supported");
  CHECK(error("1.2.3:80:80") == "invalid port spec \"1.2.3:80:80\": host IP \"1.2.3\" is not an IPv4 address");
  CHECK(error("::1:80:80") ==
        "invalid port spec \"::1:80:80\": too many ':' (IPv6 host addresses are not supported)");
}
