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

Status sync_send_fd(int sock, SyncType type, int fd) {
  SyncMsg msg;
  msg.type = type;
  iovec iov{&msg, offsetof(SyncMsg, text)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  ssize_t n;
  do {
    n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("send sync message with fd");
  return {};
}

Status sync_send_error(int fd, const Error& err) {
  return sync_send(fd, SyncType::error, 0, err.code(), err.context());
}

Result<SyncMsg> sync_recv(int fd) {
  SyncMsg msg;
  iovec iov{&msg, offsetof(SyncMsg, passed_fd)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  msg.passed_fd = -1;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) std::memcpy(&msg.passed_fd, CMSG_DATA(cm), sizeof(int));
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
