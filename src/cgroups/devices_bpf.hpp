// Device access control on cgroup v2: the allow/deny list of
// linux.resources.devices compiled into a BPF_PROG_TYPE_CGROUP_DEVICE program
// and attached to the container's cgroup. Without one, a process with
// CAP_MKNOD could create and open any device node of the host.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::cgroups {

struct DeviceRule {
  bool allow = false;
  char type = 'a';              // 'a' (all), 'c' (char), 'b' (block)
  std::optional<uint32_t> major;  // unset: any
  std::optional<uint32_t> minor;
  std::string access = "rwm";   // subset of "rwm"
};

/// The rules every container gets after its own, as runc appends them:
/// mknod of any node, and use of null, zero, full, random, urandom, tty,
/// ptmx, the pty slaves (136:*) and tun.
std::vector<DeviceRule> default_device_rules();

/// Compiles rules into BPF instructions. Later rules win: rules are checked
/// last to first and the first match decides; no match denies. An allow rule
/// matches a request whose access bits it all grants; a deny rule matches a
/// request that asks for any access bit it denies.
std::vector<bpf_insn> compile_device_filter(const std::vector<DeviceRule>& rules);

/// Loads the program and attaches it to the cgroup (BPF_F_ALLOW_MULTI).
/// The cgroup keeps it alive; the program fd is closed on return.
Status attach_device_filter(int cgroup_fd, const std::vector<DeviceRule>& rules);

/// For `update`: attaches a program for the new rules, then detaches the
/// programs that were attached before (between the two steps both apply,
/// so access is never wider than either rule set allows).
Status replace_device_filter(int cgroup_fd, const std::vector<DeviceRule>& rules);

}  // namespace berth::cgroups
