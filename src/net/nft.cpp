#include "net/nft.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

namespace berth::net {

namespace {

constexpr std::string_view kFamilyTable = "ip berth";

// Names end up inside nft scripts and /proc paths: allowing only this set keeps
// quotes, spaces, newlines and slashes (script or path injection) out.
bool safe_name(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len || s == "." || s == "..") return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

Status check_id(std::string_view what, const std::string& id) {
  // nft comments hold at most 128 bytes, "berth ports " included.
  if (!safe_name(id, 100)) return make_error("invalid ", what, " ", quote(id));
  return {};
}

Status check_ifname(const std::string& name) {
  if (!safe_name(name, 15)) return make_error("invalid interface name ", quote(name));
  return {};
}

// Addresses are checked here, not by nft: nft would try to resolve a bad one as a host name.
std::optional<in_addr> parse_ipv4(const std::string& s) {
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return a;
}

std::string format_ipv4(in_addr a) {
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

// "10.88.0.7/16" -> "10.88.0.0/16" (nft wants the network address).
Result<std::string> normalize_subnet(const std::string& subnet) {
  auto slash = subnet.find('/');
  auto addr = parse_ipv4(subnet.substr(0, slash));
  auto len = slash == std::string::npos ? std::nullopt : parse_int<int>(subnet.substr(slash + 1));
  if (!addr || !len || *len < 0 || *len > 32) return make_error("invalid subnet ", quote(subnet));
  uint32_t mask = *len == 0 ? 0 : ~uint32_t{0} << (32 - *len);
  addr->s_addr = htonl(ntohl(addr->s_addr) & mask);
  return cat(format_ipv4(*addr), "/", *len);
}

bool binds_any(const std::optional<std::string>& host_ip) { return !host_ip || *host_ip == "0.0.0.0"; }

bool binds_loopback(const std::optional<std::string>& host_ip) {
  return binds_any(host_ip) || starts_with(*host_ip, "127.");
}

std::string port_label(Proto proto, const std::optional<std::string>& host_ip, uint16_t port) {
  return cat("port ", port, "/", proto_name(proto), " on ", host_ip ? *host_ip : "0.0.0.0");
}

// nft's error buffer repeats each failing command with a caret line under it:
//   /dev/stdin:3:19-19: Error: Could not process rule: No such file or directory
//   add rule ip berth y accept
//                     ^
// Keep "message (command)" per error, without the position noise.
std::string condense_errors(std::string_view text) {
  auto lines = split(text, '\n');
  std::vector<std::string> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto at = lines[i].find("Error: ");
    if (at == std::string::npos) continue;
    std::string msg = lines[i].substr(at + 7);
    if (i + 1 < lines.size() && !trim(lines[i + 1]).empty()) msg += cat(" (", trim(lines[i + 1]), ")");
    out.push_back(std::move(msg));
  }
  return out.empty() ? std::string(trim(text)) : join(out, "; ");
}

// Socket of `proto` bound to host_ip:port; the error names the address.
Result<UniqueFd> bind_port(Proto proto, const std::optional<std::string>& host_ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (!binds_any(host_ip)) {
    auto a = parse_ipv4(*host_ip);
    if (!a) return make_error("invalid host IP ", quote(*host_ip));
    sa.sin_addr = *a;
  }
  int type = proto == Proto::tcp ? SOCK_STREAM : SOCK_DGRAM;
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket for ", port_label(proto, host_ip, port));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno == EADDRINUSE) return make_error(port_label(proto, host_ip, port), " is already in use");
    return sys_error("bind ", port_label(proto, host_ip, port));
  }
  return fd;
}

}  // namespace

std::string_view proto_name(Proto p) { return p == Proto::tcp ? "tcp" : "udp"; }

Result<PortMapping> parse_port_spec(std::string_view spec) {
  auto bad = [&](std::string_view why) { return make_error("invalid port spec ", quote(spec), ": ", why); };
  PortMapping m;
  std::string_view rest = spec;
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    auto proto = rest.substr(slash + 1);
    if (proto == "tcp") m.proto = Proto::tcp;
    else if (proto == "udp") m.proto = Proto::udp;
    else return bad(cat("unknown protocol ", quote(proto), " (want tcp or udp)"));
    rest = rest.substr(0, slash);
  }
  auto parts = split(rest, ':');
  if (parts.size() > 3) return bad("too many ':' (IPv6 host addresses are not supported)");
  auto port = [&](const std::string& s, std::string_view what) -> Result<uint16_t> {
    if (s.find('-') != std::string::npos) return bad("port ranges are not supported");
    auto v = parse_int<uint16_t>(s);
    if (!v || *v == 0) return bad(cat(what, " ", quote(s), " is not a port number (1-65535)"));
    return *v;
  };
  auto cport = port(parts.back(), "container port");
  if (!cport) return cport.error();
  m.container_port = *cport;
  if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) {
    auto hport = port(parts[parts.size() - 2], "host port");
    if (!hport) return hport.error();
    m.host_port = *hport;
  }
  if (parts.size() == 3) {
    if (!parse_ipv4(parts[0])) return bad(cat("host IP ", quote(parts[0]), " is not an IPv4 address"));
    m.host_ip = parts[0];
  }
  return m;
}

