// Unix sockets: connecting to a path and passing one fd with SCM_RIGHTS, the
// way the console-socket protocol of runc's callers expects (one message, a
// name as its data, exactly one fd).
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth {

/// Connects a SOCK_STREAM socket to `path` (O_CLOEXEC).
Result<UniqueFd> connect_unix(const std::string& path);
/// Binds and listens on `path` (tests and the foreground `run` use it).
Result<UniqueFd> listen_unix(const std::string& path);

/// Sends `data` with `fd` attached as SCM_RIGHTS in one sendmsg(2).
Status send_fd(int sock, int fd, std::string_view data);
/// Receives one message with one attached fd; `data` gets the payload.
Result<UniqueFd> recv_fd(int sock, std::string* data);

}  // namespace berth
