#include "bench/exec_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace berth::bench {

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

long long tv_us(const timeval& tv) { return static_cast<long long>(tv.tv_sec) * 1000000LL + tv.tv_usec; }

int fail(const char* what) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "berth-bench launcher: %s: %s\n", what, std::strerror(errno));
  if (n > 0) (void)!::write(2, buf, static_cast<size_t>(n));
  return 127;
}

}  // namespace

bool parse_helper_report(const char* text, long long* wall_ns, long long* user_us, long long* sys_us, long* maxrss_kib,
                         int* exit_code, int* timed_out) {
  char end = 0;
  int n = std::sscanf(text, "%lld %lld %lld %ld %d %d%c", wall_ns, user_us, sys_us, maxrss_kib, exit_code, timed_out, &end);
  return n == 7 && end == '\n';
}

int exec_helper_main(int argc, char** argv) {
  // PROGRAM --exec-helper TIMEOUT_MS -- COMMAND...
  if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
    errno = EINVAL;
    return fail("usage: --exec-helper TIMEOUT_MS -- COMMAND [ARG...]");
  }
  long timeout_ms = std::strtol(argv[2], nullptr, 10);
  if (timeout_ms <= 0) timeout_ms = 60000;
  // The report fd must not reach the command.
  if (::fcntl(3, F_SETFD, FD_CLOEXEC) < 0) return fail("fd 3");
  char** cmd = argv + 4;

  long long start = now_ns();
  // fork, not vfork: the child's address space before exec is a copy of this
  // small one, whose anonymous pages are all the child starts with.
  pid_t pid = ::fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {
    ::execve(cmd[0], cmd, environ);
    fail(cmd[0]);
    ::_exit(127);
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  int timed_out = 0;
  if (pidfd >= 0) {
    long long deadline = start + timeout_ms * 1000000LL;
    for (;;) {
      long long left = deadline - now_ns();
      if (left <= 0) {
        timed_out = 1;
        ::kill(pid, SIGKILL);
        break;
      }
      pollfd p{pidfd, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left / 1000000LL) + 1);
      if (n > 0) break;
      if (n < 0 && errno != EINTR) break;
    }
  }
  int status = 0;
  rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) return fail("wait4");
  }
  long long end = now_ns();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "%lld %lld %lld %ld %d %d\n", end - start, tv_us(ru.ru_utime), tv_us(ru.ru_stime),
                        ru.ru_maxrss, code, timed_out);
  if (n <= 0 || ::write(3, buf, static_cast<size_t>(n)) != n) return fail("write the report");
  return 0;
}

}  // namespace berth::bench
