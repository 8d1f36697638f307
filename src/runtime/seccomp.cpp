#include "runtime/seccomp.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <map>
#include <memory>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/sha256.hpp"
#include "common/unique_fd.hpp"
#include "common/unix_socket.hpp"
#include "runtime/spec_default.hpp"

namespace berth::runtime {

namespace {

struct NamedU32 {
  const char* name;
  uint32_t value;
};

// Actions without an errno; SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one.
constexpr NamedU32 kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},         {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS}, {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},           {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},              {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

constexpr NamedU32 kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

constexpr NamedU32 kArchs[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},           {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},           {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},   {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},     {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},     {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32}, {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},       {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},         {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},     {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

constexpr NamedU32 kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

template <size_t N>
const NamedU32* lookup(const NamedU32 (&table)[N], const std::string& name) {
  for (const auto& e : table)
    if (name == e.name) return &e;
  return nullptr;
}

template <size_t N>
std::vector<std::string> names(const NamedU32 (&table)[N]) {
  std::vector<std::string> out;
  for (const auto& e : table) out.emplace_back(e.name);
  return out;
}

// runc's default errno for SCMP_ACT_ERRNO and SCMP_ACT_TRACE without one.
uint32_t action_value(const std::string& name, std::optional<uint32_t> errno_ret) {
  const NamedU32* a = lookup(kActions, name);
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
  return a->value;
}

using Ctx = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  UniqueFd mem(static_cast<int>(::syscall(SYS_memfd_create, "berth-seccomp", MFD_CLOEXEC)));
  if (!mem) return sys_error("memfd_create");
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0) return Error(-rc, "export seccomp program");
  if (::lseek(mem.get(), 0, SEEK_SET) < 0) return sys_error("seek seccomp program");
  auto bytes = read_fd(mem.get());
  if (!bytes) return std::move(bytes).error();
  std::vector<sock_filter> out(bytes->size() / sizeof(sock_filter));
  std::memcpy(out.data(), bytes->data(), out.size() * sizeof(sock_filter));
  return out;
}

Result<std::vector<sock_filter>> build(const Seccomp& s) {
  uint32_t def = action_value(s.default_action, s.default_errno_ret);
  Ctx ctx(seccomp_init(def), seccomp_release);
  if (!ctx) return make_error("linux.seccomp: libseccomp could not initialise a filter");
  // The kernel checks no_new_privs itself when the filter is installed;
  // libseccomp must not set it on our behalf.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    uint32_t arch = lookup(kArchs, s.architectures[i])->value;
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc < 0 && rc != -EEXIST)
      return Error(-rc, cat("linux.seccomp.architectures[", i, "]: add ", s.architectures[i]));
  }
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    uint32_t action = action_value(sc.action, sc.errno_ret);
    // libseccomp refuses a rule that repeats the default action; it would
    // change nothing anyway.
    if (action == def) continue;
    std::vector<scmp_arg_cmp> cmps;
    std::map<uint32_t, int> per_index;
    for (const auto& a : sc.args) {
      cmps.push_back({a.index, static_cast<scmp_compare>(lookup(kOperators, a.op)->value), a.value, a.value_two});
      ++per_index[a.index];
    }
    // Conditions on one argument index cannot be ANDed in a rule: as in
    // runc, each becomes its own rule (an OR).
    bool split_rules = false;
    for (auto& [index, n] : per_index) split_rules = split_rules || n > 1;
    for (const auto& name : sc.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        log::debug(cat("seccomp: skipping unknown syscall ", quote(name)));
        continue;
      }
      auto add = [&](unsigned n, const scmp_arg_cmp* c) -> Status {
        int rc = seccomp_rule_add_array(ctx.get(), action, nr, n, c);
        if (rc < 0) return Error(-rc, cat("linux.seccomp.syscalls[", i, "]: add rule for ", name));
        return {};
      };
      if (!split_rules) {
        BERTH_TRY(add(static_cast<unsigned>(cmps.size()), cmps.data()));
      } else {
        for (const auto& c : cmps) BERTH_TRY(add(1, &c));
      }
    }
  }
  return export_bpf(ctx.get());
}

}  // namespace

