#include "bench/runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "bench/exec_helper.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"

extern char** environ;

namespace berth::bench {

namespace {

volatile std::sig_atomic_t g_stop = 0;

double tv_ms(const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; }

int shell_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// A spawned child that has not been reaped yet.
struct Child {
  pid_t pid = -1;
  UniqueFd pidfd;
  uint64_t start_ns = 0;
  uint64_t deadline_ns = 0;
  size_t index = 0;
  int slot = 0;
  UniqueFd report;  // read end of the launcher's fd 3
};

// The launcher gets this much longer than the run it times out itself.
constexpr int kLauncherGraceMs = 10000;

class SpawnAttrs {
 public:
  SpawnAttrs() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnAttrs() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

Status check_spawn(int rc, const std::string& what) {
  if (rc == 0) return {};
  return Error(rc, what);
}

// Starts `s` with `out_fd` (if >= 0) as its stdout and stderr instead of the paths.
Result<Child> start(const Spawn& s, int out_fd, int timeout_ms) {
  if (s.argv.empty()) return make_error("spawn: empty command");
  SpawnAttrs a;
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT}) sigaddset(&defaults, sig);
  BERTH_TRY(check_spawn(posix_spawnattr_setsigmask(&a.attr_, &none), "posix_spawnattr_setsigmask"));
  BERTH_TRY(check_spawn(posix_spawnattr_setsigdefault(&a.attr_, &defaults), "posix_spawnattr_setsigdefault"));
  BERTH_TRY(check_spawn(posix_spawnattr_setpgroup(&a.attr_, 0), "posix_spawnattr_setpgroup"));
  BERTH_TRY(check_spawn(
      posix_spawnattr_setflags(&a.attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP),
      "posix_spawnattr_setflags"));
  BERTH_TRY(check_spawn(posix_spawn_file_actions_addopen(&a.actions_, 0, "/dev/null", O_RDONLY, 0), "stdin"));
  if (out_fd >= 0) {
    BERTH_TRY(check_spawn(posix_spawn_file_actions_adddup2(&a.actions_, out_fd, 1), "stdout"));
    BERTH_TRY(check_spawn(posix_spawn_file_actions_adddup2(&a.actions_, out_fd, 2), "stderr"));
  } else {
    const std::string& out = s.stdout_path.empty() ? std::string("/dev/null") : s.stdout_path;
    const std::string& err = s.stderr_path.empty() ? std::string("/dev/null") : s.stderr_path;
    BERTH_TRY(check_spawn(
        posix_spawn_file_actions_addopen(&a.actions_, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), "stdout"));
    BERTH_TRY(check_spawn(
        posix_spawn_file_actions_addopen(&a.actions_, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), "stderr"));
  }
  std::vector<std::string> full;
  UniqueFd report_rd, report_wr;
  if (!s.launcher.empty()) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe");
    report_rd.reset(p[0]);
    report_wr.reset(p[1]);
    BERTH_TRY(check_spawn(posix_spawn_file_actions_adddup2(&a.actions_, report_wr.get(), 3), "report fd"));
    full = {s.launcher, kExecHelperFlag, cat(timeout_ms), "--"};
  }
  full.insert(full.end(), s.argv.begin(), s.argv.end());
  std::vector<char*> argv, envp;
  for (const auto& x : full) argv.push_back(const_cast<char*>(x.c_str()));
  argv.push_back(nullptr);
  for (const auto& x : s.env) envp.push_back(const_cast<char*>(x.c_str()));
  envp.push_back(nullptr);

  Child c;
  c.start_ns = monotonic_ns();
  int rc = full[0].find('/') == std::string::npos
               ? posix_spawnp(&c.pid, full[0].c_str(), &a.actions_, &a.attr_, argv.data(), envp.data())
               : posix_spawn(&c.pid, full[0].c_str(), &a.actions_, &a.attr_, argv.data(), envp.data());
  if (rc != 0) return Error(rc, cat("spawn ", full[0]));
  report_wr.reset();
  c.report = std::move(report_rd);
  c.deadline_ns = c.start_ns + static_cast<uint64_t>(timeout_ms + (s.launcher.empty() ? 0 : kLauncherGraceMs)) * 1000000ull;
  // The pid cannot be reused before we reap it, so the pidfd is the child's.
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, c.pid, 0));
  if (fd < 0) {
    Error e = sys_error("pidfd_open ", c.pid);
    ::kill(-c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
    return e;
  }
  c.pidfd.reset(fd);
  return c;
}