Status check_port_free(Proto proto, const std::optional<std::string>& host_ip, uint16_t port) {
  auto fd = bind_port(proto, host_ip, port);
  if (!fd) return fd.error();
  return {};
}

Result<uint16_t> pick_free_port(Proto proto, const std::optional<std::string>& host_ip) {
  auto fd = bind_port(proto, host_ip, 0);
  if (!fd) return fd.error();
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd->get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return sys_error("getsockname for a free ", proto_name(proto), " port");
  return ntohs(sa.sin_port);
}

Status enable_ip_forward() { return write_file("/proc/sys/net/ipv4/ip_forward", "1"); }

void Nft::CtxFree::operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }

Result<Nft> Nft::open() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return make_error("create nftables context: out of memory");
  Nft nft(ctx);
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
    return make_error("create nftables context: cannot buffer output");
  return nft;
}

Result<std::string> Nft::run(const std::string& script, bool json) {
  nft_ctx_output_set_flags(ctx_.get(), json ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE : 0);
  int rc = nft_run_cmd_from_buffer(ctx_.get(), script.c_str());
  // Reading a buffer hands it back and starts a new one, so read both every time.
  std::string out = nft_ctx_get_output_buffer(ctx_.get());
  std::string err = nft_ctx_get_error_buffer(ctx_.get());
  if (rc != 0) return make_error("nftables: ", condense_errors(err));
  return out;
}

Status Nft::apply(const std::string& script, std::string_view what) {
  auto r = run(script, false);
  if (!r) return std::move(r).error().wrap(what);
  return {};
}

Status Nft::reset() {
  // "add" before "delete" makes the delete succeed on a clean start; all of it is one
  // transaction, so the table is never seen half-built.
  const std::string table = cat(" ", kFamilyTable, " ");
  auto script = cat("add table", table, "\ndelete table", table, "\nadd table", table, "\n",
                    "add chain", table, "prerouting { type nat hook prerouting priority dstnat; }\n",
                    "add chain", table, "output { type nat hook output priority -100; }\n",
                    "add chain", table, "postrouting { type nat hook postrouting priority srcnat; }\n",
                    "add chain", table, "forward { type filter hook forward priority filter; policy accept; }\n",
                    // Loopback addresses arrive only on lo: a packet for 127.0.0.1 from another
                    // interface (a neighbour's crafted frame) must never reach a loopback-published
                    // port through the DNAT below, nor, with route_localnet on a bridge, the host.
                    "add chain", table, "guard { type filter hook prerouting priority raw; }\n",
                    "add rule", table, "guard iifname != \"lo\" ip daddr 127.0.0.0/8 drop\n");
  return apply(script, "reset table ip berth");
}

Status Nft::remove_table() {
  return apply(cat("add table ", kFamilyTable, "\ndelete table ", kFamilyTable, "\n"), "remove table ip berth");
}

