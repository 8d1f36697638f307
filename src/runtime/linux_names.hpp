// Name tables for the kernel constants that appear in configs and on the
// command line: capabilities, rlimits, namespaces and signals.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::runtime {

/// "CAP_SYS_ADMIN" -> 21. Only the exact upper-case spec names are accepted.
std::optional<int> capability_number(std::string_view name);
/// 21 -> "CAP_SYS_ADMIN"; "" for an unknown number.
std::string_view capability_name(int number);
/// Every capability berth knows, in kernel order.
std::vector<std::string> all_capability_names();
/// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int kernel_last_capability();

/// "RLIMIT_NOFILE" -> 7.
std::optional<int> rlimit_number(std::string_view name);

struct NamespaceKind {
  const char* spec_name;  // "network"
  const char* proc_name;  // "net" (/proc/<pid>/ns/<proc_name>)
  int clone_flag;         // CLONE_NEWNET
};
/// Looks up a runtime-spec namespace type ("pid", "network", ...).
const NamespaceKind* namespace_kind(std::string_view spec_name);
/// All namespace kinds, in the order berth joins them.
const std::vector<NamespaceKind>& namespace_kinds();

/// Parses a signal the way runc does: a number, or a name with or without
/// "SIG" in any case ("KILL", "sigterm", "SIGRTMIN+3").
std::optional<int> parse_signal(std::string_view text);
/// 15 -> "SIGTERM".
std::string signal_name(int sig);

}  // namespace berth::runtime
