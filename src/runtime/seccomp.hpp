// linux.seccomp: compiled with libseccomp in the runtime, before clone, into
// plain BPF; installed by the container's init with seccomp(2) as its last
// step. libseccomp never runs after clone, and a compiled program is cached
// under the runtime's root by a hash of the profile, so the next container
// with the same profile skips libseccomp altogether.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

struct SeccompProgram {
  std::vector<sock_filter> filter;
  unsigned flags = 0;        // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool notify = false;       // some rule is SCMP_ACT_NOTIFY: the install yields a listener fd
  std::string listener_path;
  std::string listener_metadata;
};

/// Checks names and values, with errors that name the field:
/// `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
Status validate_seccomp(const Seccomp& s);

/// The cache key of a profile: a hash of everything that shapes the program,
/// the libseccomp version and the machine architecture included.
std::string seccomp_cache_key(const Seccomp& s);

/// Compiles `s`, or loads the program cached under `cache_dir` (no cache
/// when empty). Unknown syscall names are skipped (with a debug line), as in runc.
Result<SeccompProgram> compile_seccomp(const Seccomp& s, const std::string& cache_dir);

/// Installs the program on the calling process. Returns the notify listener
/// fd when the program asks for one, else -1.
Result<int> install_seccomp(const SeccompProgram& p);

/// Sends a notify listener fd to the program's listenerPath with the
/// runtime-spec container process state ({ociVersion, fds, pid, metadata,
/// state}); `state_json` is the container's state object.
Status send_to_seccomp_listener(const SeccompProgram& p, int listener_fd, pid_t pid, const std::string& state_json);

/// The seccomp actions, operators, architectures and flags berth knows
/// (for `features`).
std::vector<std::string> seccomp_action_names();
std::vector<std::string> seccomp_operator_names();
std::vector<std::string> seccomp_arch_names();
std::vector<std::string> seccomp_flag_names();

}  // namespace berth::runtime
