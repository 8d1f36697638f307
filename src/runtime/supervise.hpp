// Foreground `run`: the runtime stays with the container until its init
// exits, forwarding signals and, with a terminal, relaying the pty.
#pragma once

#include <sys/types.h>

#include "common/error.hpp"

namespace berth::runtime {

/// Waits for the init `pid` (a child or, as subreaper, an adopted orphan) to
/// exit and returns its status as a shell would (128+signal when killed).
/// Signals sent to the runtime are forwarded to the init; SIGWINCH resizes
/// the pty. With `pty_master` >= 0, stdin is copied to the pty (raw mode when
/// stdin is a terminal) and the pty's output to stdout until it drains.
Result<int> supervise(pid_t pid, int pidfd, int pty_master);

}  // namespace berth::runtime
