#include "runtime/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

extern char** environ;

namespace berth::runtime {

namespace {

long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Status run_hook(const Hook& hook, const std::string& state_json) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd out_r(out[0]), out_w(out[1]);
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork hook");
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::dup2(out_w.get(), 2);
    ::execve(hook.path.c_str(), argv.data(), hook.env.empty() ? environ : envp.data());
    ::_exit(127);
  }
  ChildProcess child(pid);
  in_r.reset();
  out_w.reset();
  // The hook may not read its stdin at all; a closed pipe is not our error.
  (void)write_all(in_w.get(), state_json, "hook stdin");
  in_w.reset();
  std::string output;
  long deadline = hook.timeout && *hook.timeout > 0 ? now_ms() + *hook.timeout * 1000L : -1;
  for (;;) {
    long wait = deadline < 0 ? -1 : std::max(0L, deadline - now_ms());
    pollfd p{out_r.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(wait));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return make_error("timeout of ", *hook.timeout, " seconds reached");
    char buf[4096];
    ssize_t n = ::read(out_r.get(), buf, sizeof buf);
    if (n <= 0) break;
    if (output.size() < 4096) output.append(buf, static_cast<size_t>(n));
  }
  // The hook may close its output and go on running: its time still counts.
  if (deadline >= 0) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (pidfd && !wait_pidfd_exit(pidfd.get(), static_cast<int>(std::max(0L, deadline - now_ms()))))
      return make_error("timeout of ", *hook.timeout, " seconds reached");
  }
  auto code = wait_exit_code(child.release());
  if (!code) return std::move(code).error();
  if (*code == 0) return {};
  std::string text(trim(output));
  if (*code == 127 && text.empty()) return make_error("cannot execute ", hook.path);
  return make_error("exit status ", *code, text.empty() ? "" : ": ", text);
}

Status run_hooks(const std::vector<Hook>& hooks, const char* phase, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i)
    BERTH_TRY_CTX(run_hook(hooks[i], state_json), cat(phase, " hook #", i, " (", hooks[i].path, ")"));
  return {};
}

void run_hooks_warn(const std::vector<Hook>& hooks, const char* phase, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i)
    if (auto st = run_hook(hooks[i], state_json); !st)
      log::warn(cat(phase, " hook #", i, " (", hooks[i].path, "): ", st.error().message()));
}

}  // namespace berth::runtime
