#include "net/netlink.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace berth::net {

// ---- Ipv4 / Ipv4Net ----

Result<Ipv4> Ipv4::parse(std::string_view s) {
  auto bad = [&] { return make_error("invalid IPv4 address ", quote(s)); };
  auto parts = split(s, '.');
  if (parts.size() != 4) return bad();
  uint32_t v = 0;
  for (const auto& p : parts) {
    // Leading zeros are refused: inet_aton would read "010" as octal.
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return bad();
    auto octet = parse_int<uint32_t>(p);
    if (!octet || *octet > 255) return bad();
    v = (v << 8) | *octet;
  }
  return Ipv4(v);
}

std::string Ipv4::to_string() const {
  return cat(v_ >> 24, '.', (v_ >> 16) & 0xff, '.', (v_ >> 8) & 0xff, '.', v_ & 0xff);
}

Result<Ipv4Net> Ipv4Net::make(Ipv4 address, int prefix) {
  if (prefix < 0 || prefix > 32)
    return make_error("invalid subnet ", address.to_string(), "/", prefix, ": prefix length out of range");
  return Ipv4Net(address, prefix);
}

Result<Ipv4Net> Ipv4Net::parse(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return make_error("invalid subnet ", s, ": missing prefix length");
  auto addr = Ipv4::parse(s.substr(0, slash));
  if (!addr) return std::move(addr).error().wrap(cat("invalid subnet ", s));
  auto prefix = parse_int<int>(s.substr(slash + 1));
  if (!prefix || *prefix < 0 || *prefix > 32) return make_error("invalid subnet ", s, ": prefix length out of range");
  return Ipv4Net(*addr, *prefix);
}

uint32_t Ipv4Net::mask() const { return prefix_ == 0 ? 0 : ~uint32_t{0} << (32 - prefix_); }
Ipv4 Ipv4Net::network() const { return Ipv4(address_.value() & mask()); }
Ipv4 Ipv4Net::broadcast() const { return Ipv4(address_.value() | ~mask()); }
bool Ipv4Net::contains(Ipv4 addr) const { return (addr.value() & mask()) == network().value(); }
bool Ipv4Net::overlaps(const Ipv4Net& other) const { return contains(other.network()) || other.contains(network()); }

uint32_t Ipv4Net::host_count() const {
  if (prefix_ >= 31) return 0;
  return static_cast<uint32_t>((uint64_t{1} << (32 - prefix_)) - 2);
}

Result<Ipv4> Ipv4Net::host(uint32_t n) const {
  if (n == 0 || n > host_count()) return make_error("subnet ", canonical().to_string(), " has no host number ", n);
  return Ipv4(network().value() + n);
}

std::string Ipv4Net::to_string() const { return cat(address_.to_string(), "/", prefix_); }

// ---- rtnetlink messages ----

namespace {

constexpr size_t kReceiveBuffer = 1 << 16;  // a dump part never exceeds this

// Calls fn(type, payload, length) for each attribute in [data, data+len).
template <class F>
void for_each_attr(const void* data, size_t len, F&& fn) {
  auto* p = static_cast<const char*>(data);
  while (len >= sizeof(rtattr)) {
    auto* a = reinterpret_cast<const rtattr*>(p);
    if (a->rta_len < sizeof(rtattr) || a->rta_len > len) return;
    fn(a->rta_type & NLA_TYPE_MASK, p + RTA_LENGTH(0), a->rta_len - RTA_LENGTH(0));
    size_t step = RTA_ALIGN(a->rta_len);
    if (step >= len) return;
    p += step;
    len -= step;
  }
}

// The attributes after a message's fixed family header T.
template <class T>
std::pair<const void*, size_t> attrs_of(const nlmsghdr* h) {
  size_t fixed = NLMSG_LENGTH(sizeof(T));
  if (h->nlmsg_len < fixed) return {nullptr, 0};
  return {reinterpret_cast<const char*>(h) + NLMSG_ALIGN(fixed), h->nlmsg_len - NLMSG_ALIGN(fixed)};
}

template <class T>
const T* header_of(const nlmsghdr* h) {
  return h->nlmsg_len < NLMSG_LENGTH(sizeof(T)) ? nullptr : static_cast<const T*>(NLMSG_DATA(h));
}

std::string attr_string(const char* data, size_t len) { return std::string(data, strnlen(data, len)); }

uint32_t attr_u32(const char* data, size_t len) {
  uint32_t v = 0;
  if (len >= sizeof v) std::memcpy(&v, data, sizeof v);
  return v;
}

Ipv4 attr_ipv4(const char* data, size_t len) { return Ipv4(ntohl(attr_u32(data, len))); }

// Runs `fn` on a short-lived thread, so a namespace it enters (setns,
// unshare) dies with that thread and the caller's thread never moves.
template <class F>
auto on_own_thread(F fn) -> decltype(fn()) {
  std::optional<decltype(fn())> out;
  try {
    std::thread([&] { out.emplace(fn()); }).join();
  } catch (const std::system_error& e) {
    return Error(e.code().value(), "start a thread to switch network namespace");
  }
  return std::move(*out);
}

}  // namespace

