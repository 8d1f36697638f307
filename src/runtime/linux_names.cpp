#include "runtime/linux_names.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <array>

#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::runtime {

namespace {

constexpr std::array<std::string_view, 41> kCapabilities = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",         "CAP_FSETID",
    "CAP_KILL",           "CAP_SETGID",        "CAP_SETUID",          "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",     "CAP_NET_RAW",        "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",      "CAP_SYS_MODULE",    "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",     "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",       "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",          "CAP_LEASE",          "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",  "CAP_SETFCAP",       "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",
    "CAP_WAKE_ALARM",     "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",      "CAP_PERFMON",        "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

struct NamedInt {
  std::string_view name;
  int value;
};

constexpr NamedInt kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},     {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

constexpr NamedInt kSignals[] = {
    {"SIGABRT", SIGABRT}, {"SIGALRM", SIGALRM},   {"SIGBUS", SIGBUS},       {"SIGCHLD", SIGCHLD},
    {"SIGCLD", SIGCHLD},  {"SIGCONT", SIGCONT},   {"SIGFPE", SIGFPE},       {"SIGHUP", SIGHUP},
    {"SIGILL", SIGILL},   {"SIGINT", SIGINT},     {"SIGIO", SIGIO},         {"SIGIOT", SIGIOT},
    {"SIGKILL", SIGKILL}, {"SIGPIPE", SIGPIPE},   {"SIGPOLL", SIGPOLL},     {"SIGPROF", SIGPROF},
    {"SIGPWR", SIGPWR},   {"SIGQUIT", SIGQUIT},   {"SIGSEGV", SIGSEGV},     {"SIGSTKFLT", SIGSTKFLT},
    {"SIGSTOP", SIGSTOP}, {"SIGSYS", SIGSYS},     {"SIGTERM", SIGTERM},     {"SIGTRAP", SIGTRAP},
    {"SIGTSTP", SIGTSTP}, {"SIGTTIN", SIGTTIN},   {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},
    {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2},   {"SIGVTALRM", SIGVTALRM}, {"SIGWINCH", SIGWINCH},
    {"SIGXCPU", SIGXCPU}, {"SIGXFSZ", SIGXFSZ},
};

}  // namespace

std::optional<int> capability_number(std::string_view name) {
  for (size_t i = 0; i < kCapabilities.size(); ++i)
    if (kCapabilities[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::string_view capability_name(int number) {
  if (number < 0 || static_cast<size_t>(number) >= kCapabilities.size()) return {};
  return kCapabilities[static_cast<size_t>(number)];
}

std::vector<std::string> all_capability_names() { return {kCapabilities.begin(), kCapabilities.end()}; }

int kernel_last_capability() {
  static int cached = -1;
  if (cached >= 0) return cached;
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  std::optional<int> v;
  if (text) v = parse_int<int>(trim(*text));
  cached = v ? *v : static_cast<int>(kCapabilities.size()) - 1;
  return cached;
}

std::optional<int> rlimit_number(std::string_view name) {
  for (const auto& r : kRlimits)
    if (r.name == name) return r.value;
  return std::nullopt;
}

const std::vector<NamespaceKind>& namespace_kinds() {
  // Order matters when joining: user first so the others are joined with
  // the capabilities it grants; mount last because it changes path lookups.
  static const std::vector<NamespaceKind> kinds = {
      {"user", "user", CLONE_NEWUSER},  {"ipc", "ipc", CLONE_NEWIPC},       {"uts", "uts", CLONE_NEWUTS},
      {"network", "net", CLONE_NEWNET}, {"pid", "pid", CLONE_NEWPID},       {"cgroup", "cgroup", CLONE_NEWCGROUP},
      {"time", "time", CLONE_NEWTIME},  {"mount", "mnt", CLONE_NEWNS},
  };
  return kinds;
}

const NamespaceKind* namespace_kind(std::string_view spec_name) {
  for (const auto& k : namespace_kinds())
    if (spec_name == k.spec_name) return &k;
  return nullptr;
}

std::optional<int> parse_signal(std::string_view text) {
  if (auto n = parse_int<int>(text)) {
    if (*n <= 0 || *n > SIGRTMAX) return std::nullopt;
    return n;
  }
  std::string name = to_upper(text);
  if (!starts_with(name, "SIG")) name = "SIG" + name;
  for (const auto& s : kSignals)
    if (s.name == name) return s.value;
  // Real-time signals: SIGRTMIN, SIGRTMIN+n, SIGRTMAX, SIGRTMAX-n.
  auto rt = [&](std::string_view base, int origin, int sign) -> std::optional<int> {
    if (!starts_with(name, base)) return std::nullopt;
    std::string_view rest = std::string_view(name).substr(base.size());
    if (rest.empty()) return origin;
    if (rest.front() != (sign > 0 ? '+' : '-')) return std::nullopt;
    auto off = parse_int<int>(rest.substr(1));
    if (!off || *off < 0 || *off > SIGRTMAX - SIGRTMIN) return std::nullopt;
    int sig = origin + sign * *off;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return std::nullopt;
    return sig;
  };
  if (auto s = rt("SIGRTMIN", SIGRTMIN, +1)) return s;
  if (auto s = rt("SIGRTMAX", SIGRTMAX, -1)) return s;
  return std::nullopt;
}

std::string signal_name(int sig) {
  for (const auto& s : kSignals)
    if (s.value == sig && s.name != "SIGCLD" && s.name != "SIGIOT" && s.name != "SIGPOLL") return std::string(s.name);
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return cat("SIGRTMIN+", sig - SIGRTMIN);
  return cat("signal ", sig);
}

}  // namespace berth::runtime
