#include "common/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace berth {

namespace {
Result<sockaddr_un> make_addr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Error(ENAMETOOLONG, cat("socket path ", path));
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}
}  // namespace

Result<UniqueFd> connect_unix(const std::string& path) {
  auto addr = make_addr(path);
  if (!addr) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  int r;
  do {
    r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return sys_error("connect to ", path);
  return fd;
}

Result<UniqueFd> listen_unix(const std::string& path) {
  auto addr = make_addr(path);
  if (!addr) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) < 0) return sys_error("bind ", path);
  if (::listen(fd.get(), 16) < 0) return sys_error("listen on ", path);
  return fd;
}

Status send_fd(int sock, int fd, std::string_view data) {
  msghdr msg{};
  iovec iov{const_cast<char*>(data.data()), data.size()};
  // A zero-length payload would not carry the control message on SOCK_STREAM.
  char placeholder = 0;
  if (data.empty()) iov = {&placeholder, 1};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("send fd over socket");
  return {};
}

Result<UniqueFd> recv_fd(int sock, std::string* data) {
  char buf[4096];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive fd from socket");
  if (n == 0) return Error(ECONNRESET, "receive fd from socket: peer closed");
  UniqueFd received;
  int count = 0;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < nfds; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      if (count++ == 0)
        received.reset(fd);
      else
        ::close(fd);
    }
  }
  if (count != 1) return make_error("receive fd from socket: expected 1 fd, got ", count);
  if (data) data->assign(buf, static_cast<size_t>(n));
  return received;
}

}  // namespace berth
