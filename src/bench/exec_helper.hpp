// The launcher that measures one run. ru_maxrss of a child is at least the
// resident size of the address space it had before execve(2) (the kernel
// folds the old mm's high-water mark into the process's maxrss at exec).
// A child forked or vforked straight from berth-bench would therefore report
// berth-bench's own few MiB as its peak. So each measured run goes through
// berth-bench re-executed as a small launcher (statically linked, nothing
// allocated): it forks, execs the command, waits with wait4(2) and writes
// the measurement to fd 3. Its floor, the smallest peak it can report, is
// recorded with every benchmark (a static busybox `true` run the same way).
#pragma once

namespace berth::bench {

/// The first argument that selects launcher mode.
inline constexpr const char* kExecHelperFlag = "--exec-helper";

/// argv: PROGRAM --exec-helper TIMEOUT_MS -- COMMAND [ARG...]. Writes
/// "wall_ns user_us sys_us maxrss_kib exit_code timed_out\n" to fd 3 and
/// returns 0, or returns 127 after a message on stderr.
int exec_helper_main(int argc, char** argv);

/// Parses the launcher's report line; false if malformed.
bool parse_helper_report(const char* text, long long* wall_ns, long long* user_us, long long* sys_us, long* maxrss_kib,
                         int* exit_code, int* timed_out);

}  // namespace berth::bench
