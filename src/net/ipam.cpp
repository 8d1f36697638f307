#include "net/ipam.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/fs.hpp"

namespace berth::net {

struct Ipam::Network {
  Ipv4Net subnet;
  Ipv4 gateway;
  Ipv4 next;  // where the search for a free address starts
  Leases leases;
};

namespace {

constexpr const char* kLockFile = ".lock";
constexpr std::string_view kSuffix = ".json";

// Network ids become file names, so they must be plain names.
Status check_network_id(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 128 && id[0] != '.' &&
            id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                std::string::npos;
  if (!ok) return make_error("invalid network id ", quote(id));
  return {};
}

std::string file_of(const std::string& id) { return cat(id, kSuffix); }

// The host address after `addr`, wrapping from the last host to the first.
Ipv4 next_host(const Ipv4Net& subnet, Ipv4 addr) {
  uint32_t n = addr.value() - subnet.network().value();
  return *subnet.host(n >= subnet.host_count() ? 1 : n + 1);
}

// Writes `data` to dirfd/name through a temporary file, fsync'ed before and
// after the rename, so a crash leaves either the old or the new lease file.
Status write_durably(int dirfd, const std::string& name, const std::string& data) {
  std::string tmp = cat(".", name, ".tmp");  // callers hold the lock: one writer at a time
  auto fd = open_at(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return std::move(fd).error();
  Status st = write_all(fd->get(), data, tmp);
  if (st && ::fsync(fd->get()) < 0) st = sys_error("fsync ", tmp);
  if (st && ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0) st = sys_error("rename ", tmp, " to ", name);
  if (!st) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return st;
  }
  if (::fsync(dirfd) < 0) return sys_error("fsync directory of ", name);
  return {};
}

}  // namespace

Result<Ipam> Ipam::open(const std::string& root) {
  BERTH_TRY_CTX(mkdir_all(root, 0700), cat("open IPAM store ", root));
  auto dir = open_file(root, O_RDONLY | O_DIRECTORY);
  if (!dir) return std::move(dir).error().wrap(cat("open IPAM store ", root));
  return Ipam(root, std::move(*dir));
}

template <class F>
auto Ipam::locked(F&& fn) -> decltype(fn()) {
  // A new open file description per call: flock then also excludes other
  // threads of this process, not only other processes.
  auto lock = open_at(dir_.get(), kLockFile, O_RDWR | O_CREAT, 0600);
  if (!lock) return std::move(lock).error().wrap(cat("lock IPAM store ", root_));
  while (::flock(lock->get(), LOCK_EX) < 0)
    if (errno != EINTR) return sys_error("lock IPAM store ", root_);
  return fn();  // closing the fd releases the lock
}

Result<Ipam::Network> Ipam::load(const std::string& id) {
  auto text = read_file_at(dir_.get(), file_of(id));
  if (!text) {
    if (text.error().code() == ENOENT) return Error(ENOENT, cat("address pool of network ", id));
    return std::move(text).error();
  }
  std::string what = cat("read address pool of network ", id, " in ", root_);
  try {
    auto j = nlohmann::json::parse(*text);
    auto subnet = Ipv4Net::parse(j.at("subnet").get<std::string>());
    auto gateway = Ipv4::parse(j.at("gateway").get<std::string>());
    auto next = Ipv4::parse(j.at("next").get<std::string>());
    if (!subnet) return std::move(subnet).error().wrap(what);
    if (!gateway) return std::move(gateway).error().wrap(what);
    if (!next) return std::move(next).error().wrap(what);
    Network net{*subnet, *gateway, *next, {}};
    for (const auto& [owner, addr] : j.at("leases").items()) {
      auto ip = Ipv4::parse(addr.get<std::string>());
      if (!ip) return std::move(ip).error().wrap(what);
      net.leases.emplace(owner, *ip);
    }
    return net;
  } catch (const nlohmann::json::exception& e) {
    return make_error(what, ": ", e.what());
  }
}

Status Ipam::save(const std::string& id, const Network& net) {
  nlohmann::json leases = nlohmann::json::object();
  for (const auto& [owner, addr] : net.leases) leases[owner] = addr.to_string();
  nlohmann::json j = {{"subnet", net.subnet.to_string()},
                      {"gateway", net.gateway.to_string()},
                      {"next", net.next.to_string()},
                      {"leases", leases}};
  BERTH_TRY_CTX(write_durably(dir_.get(), file_of(id), j.dump(2) + "\n"),
                cat("write address pool of network ", id, " in ", root_));
  return {};
}

Status Ipam::create_network(const std::string& id, const Ipv4Net& subnet, Ipv4 gateway) {
  std::string what = cat("create address pool of network ", id);
  BERTH_TRY_CTX(check_network_id(id), what);
  Ipv4Net net = subnet.canonical();
  // The gateway plus at least one container.
  if (net.host_count() < 2) return make_error(what, ": subnet ", net.to_string(), " is too small");
  if (!net.contains(gateway) || gateway == net.network() || gateway == net.broadcast())
    return make_error(what, ": gateway ", gateway.to_string(), " is not a host address of subnet ", net.to_string());
  return locked([&]() -> Status {
    if (::faccessat(dir_.get(), file_of(id).c_str(), F_OK, 0) == 0)
      return Error(EEXIST, cat(what, ": it already exists"));
    BERTH_TRY_CTX(save(id, Network{net, gateway, *net.host(1), {}}), what);
    return {};
  });
}

Status Ipam::remove_network(const std::string& id) {
  BERTH_TRY_CTX(check_network_id(id), cat("remove address pool of network ", id));
  return locked([&]() -> Status {
    if (::unlinkat(dir_.get(), file_of(id).c_str(), 0) < 0 && errno != ENOENT)
      return sys_error("remove address pool of network ", id, " in ", root_);
    return {};
  });
}

Result<Ipv4> Ipam::allocate(const std::string& id, const std::string& owner, std::optional<Ipv4> wanted) {
  std::string what = cat("allocate an address on network ", id, " for ", owner);
  BERTH_TRY_CTX(check_network_id(id), what);
  return locked([&]() -> Result<Ipv4> {
    auto net = load(id);
    if (!net) return std::move(net).error().wrap(what);
    if (auto held = net->leases.find(owner); held != net->leases.end()) {
      if (wanted && *wanted != held->second)
        return make_error(what, ": it already holds ", held->second.to_string());
      return held->second;
    }
    std::set<Ipv4> taken{net->gateway};
    for (const auto& lease : net->leases) taken.insert(lease.second);

    Ipv4 addr;
    if (wanted) {
      const Ipv4Net& s = net->subnet;
      if (!s.contains(*wanted) || *wanted == s.network() || *wanted == s.broadcast())
        return make_error(what, ": ", wanted->to_string(), " is not a host address of subnet ", s.to_string());
      if (*wanted == net->gateway) return make_error(what, ": ", wanted->to_string(), " is the gateway");
      if (taken.count(*wanted)) return Error(EADDRINUSE, cat(what, ": ", wanted->to_string()));
      addr = *wanted;
    } else {
      if (taken.size() >= net->subnet.host_count())
        return Error(ENOSPC, cat(what, ": subnet ", net->subnet.to_string(), " is full"));
      addr = net->subnet.contains(net->next) ? net->next : *net->subnet.host(1);
      while (taken.count(addr)) addr = next_host(net->subnet, addr);
      net->next = next_host(net->subnet, addr);
    }
    net->leases.emplace(owner, addr);
    BERTH_TRY_CTX(save(id, *net), what);
    return addr;
  });
}

Status Ipam::release(const std::string& id, const std::string& owner) {
  std::string what = cat("release the address of ", owner, " on network ", id);
  BERTH_TRY_CTX(check_network_id(id), what);
  return locked([&]() -> Status {
    auto net = load(id);
    if (!net) return net.error().code() == ENOENT ? Status() : std::move(net).error().wrap(what);
    if (net->leases.erase(owner) == 0) return {};
    BERTH_TRY_CTX(save(id, *net), what);
    return {};
  });
}

Result<Leases> Ipam::leases(const std::string& id) {
  std::string what = cat("list leases of network ", id);
  BERTH_TRY_CTX(check_network_id(id), what);
  return locked([&]() -> Result<Leases> {
    auto net = load(id);
    if (!net) return std::move(net).error().wrap(what);
    return std::move(net->leases);
  });
}

Status Ipam::release_owner_everywhere(const std::string& owner) {
  std::string what = cat("release the addresses of ", owner);
  return locked([&]() -> Status {
    std::vector<std::string> ids;
    DIR* d = ::opendir(root_.c_str());
    if (!d) return sys_error(what, ": open ", root_);
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name[0] != '.' && ends_with(name, kSuffix)) ids.push_back(name.substr(0, name.size() - kSuffix.size()));
    }
    ::closedir(d);
    for (const auto& id : ids) {
      auto net = load(id);
      if (!net) return std::move(net).error().wrap(what);
      if (net->leases.erase(owner)) BERTH_TRY_CTX(save(id, *net), what);
    }
    return {};
  });
}