Status validate_seccomp(const Seccomp& s) {
  if (!lookup(kActions, s.default_action))
    return make_error("linux.seccomp.defaultAction: unknown action ", quote(s.default_action));
  if (s.default_action == "SCMP_ACT_NOTIFY")
    return make_error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  for (size_t i = 0; i < s.architectures.size(); ++i)
    if (!lookup(kArchs, s.architectures[i]))
      return make_error("linux.seccomp.architectures[", i, "]: unknown architecture ", quote(s.architectures[i]));
  for (size_t i = 0; i < s.flags.size(); ++i)
    if (!lookup(kFlags, s.flags[i])) return make_error("linux.seccomp.flags[", i, "]: unknown flag ", quote(s.flags[i]));
  bool notify = false;
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    std::string f = cat("linux.seccomp.syscalls[", i, "]");
    if (sc.names.empty()) return make_error(f, ".names: must not be empty");
    if (!lookup(kActions, sc.action)) return make_error(f, ".action: unknown action ", quote(sc.action));
    notify = notify || sc.action == "SCMP_ACT_NOTIFY";
    for (size_t k = 0; k < sc.args.size(); ++k) {
      if (!lookup(kOperators, sc.args[k].op))
        return make_error(f, ".args[", k, "].op: unknown operator ", quote(sc.args[k].op));
      if (sc.args[k].index > 5) return make_error(f, ".args[", k, "].index: must be between 0 and 5");
    }
  }
  if (notify && s.listener_path.empty())
    return make_error("linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
  if (!s.listener_path.empty() && s.listener_path.front() != '/')
    return make_error("linux.seccomp.listenerPath: must be an absolute path");
  return {};
}

std::string seccomp_cache_key(const Seccomp& s) {
  Sha256 h;
  auto field = [&](std::string_view v) {
    h.update(cat(v.size(), ":"));
    h.update(v);
  };
  const scmp_version* v = seccomp_version();
  utsname u{};
  ::uname(&u);
  field(cat("berth-seccomp-1 libseccomp ", v->major, ".", v->minor, ".", v->micro, " ", u.machine));
  field(s.default_action);
  field(cat(s.default_errno_ret.value_or(~0u)));
  for (const auto& a : s.architectures) field(a);
  field("syscalls");
  for (const auto& sc : s.syscalls) {
    field(cat(sc.names.size()));
    for (const auto& n : sc.names) field(n);
    field(sc.action);
    field(cat(sc.errno_ret.value_or(~0u)));
    field(cat(sc.args.size()));
    for (const auto& a : sc.args) field(cat(a.index, " ", a.value, " ", a.value_two, " ", a.op));
  }
  return h.hex_digest();
}

Result<SeccompProgram> compile_seccomp(const Seccomp& s, const std::string& cache_dir) {
  SeccompProgram p;
  for (const auto& f : s.flags) p.flags |= lookup(kFlags, f)->value;
  // TSYNC is meaningless for a single-threaded init and conflicts with a listener.
  p.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC);
  for (const auto& sc : s.syscalls) p.notify = p.notify || sc.action == "SCMP_ACT_NOTIFY";
  // WAIT_KILLABLE_RECV only means something (and is only accepted) with a listener.
  if (!p.notify) p.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  p.listener_path = s.listener_path;
  p.listener_metadata = s.listener_metadata;

  std::string key = cache_dir.empty() ? "" : seccomp_cache_key(s);
  if (!key.empty()) {
    if (auto cached = read_file(path_join(cache_dir, key + ".bpf"));
        cached && !cached->empty() && cached->size() % sizeof(sock_filter) == 0) {
      p.filter.resize(cached->size() / sizeof(sock_filter));
      std::memcpy(p.filter.data(), cached->data(), cached->size());
      return p;
    }
  }
  auto filter = build(s);
  if (!filter) return std::move(filter).error();
  p.filter = std::move(*filter);
  if (!key.empty()) {
    // Best effort: a cache that cannot be written only costs the next start.
    if (mkdir_all(cache_dir, 0700)) {
      if (auto dir = open_file(cache_dir, O_RDONLY | O_DIRECTORY)) {
        std::string_view bytes(reinterpret_cast<const char*>(p.filter.data()), p.filter.size() * sizeof(sock_filter));
        (void)write_file_atomic(dir->get(), key + ".bpf", bytes, 0600);
      }
    }
  }
  return p;
}

Result<int> install_seccomp(const SeccompProgram& p) {
  sock_fprog prog{static_cast<unsigned short>(p.filter.size()), const_cast<sock_filter*>(p.filter.data())};
  unsigned flags = p.flags | (p.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) return sys_error("install seccomp filter");
  return p.notify ? static_cast<int>(rc) : -1;
}

Status send_to_seccomp_listener(const SeccompProgram& p, int listener_fd, pid_t pid, const std::string& state_json) {
  nlohmann::ordered_json msg;
  msg["ociVersion"] = kOciVersion;
  msg["fds"] = {"seccompFd"};
  msg["pid"] = pid;
  msg["metadata"] = p.listener_metadata;
  msg["state"] = nlohmann::ordered_json::parse(state_json);
  auto sock = connect_unix(p.listener_path);
  if (!sock) return std::move(sock).error().wrap("connect to seccomp listenerPath");
  return send_fd(sock->get(), listener_fd, msg.dump());
}

std::vector<std::string> seccomp_action_names() { return names(kActions); }
std::vector<std::string> seccomp_operator_names() { return names(kOperators); }
std::vector<std::string> seccomp_arch_names() { return names(kArchs); }
std::vector<std::string> seccomp_flag_names() { return names(kFlags); }

}  // namespace berth::runtime
