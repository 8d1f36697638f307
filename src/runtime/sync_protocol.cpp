#include "runtime/sync_protocol.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <unistd.h>

namespace berth::runtime {

namespace {

Status send_packet(int sock, const SyncHeader& h, std::string_view text, int fd) {
  iovec iov[2] = {{const_cast<SyncHeader*>(&h), sizeof h}, {const_cast<char*>(text.data()), text.size()}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = text.empty() ? 1 : 2;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("send sync message");
  return {};
}

}  // namespace

Status sync_send(int fd, SyncType type, int32_t pid, int32_t err_no, std::string_view text) {
  text = text.substr(0, kSyncMaxText);
  SyncHeader h{type, err_no, pid, static_cast<uint32_t>(text.size())};
  return send_packet(fd, h, text, -1);
}

Status sync_send_fd(int sock, SyncType type, int fd) {
  SyncHeader h{type, 0, 0, 0};
  return send_packet(sock, h, {}, fd);
}

Status sync_send_error(int fd, const Error& err) {
  return sync_send(fd, SyncType::error, 0, err.code(), err.context());
}

Result<SyncMsg> sync_recv(int fd) {
  // Learn the packet's size first, so the text can be any length.
  ssize_t size;
  do {
    size = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (size < 0 && errno == EINTR);
  if (size < 0) return sys_error("receive sync message");
  if (size == 0) return Error(EPIPE, "container init exited during set-up");
  if (static_cast<size_t>(size) < sizeof(SyncHeader) || static_cast<size_t>(size) > sizeof(SyncHeader) + kSyncMaxText)
    return make_error("malformed sync message (", size, " bytes)");
  SyncHeader h;
  SyncMsg msg;
  msg.text.resize(static_cast<size_t>(size) - sizeof h);
  iovec iov[2] = {{&h, sizeof h}, {msg.text.data(), msg.text.size()}};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive sync message");
  for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) std::memcpy(&msg.passed_fd, CMSG_DATA(cm), sizeof(int));
  if (n != size || h.len != msg.text.size()) {
    if (msg.passed_fd >= 0) ::close(msg.passed_fd);
    return make_error("malformed sync message (", n, " bytes)");
  }
  msg.type = h.type;
  msg.err_no = h.err_no;
  msg.pid = h.pid;
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