// ---- choosing subnets ----

Result<Ipv4Net> pick_subnet(const std::vector<Ipv4Net>& in_use) {
  auto is_free = [&](const Ipv4Net& candidate) {
    for (const auto& used : in_use)
      if (candidate.overlaps(used)) return false;
    return true;
  };
  const uint32_t b172 = Ipv4::parse("172.17.0.0")->value();
  const uint32_t b192 = Ipv4::parse("192.168.0.0")->value();
  for (uint32_t i = 0; i < 15; ++i)
    if (auto n = *Ipv4Net::make(Ipv4(b172 + (i << 16)), 16); is_free(n)) return n;
  for (uint32_t i = 0; i < 16; ++i)
    if (auto n = *Ipv4Net::make(Ipv4(b192 + (i << 12)), 20); is_free(n)) return n;
  return make_error("no free subnet left in the default pools (172.17.0.0/16 to 172.31.0.0/16, 192.168.0.0/16 in /20s)");
}

Status check_overlap(const Ipv4Net& subnet, const std::vector<NamedSubnet>& in_use) {
  for (const auto& used : in_use)
    if (subnet.overlaps(used.subnet))
      return make_error("subnet ", subnet.canonical().to_string(), " overlaps with network ", used.network, "'s ",
                        used.subnet.canonical().to_string());
  return {};
}

}  // namespace berth::net
