// The local terminal; see terminal.hpp.
#include "client/terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace berth::client {

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  if (!isatty(fd) || tcgetattr(fd, &saved_) != 0) return;
  termios raw = saved_;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSADRAIN, &raw) == 0) active_ = true;
}

void RawTerminal::restore() {
  if (active_) tcsetattr(fd_, TCSADRAIN, &saved_);
  active_ = false;
}

std::optional<std::pair<int, int>> window_size(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return std::nullopt;
  return std::make_pair(static_cast<int>(ws.ws_row), static_cast<int>(ws.ws_col));
}

}  // namespace berth::client