Result<Measurement> reap(Child& c, bool timed_out) {
  if (timed_out) ::kill(-c.pid, SIGKILL);
  int status = 0;
  rusage ru{};
  for (;;) {
    pid_t r = ::wait4(c.pid, &status, 0, &ru);
    if (r == c.pid) break;
    if (r < 0 && errno == EINTR) continue;
    return sys_error("wait4 ", c.pid);
  }
  uint64_t end = monotonic_ns();
  Measurement m;
  m.wall_ms = static_cast<double>(end - c.start_ns) / 1e6;
  m.user_ms = tv_ms(ru.ru_utime);
  m.sys_ms = tv_ms(ru.ru_stime);
  m.max_rss_kib = ru.ru_maxrss;
  m.exit_code = shell_code(status);
  m.timed_out = timed_out;
  if (!c.report || timed_out) return m;
  // The launcher's own numbers replace ours: they leave out its exec.
  auto text = read_fd(c.report.get());
  if (!text) return std::move(text).error().wrap("read the launcher's report");
  long long wall_ns = 0, user_us = 0, sys_us = 0;
  long rss = 0;
  int code = -1, late = 0;
  if (m.exit_code != 0 || !parse_helper_report(text->c_str(), &wall_ns, &user_us, &sys_us, &rss, &code, &late))
    return make_error("the launcher failed (exit status ", m.exit_code, ")");
  m.wall_ms = static_cast<double>(wall_ns) / 1e6;
  m.user_ms = static_cast<double>(user_us) / 1e3;
  m.sys_ms = static_cast<double>(sys_us) / 1e3;
  m.max_rss_kib = rss;
  m.exit_code = code;
  m.timed_out = late != 0;
  return m;
}

void kill_all(std::vector<Child>& running) {
  for (auto& c : running) {
    ::kill(-c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
  }
  running.clear();
}

}  // namespace

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void request_stop() { g_stop = 1; }
bool stop_requested() { return g_stop != 0; }

Result<Batch> run_batch(int total, int parallel, const std::function<Spawn(int, int)>& make, int timeout_ms) {
  if (total < 0 || parallel < 1) return make_error("run_batch: need total >= 0 and parallel >= 1");
  Batch batch;
  batch.runs.resize(static_cast<size_t>(total));
  std::vector<Child> running;
  std::vector<bool> slot_busy(static_cast<size_t>(parallel), false);
  int next = 0;
  uint64_t first = 0, last = 0;
  while (next < total || !running.empty()) {
    if (stop_requested()) {
      kill_all(running);
      return Error(EINTR, "interrupted");
    }
    while (next < total && static_cast<int>(running.size()) < parallel) {
      int slot = 0;
      while (slot_busy[static_cast<size_t>(slot)]) ++slot;
      Spawn s = make(next, slot);
      auto c = start(s, -1, timeout_ms);
      if (!c) {
        kill_all(running);
        return std::move(c).error();
      }
      c->index = static_cast<size_t>(next);
      c->slot = slot;
      if (next == 0) first = c->start_ns;
      slot_busy[static_cast<size_t>(slot)] = true;
      running.push_back(std::move(*c));
      ++next;
    }
    std::vector<pollfd> fds;
    uint64_t now = monotonic_ns(), soonest = UINT64_MAX;
    for (auto& c : running) {
      fds.push_back(pollfd{c.pidfd.get(), POLLIN, 0});
      soonest = std::min(soonest, c.deadline_ns);
    }
    int wait_ms = soonest <= now ? 0 : static_cast<int>((soonest - now) / 1000000ull) + 1;
    int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0 && errno != EINTR) {
      Error e = sys_error("poll");
      kill_all(running);
      return e;
    }
    now = monotonic_ns();
    for (size_t i = running.size(); i-- > 0;) {
      Child& c = running[i];
      bool exited = n > 0 && (fds[i].revents & (POLLIN | POLLHUP));
      bool late = !exited && now >= c.deadline_ns;
      if (!exited && !late) continue;
      auto m = reap(c, late);
      if (!m) {
        running.erase(running.begin() + static_cast<long>(i));
        kill_all(running);
        return std::move(m).error();
      }
      batch.runs[c.index] = *m;
      last = std::max(last, monotonic_ns());
      slot_busy[static_cast<size_t>(c.slot)] = false;
      running.erase(running.begin() + static_cast<long>(i));
    }
  }
  batch.elapsed_ms = total > 0 ? static_cast<double>(last - first) / 1e6 : 0;
  return batch;
}

Result<Measurement> run_measured(const Spawn& s, int timeout_ms) {
  auto b = run_batch(1, 1, [&](int, int) { return s; }, timeout_ms);
  if (!b) return std::move(b).error();
  return b->runs[0];
}

Result<Captured> capture(const std::vector<std::string>& argv, int timeout_ms, bool interruptible) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  Spawn s;
  s.argv = argv;
  s.env = environment_with({"LC_ALL=C"});
  auto c = start(s, wr.get(), timeout_ms);
  if (!c) return std::move(c).error();
  wr.reset();
  Captured out;
  uint64_t deadline = c->start_ns + static_cast<uint64_t>(timeout_ms) * 1000000ull;
  bool late = false;
  for (;;) {
    uint64_t now = monotonic_ns();
    if (now >= deadline || (interruptible && stop_requested())) {
      late = true;
      break;
    }
    pollfd pfd{rd.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>((deadline - now) / 1000000ull) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) continue;
    char buf[4096];
    ssize_t r = ::read(rd.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.output.append(buf, static_cast<size_t>(r));
  }
  auto m = reap(*c, late);
  if (!m) return std::move(m).error();
  if (late) return Error(ETIMEDOUT, cat(argv[0], " did not finish within ", timeout_ms / 1000, " s"));
  out.exit_code = m->exit_code;
  return out;
}

std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    bool replaced = false;
    for (const auto& x : extra)
      if (name_of(x) == name_of(kv)) replaced = true;
    if (!replaced) env.push_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace berth::bench
