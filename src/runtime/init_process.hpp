// The last steps of a container's init before exec: console, limits,
// credentials, capabilities, file descriptors. Runs after clone(), inside the
// container's namespaces and (after pivot_root) its filesystem.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"
#include "runtime/plan.hpp"

namespace berth::runtime {

/// Closes every fd from 3 + preserve_fds up except those in `keep`, so a
/// process that starts from a copy of the runtime's fd table holds no lock
/// and nothing the caller leaked, even before it execs.
void close_fds_except(std::vector<int> keep, int preserve_fds);

/// In a new (or joined) user namespace the process still has the runtime's
/// ids, which may have no mapping there: files it made would get the
/// overflow id, or fail with EOVERFLOW. Become the namespace's root.
Status become_namespace_root();

/// Installs a seccomp program; a notify listener fd goes to the runtime over
/// `sync_fd` (SECCOMP_FD) and is then closed here, so the container's process
/// can never answer its own notifications.
Status load_seccomp(const SeccompProgram& program, int sync_fd);

/// Writes /proc/self/oom_score_adj.
Status set_oom_score_adj(int value);

/// setrlimit(2) for each configured limit; errors name the limit and values.
Status set_rlimits(const std::vector<RlimitOp>& limits);

/// Creates a pty inside the container (its /dev/ptmx), sends the master over
/// `console_sock` as one SCM_RIGHTS message named after the slave, makes the
/// slave the controlling terminal and stdio, and binds it over /dev/console.
Status setup_console(const ProcessPlan& p, int console_sock, bool bind_dev_console);

/// The environment the process gets: the configured one plus HOME (from the
/// container's /etc/passwd, else "/") when it is not set.
std::vector<std::string> process_env(const ProcessPlan& p);

/// Finds args[0] in the container using PATH from `env`, with the wording of
/// runc: `exec: "foo": executable file not found in $PATH`. Relative names
/// ("./tool", or relative PATH entries) are looked up from `cwd`, where the
/// process will start; the result is what to pass to execve from there.
Result<std::string> resolve_executable(const std::string& arg0, const std::vector<std::string>& env,
                                       const std::string& cwd);

/// Marks every fd from 3 + preserve_fds up close-on-exec and clears it on
/// the preserved ones, so exactly stdio and the preserved fds reach the process.
Status prepare_fds(int preserve_fds);

/// no_new_privs, bounding set, user and groups, the working directory,
/// capability sets and ambient capabilities, umask; in the order that keeps
/// the needed privileges until each step is done.
Status apply_credentials(const ProcessPlan& p);

}  // namespace berth::runtime
