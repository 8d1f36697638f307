#include "runtime/sync_protocol.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace berth::runtime {

Status sync_send(int fd, SyncType type, int32_t pid, int32_t err_no, std::string_view text) {
  SyncMsg msg;
  msg.type = type;
  msg.pid = pid;
  msg.err_no = err_no;
  msg.len = static_cast<uint32_t>(std::min(text.size(), sizeof msg.text));
  std::memcpy(msg.text, text.data(), msg.len);
  // Only the header and the used part of the text travel.
  size_t size = offsetof(SyncMsg, text) + msg.len;
  ssize_t n;
  do {
    n = ::send(fd, &msg, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("send sync message");
  return {};
}

Status sync_send_error(int fd, const Error& err) {
  return sync_send(fd, SyncType::error, 0, err.code(), err.context());
}

Result<SyncMsg> sync_recv(int fd) {
  SyncMsg msg;
  ssize_t n;
  do {
    n = ::recv(fd, &msg, sizeof msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive sync message");
  if (n == 0) return Error(EPIPE, "container init exited during set-up");
  if (static_cast<size_t>(n) < offsetof(SyncMsg, text) || msg.len > sizeof msg.text ||
      offsetof(SyncMsg, text) + msg.len != static_cast<size_t>(n))
    return make_error("malformed sync message (", n, " bytes)");
  return msg;
}

Result<SyncMsg> sync_expect(int fd, SyncType type) {
  auto msg = sync_recv(fd);
  if (!msg) return msg;
  if (msg->type == SyncType::error) return Error(msg->err_no, std::string(msg->message()));
  if (msg->type != type)
    return make_error("unexpected sync message ", static_cast<uint32_t>(msg->type), " (wanted ",
                      static_cast<uint32_t>(type), ")");
  return msg;
}

}  // namespace berth::runtime
