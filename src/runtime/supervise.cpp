#include "runtime/supervise.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"

namespace berth::runtime {

namespace {

// Puts a terminal in raw mode and restores it when destroyed.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!::isatty(fd) || ::tcgetattr(fd, &saved_) < 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    raw.c_oflag |= OPOST;  // keep "\n" -> "\r\n" for what berth itself prints
    active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void copy_winsize(int from, int to) {
  winsize ws{};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what is available from `from` to `to`; false at EOF or error.
bool pump(int from, int to) {
  char buf[8192];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) return false;
  return write_all(to, std::string_view(buf, static_cast<size_t>(n)), "terminal").ok();
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

Result<int> supervise(pid_t pid, int pidfd, int pty_master) {
  sigset_t mask, old;
  sigfillset(&mask);
  // Faults stay deliverable to berth itself.
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGKILL, SIGSTOP})
    sigdelset(&mask, s);
  if (::sigprocmask(SIG_BLOCK, &mask, &old) < 0) return sys_error("block signals");
  UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return sys_error("signalfd");

  std::optional<RawTerminal> raw;
  if (pty_master >= 0) {
    raw.emplace(0);
    copy_winsize(0, pty_master);
    ::fcntl(pty_master, F_SETFL, ::fcntl(pty_master, F_GETFL) | O_NONBLOCK);
  }
  bool stdin_open = pty_master >= 0;
  bool exited = false;
  int code = 0;
  while (!exited) {
    pollfd fds[4] = {{sfd.get(), POLLIN, 0}, {pidfd, POLLIN, 0}, {pty_master, POLLIN, 0},
                     {stdin_open ? 0 : -1, POLLIN, 0}};
    int r = ::poll(fds, 4, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_error("poll");
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) continue;  // reaped below
        if (sig == SIGWINCH) {
          if (pty_master >= 0) copy_winsize(0, pty_master);
          continue;
        }
        ::kill(pid, sig);
      }
    }
    // Reap everything: as a subreaper we also inherit the container's orphans.
    int status;
    pid_t reaped;
    while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0)
      if (reaped == pid) {
        exited = true;
        code = exit_code(status);
      }
    if (!exited && (fds[1].revents & POLLIN) && reaped < 0 && errno == ECHILD) {
      // Not our child (run with -no-subreaper through an intermediate):
      // it is gone, but its status is not ours to collect.
      exited = true;
      code = 255;
    }
    if (pty_master >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
      if (!pump(pty_master, 1)) fds[2].fd = -1;
    if (stdin_open && (fds[3].revents & (POLLIN | POLLHUP)))
      if (!pump(0, pty_master)) stdin_open = false;
  }
  if (pty_master >= 0) {
    // Whatever the process wrote before exiting is still in the pty.
    pollfd pfd{pty_master, POLLIN, 0};
    while (::poll(&pfd, 1, 50) > 0 && pump(pty_master, 1)) {
    }
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return code;
}

}  // namespace berth::runtime
