// The conversation between berth-runtime (parent) and a container's init
// (child) over a SOCK_SEQPACKET socketpair. One fixed-size message per packet.
//
//   parent (berth-runtime create/run)              child (container init)
//   ---------------------------------------------------------------------------
//   clone3(CLONE_NEW*, CLONE_INTO_CGROUP) ------> starts inside the new namespaces
//   [new userns] write uid_map / gid_map
//   GO ------------------------------------------> (waits for GO when it needs maps)
//                                                  [intermediate] setns joined ones,
//                                                    unshare(NEWUSER)
//                                       <--------- MAP_REQUEST(pid)
//   write /proc/pid/{uid,gid}_map
//   MAP_DONE ------------------------------------>   unshare the rest, fork() the init
//                                       <--------- CHILD_PID(init pid); intermediate exits
//                                                  rootfs, devices, pivot_root, console,
//                                                  rlimits, user, capabilities
//                                       <--------- READY   (or ERROR{errno, text} at any step)
//   write pid file and state.json
//   create: exit; `start` later opens exec.fifo --> init opens the fifo, writes one byte, execs
//   [seccomp notify] SECCOMP_FD(listener) <-------  (just before READY)
//   forward it to listenerPath with the state
//   run:    START -------------------------------> execve(); the socket closes on exec (EOF),
//                                       <--------- or ERROR if execve failed
//
// The parent never trusts the child to have made progress: EOF at any point
// means the init died, and the parent tears everything down.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/error.hpp"

namespace berth::runtime {

enum class SyncType : uint32_t {
  go = 1,
  map_request,
  map_done,
  child_pid,
  ready,
  start,
  error,
  seccomp_fd,  // carries the seccomp notify listener fd (SCM_RIGHTS) to the runtime
  hooks,       // the init is set up up to pivot_root: run prestart and createRuntime hooks
  hooks_done,  // text: the state JSON for the init's own hooks
};

/// The fixed part of a message; up to kSyncMaxText bytes of text follow in
/// the same packet.
struct SyncHeader {
  SyncType type{};
  int32_t err_no = 0;
  int32_t pid = 0;
  uint32_t len = 0;
};

inline constexpr size_t kSyncMaxText = 256 * 1024;

struct SyncMsg {
  SyncType type{};
  int32_t err_no = 0;
  int32_t pid = 0;
  std::string text;
  int passed_fd = -1;  // an fd that came with the message (owned by the receiver)

  std::string_view message() const { return text; }
};

/// Sends one message; `text` is truncated to kSyncMaxText.
Status sync_send(int fd, SyncType type, int32_t pid = 0, int32_t err_no = 0, std::string_view text = {});
/// Sends a message with `fd` attached (SCM_RIGHTS).
Status sync_send_fd(int sock, SyncType type, int fd);
/// Sends an Error as an ERROR message.
Status sync_send_error(int fd, const Error& err);
/// Receives one message. EOF is an error with code EPIPE.
Result<SyncMsg> sync_recv(int fd);
/// Receives one message and checks its type.
Result<SyncMsg> sync_expect(int fd, SyncType type);

}  // namespace berth::runtime
