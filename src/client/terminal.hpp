// The local terminal for `run -t` and `exec -t`: raw mode that restores
// itself, and the window size sent with every resize.
#pragma once

#include <termios.h>

#include <optional>
#include <utility>

namespace berth::client {

/// Puts the terminal on `fd` in raw mode until destroyed (or restore()).
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal() { restore(); }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  void restore();
  bool active() const { return active_; }

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

/// Rows and columns of the terminal on `fd`, if it is one.
std::optional<std::pair<int, int>> window_size(int fd);

}  // namespace berth::client