Result<std::string> Nft::delete_tagged(const std::string& tag) {
  auto out = run(cat("list table ", kFamilyTable), true);
  if (!out) return out.error();
  std::string script;
  try {
    auto listing = nlohmann::json::parse(*out);
    for (const auto& item : listing.at("nftables")) {
      if (!item.contains("rule")) continue;
      const auto& rule = item["rule"];
      if (rule.value("comment", "") != tag) continue;
      script += cat("delete rule ", kFamilyTable, " ", rule.at("chain").get<std::string>(), " handle ",
                    rule.at("handle").get<uint64_t>(), "\n");
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error("read rules of table ip berth: ", e.what());
  }
  return script;
}

Status Nft::remove_tagged(const std::string& tag, std::string_view what) {
  auto script = delete_tagged(tag);
  if (!script) return std::move(script).error().wrap(what);
  if (script->empty()) return {};
  return apply(*script, what);
}

Status Nft::add_network(const std::string& net_id, const std::string& subnet, const std::string& bridge,
                        bool internal) {
  auto ctx = cat("add NAT for network ", net_id);
  BERTH_TRY_CTX(check_id("network id", net_id), ctx);
  BERTH_TRY_CTX(check_ifname(bridge), ctx);
  auto net = normalize_subnet(subnet);
  if (!net) return std::move(net).error().wrap(ctx);
  auto tag = cat("berth net ", net_id);
  auto script = delete_tagged(tag);
  if (!script) return std::move(script).error().wrap(ctx);
  if (internal) {
    // Nothing in or out but between its own containers.
    for (const char* dir : {"iifname", "oifname"})
      *script += cat("add rule ", kFamilyTable, " forward ", dir, " \"", bridge, "\" ",
                     std::string_view(dir) == "iifname" ? "oifname" : "iifname", " != \"", bridge,
                     "\" drop comment \"", tag, "\"\n");
  } else {
    *script += cat("add rule ", kFamilyTable, " postrouting ip saddr ", *net, " oifname != \"", bridge,
                   "\" masquerade comment \"", tag, "\"\n");
  }
  return apply(*script, ctx);
}

Status Nft::remove_network(const std::string& net_id) {
  auto ctx = cat("remove NAT for network ", net_id);
  BERTH_TRY_CTX(check_id("network id", net_id), ctx);
  return remove_tagged(cat("berth net ", net_id), ctx);
}

Status Nft::add_ports(const std::string& container_id, const std::string& container_ip, const std::string& bridge,
                      const std::vector<PortMapping>& ports) {
  auto ctx = cat("publish ports of container ", container_id);
  BERTH_TRY_CTX(check_id("container id", container_id), ctx);
  BERTH_TRY_CTX(check_ifname(bridge), ctx);
  if (!parse_ipv4(container_ip)) return make_error("invalid container IP ", quote(container_ip)).wrap(ctx);
  auto tag = cat("berth ports ", container_id);
  if (ports.empty()) return remove_tagged(tag, ctx);
  auto script = delete_tagged(tag);
  if (!script) return std::move(script).error().wrap(ctx);

  auto rule = [&](std::string_view chain, std::string_view body) {
    *script += cat("add rule ", kFamilyTable, " ", chain, " ", body, " comment \"", tag, "\"\n");
  };
  bool loopback = false;
  for (const auto& p : ports) {
    if (p.host_port == 0 || p.container_port == 0)
      return make_error("port mapping ", p.host_port, ":", p.container_port, " has no port chosen").wrap(ctx);
    std::string daddr;
    if (!binds_any(p.host_ip)) {
      if (!parse_ipv4(*p.host_ip)) return make_error("invalid host IP ", quote(*p.host_ip)).wrap(ctx);
      daddr = cat("ip daddr ", *p.host_ip, " ");
    }
    loopback = loopback || binds_loopback(p.host_ip);
    auto proto = proto_name(p.proto);
    // prerouting: other hosts and other containers; output: the host itself.
    auto dnat = cat("fib daddr type local ", daddr, proto, " dport ", p.host_port, " dnat to ", container_ip, ":",
                    p.container_port);
    rule("prerouting", dnat);
    rule("output", dnat);
  }
  // A container reaching its own published port gets the request from its own address
  // and would answer itself directly; masquerading sends the answer back through the host.
  rule("postrouting", cat("ip saddr ", container_ip, " ip daddr ", container_ip, " ct status dnat masquerade"));
  if (loopback) {
    // 127.0.0.1 means the container's own loopback once inside it.
    rule("postrouting",
         cat("oifname \"", bridge, "\" ip saddr 127.0.0.0/8 ip daddr ", container_ip, " ct status dnat masquerade"));
    // Without route_localnet the kernel drops 127.0.0.0/8-sourced packets routed to the bridge.
    BERTH_TRY_CTX(write_file(cat("/proc/sys/net/ipv4/conf/", bridge, "/route_localnet"), "1"), ctx);
  }
  return apply(*script, ctx);
}

Status Nft::remove_ports(const std::string& container_id) {
  auto ctx = cat("unpublish ports of container ", container_id);
  BERTH_TRY_CTX(check_id("container id", container_id), ctx);
  return remove_tagged(cat("berth ports ", container_id), ctx);
}

Result<std::string> Nft::ruleset() {
  auto r = run(cat("list table ", kFamilyTable), false);
  if (!r) return std::move(r).error().wrap("list table ip berth");
  return r;
}

}  // namespace berth::net
