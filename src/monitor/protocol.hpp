// What berthd and berth-monitor agree on. One berth-monitor runs per running
// container, as conmon does for podman: it creates and starts the container
// through the runtime library, is its parent and subreaper, holds its stdio
// (pipes, or the pty master with a tty), writes the log in docker's
// json-file format and records the exit status. berthd spawns it and can be
// killed and restarted without the container noticing.
//
// Command line (every path absolute):
//
//   berth-monitor --root RUNTIME_ROOT --id ID --bundle BUNDLE --dir DIR
//                 [--tty] [--stdin] [--stdin-once]
//                 [--log-max-size BYTES] [--log-max-files N] [--sync-fd FD]
//
// DIR is the container's directory in berthd's data root; the monitor owns
// the files named below in it. BUNDLE holds config.json and the rootfs
// (already mounted by berthd).
//
// Start-up: the monitor calls setsid(), takes an exclusive flock on
// DIR/monitor.lock (held until it exits: berthd tests liveness with it,
// which pid reuse cannot fool), writes DIR/monitor.pid, sets itself as
// child subreaper, creates and starts the container, then writes exactly
// one line to the sync fd and closes it:
//
//   "ok <init pid>\n"         the container's process runs
//   "error <message>\n"       nothing was started; the monitor exits 1 and
//                             leaves no container state behind
//
// While the container runs, DIR/attach.sock (SOCK_SEQPACKET, mode 0600)
// takes any number of clients; each message starts with a type byte:
//
//   'i' <bytes>               write <bytes> to the container's stdin
//   'c'                       close the container's stdin
//   'r' "<rows> <cols>"       resize the pty (ignored without a tty)
//
// Output never goes through the socket: readers follow the log file.
//
// On exit of the container's init the monitor reads what is left in the
// pipes, writes DIR/exit.json atomically (rename), deletes the container
// from the runtime root, removes attach.sock and exits 0.
#pragma once

#include <string_view>

namespace berth::monitor {

// Files in DIR.
inline constexpr std::string_view kLockFile = "monitor.lock";
inline constexpr std::string_view kPidFile = "monitor.pid";
inline constexpr std::string_view kAttachSocket = "attach.sock";
/// The log, docker's json-file format: one object a line,
///   {"log":"hi\n","stream":"stdout","time":"2026-11-26T12:43:55.123456789Z"}
/// Output is split at '\n' (kept in "log"); a partial line is written once
/// it reaches kMaxLogLine bytes or the stream ends. With a tty, every entry
/// is "stdout". Rotated files are container.log.1 .. container.log.<N-1>.
inline constexpr std::string_view kLogFile = "container.log";
inline constexpr size_t kMaxLogLine = 16 * 1024;
/// {"ExitCode":0,"Signal":0,"OOMKilled":false,"FinishedAt":"<RFC 3339 nano>"}
/// ExitCode is 128+signal for a process killed by a signal (Signal says
/// which), as docker reports it.
inline constexpr std::string_view kExitFile = "exit.json";

// Attach socket message types.
inline constexpr char kMsgStdin = 'i';
inline constexpr char kMsgCloseStdin = 'c';
inline constexpr char kMsgResize = 'r';
/// Largest message the monitor reads (type byte included).
inline constexpr size_t kMaxMessage = 64 * 1024;

}  // namespace berth::monitor
