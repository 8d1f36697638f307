// rtnetlink against the real kernel: bridges, veths into namespace files,
// connect/disconnect of endpoints and traffic across the bridge. Every case
// first moves its thread into a fresh network namespace, so the host's own
// network is never touched; mounts of namespace files live in a TempDir.
#include "net/netlink.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth;
using namespace berth::net;
using berth::test::TempDir;

namespace {

std::string thread_netns() {
  char buf[64];
  ssize_t n = ::readlink("/proc/thread-self/ns/net", buf, sizeof buf - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

// Moves the calling thread into a new, empty network namespace and back on
// destruction; the namespace and everything in it go away with it.
class FreshNetns {
 public:
  FreshNetns() : saved_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    REQUIRE(saved_.valid());
    REQUIRE_MESSAGE(::unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): ", strerror(errno));
  }
  ~FreshNetns() {
    if (::setns(saved_.get(), CLONE_NEWNET) != 0) std::abort();  // never run later tests in the wrong netns
  }
  FreshNetns(const FreshNetns&) = delete;
  FreshNetns& operator=(const FreshNetns&) = delete;

 private:
  UniqueFd saved_;
};

// A namespace file made by create_netns, removed even when a check fails.
class NetnsFile {
 public:
  explicit NetnsFile(std::string path) : path_(std::move(path)) {
    auto st = create_netns(path_);
    REQUIRE_MESSAGE(st.ok(), st.error().message());
    auto fd = open_file(path_, O_RDONLY);
    REQUIRE_MESSAGE(fd.ok(), fd.error().message());
    fd_ = std::move(*fd);
  }
  ~NetnsFile() {
    fd_.reset();
    (void)remove_netns(path_);
  }
  NetnsFile(const NetnsFile&) = delete;
  NetnsFile& operator=(const NetnsFile&) = delete;
  int fd() const { return fd_.get(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

template <class T>
T must(Result<T> r) {
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(*r);
}

void must(const Status& st) { REQUIRE_MESSAGE(st.ok(), st.error().message()); }

Ipv4 ip(const char* s) { return *Ipv4::parse(s); }
Ipv4Net cidr(const char* s) { return *Ipv4Net::parse(s); }

std::optional<LinkInfo> find_link(NetlinkClient& nl, const std::string& name) {
  for (auto& l : must(nl.links()))
    if (l.name == name) return l;
  return std::nullopt;
}

std::vector<std::string> link_names(NetlinkClient& nl) {
  std::vector<std::string> out;
  for (auto& l : must(nl.links())) out.push_back(l.name);
  std::sort(out.begin(), out.end());
  return out;
}

sockaddr_in sockaddr_of(Ipv4 addr, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(addr.value());
  return sa;
}

// A UDP socket bound in the namespace `netns_fd` (sockets stay in the
// namespace they were made in, so only a helper thread has to enter it).
UniqueFd udp_socket_in(int netns_fd, Ipv4 addr, uint16_t port) {
  UniqueFd sock;
  std::string err;
  std::thread([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      err = cat("setns: ", strerror(errno));
      return;
    }
    sock.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa = sockaddr_of(addr, port);
    if (!sock || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      err = cat("bind: ", strerror(errno));
  }).join();
  REQUIRE_MESSAGE(err.empty(), err);
  return sock;
}

// Waits up to 5 s for a datagram; returns it and its sender.
std::string receive(int fd, sockaddr_in* from) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return "";
  char buf[64];
  socklen_t len = sizeof *from;
  ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(from), &len);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

Endpoint endpoint_for(int netns_fd, const std::string& bridge = "br-t0") {
  return Endpoint{bridge, "veth-t0", netns_fd, "eth0", cidr("10.77.0.2/24"), ip("10.77.0.1")};
}

}  // namespace

TEST_CASE("net rtnetlink: a container netns on a bridge, checked from inside, with traffic") {
  FreshNetns isolated;
  TempDir tmp("berth-net");
  NetnsFile ns(tmp / "c1");
  CHECK(test::count_mounts(tmp / "c1") == 1);

  auto host = must(RtNetlink::open());
  must(ensure_bridge(host, "br-t0", cidr("10.77.0.1/24")));
  must(ensure_bridge(host, "br-t0", cidr("10.77.0.1/24")));  // idempotent against the kernel too
  auto bridge = find_link(host, "br-t0");
  REQUIRE(bridge);
  CHECK(bridge->kind == "bridge");
  CHECK(bridge->up);
  CHECK(must(host.addresses("br-t0")) == std::vector<Ipv4Net>{cidr("10.77.0.1/24")});

  std::string before = thread_netns();
  auto ctr = must(RtNetlink::open_in(ns.fd()));
  CHECK(thread_netns() == before);
  auto lo = find_link(ctr, "lo");
  REQUIRE(lo);
  CHECK(lo->up);  // create_netns raised it
  CHECK(link_names(ctr) == std::vector<std::string>{"lo"});

  must(connect_endpoint(host, ctr, endpoint_for(ns.fd())));
  auto veth = find_link(host, "veth-t0");
  REQUIRE(veth);
  CHECK(veth->kind == "veth");
  CHECK(veth->up);
  CHECK(veth->master_index == bridge->index);
  CHECK(!find_link(host, "eth0"));
  // Hairpin mode on the bridge port, as iproute2 reads it back (this
  // thread's namespace is the child's too).
  CHECK(std::system("bridge -d link show dev veth-t0 | grep -q 'hairpin on'") == 0);

  auto eth0 = find_link(ctr, "eth0");
  REQUIRE(eth0);
  CHECK(eth0->kind == "veth");
  CHECK(eth0->up);
  CHECK(must(ctr.addresses("eth0")) == std::vector<Ipv4Net>{cidr("10.77.0.2/24")});
  CHECK(must(ctr.default_gateway()) == ip("10.77.0.1"));
  CHECK(must(host.default_gateway()) == std::nullopt);

  // A datagram from this namespace to the container over the bridge, and the
  // reply back, which needs the container's address and route.
  UniqueFd server = udp_socket_in(ns.fd(), ip("10.77.0.2"), 5353);
  UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(client.valid());
  sockaddr_in to = sockaddr_of(ip("10.77.0.2"), 5353);
  REQUIRE(::sendto(client.get(), "ping", 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 4);
  sockaddr_in from{};
  CHECK(receive(server.get(), &from) == "ping");
  CHECK(ntohl(from.sin_addr.s_addr) == ip("10.77.0.1").value());
  REQUIRE(::sendto(server.get(), "pong", 4, 0, reinterpret_cast<sockaddr*>(&from), sizeof from) == 4);
  sockaddr_in reply_from{};
  CHECK(receive(client.get(), &reply_from) == "pong");
  CHECK(ntohl(reply_from.sin_addr.s_addr) == ip("10.77.0.2").value());

  must(disconnect_endpoint(host, "veth-t0"));
  CHECK(!must(host.link_exists("veth-t0")));
  CHECK(!must(ctr.link_exists("eth0")));
  CHECK(link_names(ctr) == std::vector<std::string>{"lo"});
  must(disconnect_endpoint(host, "veth-t0"));
}

TEST_CASE("net rtnetlink: kernel errors name the operation") {
  FreshNetns isolated;
  auto nl = must(RtNetlink::open());
  must(nl.create_bridge("br-dup"));
  CHECK(must(nl.link_exists("br-dup")));
  CHECK(!must(nl.link_exists("nope")));

  auto st = nl.create_bridge("br-dup");
  REQUIRE(!st.ok());
  CHECK(st.error().code() == EEXIST);
  CHECK(st.error().message() == "create bridge br-dup: File exists");

  must(nl.add_address("br-dup", cidr("10.1.0.1/24")));
  st = nl.add_address("br-dup", cidr("10.1.0.1/24"));
  CHECK(st.error().message() == "add address 10.1.0.1/24 to br-dup: File exists");
  st = nl.add_address("nope", cidr("10.1.0.1/24"));
  CHECK(st.error().code() == ENODEV);
  CHECK(st.error().message() == "add address 10.1.0.1/24 to nope: No such device");
  CHECK(nl.delete_link("nope").error().message() == "delete link nope: No such device");
  CHECK(nl.set_up("nope").error().code() == ENODEV);
  // No route to the gateway: the kernel refuses the default route.
  CHECK(nl.add_default_route(ip("192.0.2.1")).error().message() ==
        "add default route via 192.0.2.1: Network is unreachable");

  // The socket is still in step after errors.
  must(nl.delete_link("br-dup"));
  CHECK(!must(nl.link_exists("br-dup")));
}

TEST_CASE("net rtnetlink: dumps that span several messages") {
  FreshNetns isolated;
  auto nl = must(RtNetlink::open());
  constexpr int kBridges = 150;  // far more than one 32 KiB dump part holds
  for (int i = 0; i < kBridges; ++i) must(nl.create_bridge(cat("br-many", i)));
  auto links = must(nl.links());
  CHECK(links.size() == kBridges + 1);  // and lo
  auto names = link_names(nl);
  CHECK(std::count_if(names.begin(), names.end(), [](const std::string& n) { return n.rfind("br-many", 0) == 0; }) ==
        kBridges);
  must(nl.add_address("br-many7", cidr("10.9.0.1/24")));
  must(nl.add_address("br-many7", cidr("10.9.1.1/24")));
  CHECK(must(nl.addresses("br-many7")) == std::vector<Ipv4Net>{cidr("10.9.0.1/24"), cidr("10.9.1.1/24")});
  CHECK(must(nl.addresses("br-many8")).empty());
}

TEST_CASE("net connect_endpoint failing midway leaves no veth") {
  FreshNetns isolated;
  TempDir tmp("berth-net");
  NetnsFile ns(tmp / "c1");
  auto host = must(RtNetlink::open());
  auto ctr = must(RtNetlink::open_in(ns.fd()));
  auto before = link_names(host);

  auto st = connect_endpoint(host, ctr, endpoint_for(ns.fd(), "no-bridge"));
  REQUIRE(!st.ok());
  CHECK(st.error().code() == ENODEV);
  CHECK(st.error().message() ==
        "connect veth-t0 to bridge no-bridge: set master of veth-t0 to no-bridge: No such device");
  CHECK(link_names(host) == before);
  CHECK(link_names(ctr) == std::vector<std::string>{"lo"});

  // A failure in the container namespace, after the veth exists, is undone
  // too: a default route already there makes the last step fail.
  must(ensure_bridge(host, "br-t0", cidr("10.77.0.1/24")));
  must(ensure_bridge(ctr, "br-c", cidr("10.55.0.1/24")));
  must(ctr.add_default_route(ip("10.55.0.2")));
  st = connect_endpoint(host, ctr, endpoint_for(ns.fd()));
  REQUIRE(!st.ok());
  CHECK(st.error().code() == EEXIST);
  CHECK(st.error().message() == "connect veth-t0 to bridge br-t0: add default route via 10.77.0.1: File exists");
  CHECK(!must(host.link_exists("veth-t0")));
  CHECK(link_names(ctr) == std::vector<std::string>{"br-c", "lo"});
}

TEST_CASE("net create_netns and remove_netns leave nothing behind") {
  FreshNetns isolated;
  TempDir tmp("berth-net");
  std::string path = tmp / "ns1";
  must(create_netns(path));
  CHECK(test::count_mounts(path) == 1);
  {
    auto fd = must(open_file(path, O_RDONLY));
    auto inside = must(RtNetlink::open_in(fd.get()));
    CHECK(link_names(inside) == std::vector<std::string>{"lo"});
  }
  must(remove_netns(path));
  CHECK(test::count_mounts(path) == 0);
  CHECK(!path_exists(path));
  must(remove_netns(path));  // already gone

  // An existing file is refused and left alone; a missing directory leaves nothing.
  REQUIRE(write_file(path, "keep", true).ok());
  auto st = create_netns(path);
  REQUIRE(!st.ok());
  CHECK(st.error().code() == EEXIST);
  CHECK(test::slurp(path) == "keep");
  CHECK(test::count_mounts(path) == 0);
  st = create_netns(tmp / "missing/ns2");
  REQUIRE(!st.ok());
  CHECK(st.error().code() == ENOENT);
  CHECK(test::contains(st.error().message(), "create network namespace " + (tmp / "missing/ns2")));
  CHECK(test::count_mounts(tmp.path()) == 0);
}
