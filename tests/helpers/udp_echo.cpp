// A static UDP echo server the network tests mount into a container
// (busybox has no UDP server): `udp-echo PORT` answers every datagram with
// "echo " and the datagram, until killed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: udp-echo PORT\n");
    return 2;
  }
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    std::perror("udp-echo: bind");
    return 1;
  }
  char buf[2048];
  std::memcpy(buf, "echo ", 5);
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf + 5, sizeof buf - 5, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) continue;
    (void)::sendto(fd, buf, static_cast<size_t>(n) + 5, 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}