// A request under construction: nlmsghdr, the family header, attributes.
class RtNetlink::Request {
 public:
  Request(uint16_t type, uint16_t flags) : dump_(false) { start(type, flags); }
  // NLM_F_DUMP shares its bits with NLM_F_EXCL, so a dump is marked explicitly.
  static Request dump(uint16_t type) { return Request(type); }

  template <class T>
  void header(const T& fixed) {
    append(&fixed, sizeof fixed);
  }
  void attr(uint16_t type, const void* data, size_t len) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    append(&a, sizeof a);
    append(data, len);
  }
  void attr(uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
  void attr_u32(uint16_t type, uint32_t v) { attr(type, &v, sizeof v); }
  void attr_ipv4(uint16_t type, Ipv4 a) { attr_u32(type, htonl(a.value())); }
  // A nested attribute: attributes appended until end_nested() are inside it.
  size_t begin_nested(uint16_t type) {
    size_t at = buf_.size();
    attr(type, nullptr, 0);
    return at;
  }
  void end_nested(size_t at) {
    auto len = static_cast<uint16_t>(buf_.size() - at);
    std::memcpy(buf_.data() + at + offsetof(rtattr, rta_len), &len, sizeof len);
  }
  // Stamps length and sequence number; returns the bytes to send.
  std::string_view finish(uint32_t seq) {
    auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
    h->nlmsg_len = static_cast<uint32_t>(buf_.size());
    h->nlmsg_seq = seq;
    return {buf_.data(), buf_.size()};
  }
  bool is_dump() const { return dump_; }

 private:
  explicit Request(uint16_t type) : dump_(true) { start(type, NLM_F_DUMP); }
  void start(uint16_t type, uint16_t flags) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    append(&h, sizeof h);
  }
  void append(const void* data, size_t len) {
    if (len) buf_.insert(buf_.end(), static_cast<const char*>(data), static_cast<const char*>(data) + len);
    buf_.resize(NLMSG_ALIGN(buf_.size()));
  }
  bool dump_;
  std::vector<char> buf_;
};

Result<RtNetlink> RtNetlink::open() {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return sys_error("open rtnetlink socket");
  UniqueFd sock(fd);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("bind rtnetlink socket");
  return RtNetlink(std::move(sock));
}

Result<RtNetlink> RtNetlink::open_in(int netns_fd) {
  return on_own_thread([netns_fd]() -> Result<RtNetlink> {
    if (::setns(netns_fd, CLONE_NEWNET) < 0) return sys_error("enter network namespace (fd ", netns_fd, ")");
    return open();
  });
}

template <class F>
Status RtNetlink::transact(Request& req, const std::string& what, F&& on_reply) {
  uint32_t seq = ++seq_;
  bool dump = req.is_dump();
  auto bytes = req.finish(seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return sys_error(what, ": send netlink request");

  std::vector<char> buf(kReceiveBuffer);
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(what, ": receive netlink reply");
    }
    auto left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue;  // a late reply to an earlier, failed request
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = header_of<nlmsgerr>(h);
        if (!e) return make_error(what, ": truncated netlink error");
        if (e->error != 0) return Error(-e->error, what);
        if (!dump) return {};
        continue;
      }
      if (h->nlmsg_type == NLMSG_DONE) {
        // A dump's DONE carries its status; a failed dump ends with it.
        auto* status = header_of<int>(h);
        if (status && *status < 0) return Error(-*status, what);
        return {};
      }
      on_reply(h);
    }
  }
}

