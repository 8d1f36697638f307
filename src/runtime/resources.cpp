#include "runtime/resources.hpp"

#include "common/strings.hpp"

namespace berth::runtime {

namespace {

template <class T>
std::optional<T> unless_zero(const std::optional<T>& v) {
  return v && *v != 0 ? v : std::nullopt;
}

std::vector<cgroups::ThrottleDevice> throttles(const std::vector<ThrottleDevice>& in) {
  std::vector<cgroups::ThrottleDevice> out;
  for (const auto& t : in)
    if (t.rate != 0) out.push_back({t.major, t.minor, t.rate});
  return out;
}

std::optional<cgroups::Memory> memory(const MemoryResources& m) {
  cgroups::Memory c;
  c.limit = unless_zero(m.limit);
  c.reservation = unless_zero(m.reservation);
  c.swap = unless_zero(m.swap);
  c.check_before_update = m.check_before_update.value_or(false);
  c.kernel = unless_zero(m.kernel);
  c.kernel_tcp = unless_zero(m.kernel_tcp);
  c.swappiness = m.swappiness;
  c.use_hierarchy = m.use_hierarchy;
  c.disable_oom_killer = m.disable_oom_killer.value_or(false);
  if (!c.limit && !c.reservation && !c.swap && !c.kernel && !c.kernel_tcp && !c.swappiness && !c.use_hierarchy &&
      !c.disable_oom_killer)
    return std::nullopt;
  return c;
}

std::optional<cgroups::Cpu> cpu(const CpuResources& r) {
  cgroups::Cpu c;
  c.shares = unless_zero(r.shares);
  c.quota = unless_zero(r.quota);
  c.period = unless_zero(r.period);
  c.burst = r.burst;
  c.idle = r.idle;
  c.cpus = r.cpus;
  c.mems = r.mems;
  c.realtime_runtime = unless_zero(r.realtime_runtime);
  c.realtime_period = unless_zero(r.realtime_period);
  if (!c.shares && !c.quota && !c.period && !c.burst && !c.idle && c.cpus.empty() && c.mems.empty() &&
      !c.realtime_runtime && !c.realtime_period)
    return std::nullopt;
  return c;
}

std::optional<cgroups::Io> io(const BlockIoResources& b) {
  cgroups::Io c;
  c.weight = unless_zero(b.weight);
  c.leaf_weight = unless_zero(b.leaf_weight);
  for (const auto& w : b.weight_device)
    if (unless_zero(w.weight) || unless_zero(w.leaf_weight))
      c.weight_device.push_back({w.major, w.minor, unless_zero(w.weight), unless_zero(w.leaf_weight)});
  c.throttle_read_bps = throttles(b.throttle_read_bps);
  c.throttle_write_bps = throttles(b.throttle_write_bps);
  c.throttle_read_iops = throttles(b.throttle_read_iops);
  c.throttle_write_iops = throttles(b.throttle_write_iops);
  if (!c.weight && !c.leaf_weight && c.weight_device.empty() && c.throttle_read_bps.empty() &&
      c.throttle_write_bps.empty() && c.throttle_read_iops.empty() && c.throttle_write_iops.empty())
    return std::nullopt;
  return c;
}

Status check_group(const std::string& mountpoint, const std::string& field, const cgroups::Resources& only) {
  auto st = cgroups::check_available(mountpoint, cgroups::controllers_needed(only));
  if (!st) return std::move(st).error().wrap(field);
  return {};
}

}  // namespace

cgroups::Resources to_cgroup_resources(const Resources& r) {
  cgroups::Resources c;
  if (r.memory) c.memory = memory(*r.memory);
  if (r.cpu) c.cpu = cpu(*r.cpu);
  c.pids_limit = unless_zero(r.pids_limit);
  if (r.block_io) c.io = io(*r.block_io);
  for (const auto& h : r.hugepage_limits) c.hugepages.push_back({h.page_size, h.limit});
  for (const auto& [dev, l] : r.rdma) c.rdma[dev] = {l.hca_handles, l.hca_objects};
  c.unified = r.unified;
  return c;
}

Status check_resources_available(const std::string& mountpoint, const Resources& spec_resources,
                                 const cgroups::Resources& r) {
  if (spec_resources.has_network)
    return make_error("linux.resources.network: net_cls and net_prio do not exist in cgroup v2");
  cgroups::Resources one;
  one.memory = r.memory;
  BERTH_TRY(check_group(mountpoint, "linux.resources.memory", one));
  one = {};
  one.cpu = r.cpu;
  BERTH_TRY(check_group(mountpoint, "linux.resources.cpu", one));
  one = {};
  one.pids_limit = r.pids_limit;
  BERTH_TRY(check_group(mountpoint, "linux.resources.pids", one));
  one = {};
  one.io = r.io;
  BERTH_TRY(check_group(mountpoint, "linux.resources.blockIO", one));
  one = {};
  one.hugepages = r.hugepages;
  BERTH_TRY(check_group(mountpoint, "linux.resources.hugepageLimits", one));
  one = {};
  one.rdma = r.rdma;
  BERTH_TRY(check_group(mountpoint, "linux.resources.rdma", one));
  for (const auto& [key, value] : r.unified) {
    one = {};
    one.unified[key] = value;
    BERTH_TRY(check_group(mountpoint, cat("linux.resources.unified[", quote(key), "]"), one));
  }
  return {};
}

}  // namespace berth::runtime