Status RtNetlink::transact(Request& req, const std::string& what) {
  return transact(req, what, [](const nlmsghdr*) {});
}

Result<int> RtNetlink::index_of(const std::string& link) {
  Request req(RTM_GETLINK, NLM_F_ACK);
  req.header(ifinfomsg{});
  req.attr(IFLA_IFNAME, link);
  int index = 0;
  BERTH_TRY(transact(req, cat("link ", link), [&](const nlmsghdr* h) {
    if (auto* ifi = header_of<ifinfomsg>(h); ifi && h->nlmsg_type == RTM_NEWLINK) index = ifi->ifi_index;
  }));
  if (index == 0) return Error(ENODEV, cat("link ", link));
  return index;
}

Status RtNetlink::create_bridge(const std::string& name) {
  Request req(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  req.header(ifinfomsg{});
  req.attr(IFLA_IFNAME, name);
  auto info = req.begin_nested(IFLA_LINKINFO);
  req.attr(IFLA_INFO_KIND, std::string("bridge"));
  req.end_nested(info);
  return transact(req, cat("create bridge ", name));
}

Status RtNetlink::create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd) {
  Request req(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  req.header(ifinfomsg{});
  req.attr(IFLA_IFNAME, name);
  auto info = req.begin_nested(IFLA_LINKINFO);
  req.attr(IFLA_INFO_KIND, std::string("veth"));
  auto data = req.begin_nested(IFLA_INFO_DATA);
  // The peer is described like a link of its own: an ifinfomsg, then its attributes.
  auto peer = req.begin_nested(VETH_INFO_PEER);
  req.header(ifinfomsg{});
  req.attr(IFLA_IFNAME, peer_name);
  req.attr_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  req.end_nested(peer);
  req.end_nested(data);
  req.end_nested(info);
  return transact(req, cat("create veth ", name, " with peer ", peer_name));
}

Status RtNetlink::set_master(const std::string& link, const std::string& bridge) {
  std::string what = cat("set master of ", link, " to ", bridge);
  auto master = index_of(bridge);
  if (!master) return Error(master.error().code(), what);
  Request req(RTM_SETLINK, NLM_F_ACK);
  req.header(ifinfomsg{});
  req.attr(IFLA_IFNAME, link);
  req.attr_u32(IFLA_MASTER, static_cast<uint32_t>(*master));
  return transact(req, what);
}

Status RtNetlink::set_hairpin(const std::string& link) {
  // A bridge port's settings are link messages of the bridge family, which
  // names the port by index only.
  std::string what = cat("set hairpin mode on ", link);
  auto index = index_of(link);
  if (!index) return Error(index.error().code(), what);
  Request req(RTM_SETLINK, NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_BRIDGE;
  ifi.ifi_index = *index;
  req.header(ifi);
  size_t nest = req.begin_nested(IFLA_PROTINFO | NLA_F_NESTED);
  uint8_t on = 1;
  req.attr(IFLA_BRPORT_MODE, &on, sizeof on);
  req.end_nested(nest);
  return transact(req, what);
}

Status RtNetlink::set_up(const std::string& link) {
  Request req(RTM_SETLINK, NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;
  req.header(ifi);
  req.attr(IFLA_IFNAME, link);
  return transact(req, cat("set ", link, " up"));
}

Status RtNetlink::delete_link(const std::string& link) {
  Request req(RTM_DELLINK, NLM_F_ACK);
  req.header(ifinfomsg{});
  req.attr(IFLA_IFNAME, link);
  return transact(req, cat("delete link ", link));
}

Result<bool> RtNetlink::link_exists(const std::string& link) {
  auto index = index_of(link);
  if (index) return true;
  if (index.error().code() == ENODEV) return false;
  return std::move(index).error();
}

Status RtNetlink::add_address(const std::string& link, const Ipv4Net& address) {
  std::string what = cat("add address ", address.to_string(), " to ", link);
  auto index = index_of(link);
  if (!index) return Error(index.error().code(), what);
  Request req(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = static_cast<uint8_t>(address.prefix());
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<uint32_t>(*index);
  req.header(ifa);
  req.attr_ipv4(IFA_LOCAL, address.address());
  req.attr_ipv4(IFA_ADDRESS, address.address());
  if (address.host_count() > 0) req.attr_ipv4(IFA_BROADCAST, address.broadcast());
  return transact(req, what);
}

Status RtNetlink::add_default_route(Ipv4 gateway) {
  Request req(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_BOOT;
  rt.rtm_scope = RT_SCOPE_UNIVERSE;
  rt.rtm_type = RTN_UNICAST;
  req.header(rt);
  req.attr_ipv4(RTA_GATEWAY, gateway);
  return transact(req, cat("add default route via ", gateway.to_string()));
}

Result<std::vector<LinkInfo>> RtNetlink::links() {
  auto req = Request::dump(RTM_GETLINK);
  req.header(ifinfomsg{});
  std::vector<LinkInfo> out;
  BERTH_TRY(transact(req, "list links", [&](const nlmsghdr* h) {
    auto* ifi = header_of<ifinfomsg>(h);
    if (!ifi || h->nlmsg_type != RTM_NEWLINK) return;
    LinkInfo link;
    link.index = ifi->ifi_index;
    link.up = ifi->ifi_flags & IFF_UP;
    auto [attrs, len] = attrs_of<ifinfomsg>(h);
    for_each_attr(attrs, len, [&](int type, const char* data, size_t n) {
      if (type == IFLA_IFNAME) link.name = attr_string(data, n);
      if (type == IFLA_MASTER) link.master_index = static_cast<int>(attr_u32(data, n));
      if (type == IFLA_LINKINFO)
        for_each_attr(data, n, [&](int t, const char* d, size_t dn) {
          if (t == IFLA_INFO_KIND) link.kind = attr_string(d, dn);
        });
    });
    out.push_back(std::move(link));
  }));
  return out;
}

Result<std::vector<Ipv4Net>> RtNetlink::addresses(const std::string& link) {
  std::string what = cat("list addresses of ", link);
  auto index = index_of(link);
  if (!index) return Error(index.error().code(), what);
  auto req = Request::dump(RTM_GETADDR);
  ifaddrmsg filter{};
  filter.ifa_family = AF_INET;
  req.header(filter);
  std::vector<Ipv4Net> out;
  BERTH_TRY(transact(req, what, [&](const nlmsghdr* h) {
    auto* ifa = header_of<ifaddrmsg>(h);
    // Dumps are not filtered by the kernel unless strict checking is on.
    if (!ifa || h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
        ifa->ifa_index != static_cast<uint32_t>(*index))
      return;
    std::optional<Ipv4> local, address;
    auto [attrs, len] = attrs_of<ifaddrmsg>(h);
    for_each_attr(attrs, len, [&](int type, const char* data, size_t n) {
      if (type == IFA_LOCAL) local = attr_ipv4(data, n);
      if (type == IFA_ADDRESS) address = attr_ipv4(data, n);
    });
    // IFA_ADDRESS is the peer on point-to-point links; IFA_LOCAL is ours.
    if (auto a = local ? local : address)
      out.push_back(*Ipv4Net::make(*a, ifa->ifa_prefixlen));
  }));
  return out;
}

Result<std::optional<Ipv4>> RtNetlink::default_gateway() {
  auto req = Request::dump(RTM_GETROUTE);
  rtmsg filter{};
  filter.rtm_family = AF_INET;
  req.header(filter);
  std::optional<Ipv4> gateway;
  BERTH_TRY(transact(req, "list routes", [&](const nlmsghdr* h) {
    auto* rt = header_of<rtmsg>(h);
    if (!rt || h->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != AF_INET || rt->rtm_dst_len != 0 ||
        rt->rtm_type != RTN_UNICAST)
      return;
    uint32_t table = rt->rtm_table;
    std::optional<Ipv4> via;
    auto [attrs, len] = attrs_of<rtmsg>(h);
    for_each_attr(attrs, len, [&](int type, const char* data, size_t n) {
      if (type == RTA_TABLE) table = attr_u32(data, n);
      if (type == RTA_GATEWAY) via = attr_ipv4(data, n);
    });
    if (table == RT_TABLE_MAIN && via) gateway = via;
  }));
  return gateway;
}

// ---- network namespaces as files ----

Status create_netns(const std::string& path) {
  std::string what = cat("create network namespace ", path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return sys_error(what, ": create ", path);
  ::close(fd);
  Status st = on_own_thread([&]() -> Status {
    if (::unshare(CLONE_NEWNET) < 0) return sys_error("unshare network namespace");
    // The bind mount keeps the namespace alive after this thread is gone.
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0)
      return sys_error("bind mount on ", path);
    auto nl = RtNetlink::open();
    Status up = nl ? nl->set_up("lo") : Status(std::move(nl).error());
    if (!up) ::umount2(path.c_str(), MNT_DETACH);
    return up;
  });
  if (!st) {
    ::unlink(path.c_str());
    return std::move(st).error().wrap(what);
  }
  return {};
}

Status remove_netns(const std::string& path) {
  // EINVAL: not a mount point (a create that never got that far).
  if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return sys_error("remove network namespace ", path, ": unmount");
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys_error("remove network namespace ", path);
  return {};
}

// ---- bridges and endpoints ----

Status ensure_bridge(NetlinkClient& client, const std::string& name, const Ipv4Net& gateway) {
  std::string what = cat("set up bridge ", name);
  auto links = client.links();
  if (!links) return std::move(links).error().wrap(what);
  bool exists = false;
  for (const auto& l : *links) {
    if (l.name != name) continue;
    if (l.kind != "bridge") return make_error(what, ": link ", name, " exists and is not a bridge");
    exists = true;
  }
  if (!exists) BERTH_TRY_CTX(client.create_bridge(name), what);
  auto addrs = client.addresses(name);
  if (!addrs) return std::move(addrs).error().wrap(what);
  bool addressed = false;
  for (const auto& a : *addrs) addressed |= a == gateway;
  if (!addressed) BERTH_TRY_CTX(client.add_address(name, gateway), what);
  BERTH_TRY_CTX(client.set_up(name), what);
  return {};
}

namespace {

// The steps of connect_endpoint after the veth exists.
Status plug_in(NetlinkClient& host, NetlinkClient& container, const Endpoint& ep) {
  BERTH_TRY(host.set_master(ep.host_veth, ep.bridge));
  BERTH_TRY(host.set_hairpin(ep.host_veth));
  BERTH_TRY(host.set_up(ep.host_veth));
  BERTH_TRY(container.add_address(ep.container_ifname, ep.address));
  BERTH_TRY(container.set_up(ep.container_ifname));
  if (ep.default_route) BERTH_TRY(container.add_default_route(ep.gateway));
  return {};
}

}  // namespace

Status connect_endpoint(NetlinkClient& host, NetlinkClient& container, const Endpoint& ep) {
  std::string what = cat("connect ", ep.host_veth, " to bridge ", ep.bridge);
  BERTH_TRY_CTX(check_ifname(ep.host_veth), what);
  BERTH_TRY_CTX(check_ifname(ep.container_ifname), what);
  BERTH_TRY_CTX(host.create_veth(ep.host_veth, ep.container_ifname, ep.container_netns_fd), what);
  if (Status st = plug_in(host, container, ep); !st) {
    // The peer goes with the host end, so the container namespace is clean too.
    (void)host.delete_link(ep.host_veth);
    return std::move(st).error().wrap(what);
  }
  return {};
}

Status disconnect_endpoint(NetlinkClient& host, const std::string& host_veth) {
  Status st = host.delete_link(host_veth);
  if (!st && st.error().code() != ENODEV) return st;
  return {};
}

Result<std::string> host_veth_name(std::string_view container_id, unsigned index) {
  if (index >= 10000) return make_error("network index ", index, " of container ", container_id, " is out of range");
  std::string tag(container_id.substr(0, 7));
  bool hex_id = tag.size() == 7 && tag.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!hex_id) {
    // Not a docker-style id: FNV-1a keeps the name valid and still stable.
    uint32_t h = 2166136261u;
    for (unsigned char c : container_id) h = (h ^ c) * 16777619u;
    tag = hex(h).substr(2);
    tag.insert(0, 8 - tag.size(), '0');
    tag.resize(7);
  }
  return cat("veth", tag, index);
}

Status check_ifname(std::string_view name) {
  auto bad = [&](const char* why) { return make_error("invalid interface name ", quote(name), ": ", why); };
  if (name.empty()) return bad("empty");
  if (name.size() >= IFNAMSIZ) return bad("longer than 15 characters");
  if (name == "." || name == "..") return bad("reserved name");
  for (char c : name)
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\0')
      return bad("contains '/', ':', or whitespace");
  return {};
}

}  // namespace berth::net
