#include "runtime/init_process.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "common/unix_socket.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/sync_protocol.hpp"

namespace berth::runtime {

void close_fds_except(std::vector<int> keep, int preserve_fds) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = static_cast<unsigned>(3 + preserve_fds);
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned>(fd) < lo) continue;
    if (static_cast<unsigned>(fd) > lo) ::syscall(SYS_close_range, lo, static_cast<unsigned>(fd) - 1, 0);
    lo = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, lo, ~0U, 0);
}

Status become_namespace_root() {
  if (::syscall(SYS_setresgid, 0, 0, 0) < 0) return sys_error("setgid to root of the user namespace");
  if (::syscall(SYS_setresuid, 0, 0, 0) < 0) return sys_error("setuid to root of the user namespace");
  if (::syscall(SYS_setgroups, 0, nullptr) < 0 && errno != EPERM) return sys_error("drop supplementary groups");
  return {};
}

Status load_seccomp(const SeccompProgram& program, int sync_fd) {
  auto listener = install_seccomp(program);
  if (!listener) return std::move(listener).error();
  if (*listener < 0) return {};
  UniqueFd owned(*listener);
  return sync_send_fd(sync_fd, SyncType::seccomp_fd, owned.get());
}

Status set_oom_score_adj(int value) {
  if (auto st = write_file("/proc/self/oom_score_adj", cat(value)); !st)
    return Error(st.error().code(), cat("set oom_score_adj to ", value));
  return {};
}

Status set_rlimits(const std::vector<RlimitOp>& limits) {
  for (const auto& r : limits) {
    rlimit64 lim{r.soft, r.hard};
    if (::prlimit64(0, static_cast<__rlimit_resource>(r.resource), &lim, nullptr) < 0)
      return sys_error("setrlimit ", r.name, " (soft ", r.soft, ", hard ", r.hard, ")");
  }
  return {};
}

Status setup_console(const ProcessPlan& p, int console_sock, bool bind_dev_console) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return sys_error("open /dev/ptmx");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return sys_error("unlock pty");
  unsigned ptn = 0;
  if (::ioctl(master.get(), TIOCGPTN, &ptn) < 0) return sys_error("get pty number");
  std::string slave_path = cat("/dev/pts/", ptn);
  // TIOCGPTPEER opens the peer of exactly this master, with no path lookup.
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return sys_error("open ", slave_path);
  if (p.console_size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(p.console_size->height);
    ws.ws_col = static_cast<unsigned short>(p.console_size->width);
    if (::ioctl(slave.get(), TIOCSWINSZ, &ws) < 0) return sys_error("set console size");
  }
  if (::fchown(slave.get(), p.uid, p.gid) < 0 && errno != EINVAL) return sys_error("chown ", slave_path);
  BERTH_TRY_CTX(send_fd(console_sock, master.get(), slave_path), "send pty master over console socket");
  master.reset();
  if (bind_dev_console && ::mount(slave_path.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) < 0)
    return sys_error("mount ", slave_path, " on /dev/console");
  if (::setsid() < 0) return sys_error("setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0) return sys_error("make ", slave_path, " the controlling terminal");
  for (int fd = 0; fd <= 2; ++fd)
    if (::dup3(slave.get(), fd, 0) < 0) return sys_error("dup pty onto fd ", fd);
  return {};
}

std::vector<std::string> process_env(const ProcessPlan& p) {
  std::vector<std::string> env = p.env;
  for (const auto& e : env)
    if (starts_with(e, "HOME=")) return env;
  std::string home = "/";
  if (auto passwd = read_file("/etc/passwd")) {
    for (const auto& line : split(*passwd, '\n')) {
      auto f = split(line, ':');
      if (f.size() >= 6 && parse_int<uid_t>(f[2]) == p.uid && !f[5].empty()) {
        home = f[5];
        break;
      }
    }
  }
  env.push_back("HOME=" + home);
  return env;
}

Result<std::string> resolve_executable(const std::string& arg0, const std::vector<std::string>& env,
                                       const std::string& cwd) {
  auto executable = [&](const std::string& path, int* err) {
    std::string at = path.front() == '/' ? path : path_join(cwd, path);
    struct stat st{};
    if (::stat(at.c_str(), &st) < 0) {
      *err = errno;
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      *err = EISDIR;
      return false;
    }
    if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
      *err = EACCES;
      return false;
    }
    return true;
  };
  int err = 0;
  if (arg0.find('/') != std::string::npos) {
    if (executable(arg0, &err)) return arg0;
    return Error(err, cat("exec: ", quote(arg0), ": stat ", arg0));
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env)
    if (starts_with(e, "PATH=")) path = e.substr(5);
  for (const auto& dir : split(path, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + arg0;
    if (executable(candidate, &err)) return candidate;
  }
  return make_error("exec: ", quote(arg0), ": executable file not found in $PATH");
}

Status prepare_fds(int preserve_fds) {
  for (int fd = 3; fd < 3 + preserve_fds; ++fd)
    if (::fcntl(fd, F_SETFD, 0) < 0) return sys_error("keep preserved fd ", fd);
  if (::syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return sys_error("mark fds close-on-exec");
  return {};
}

namespace {

Status capset_all(const CapabilitySets& c) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(c.effective);
  data[1].effective = static_cast<uint32_t>(c.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(c.permitted);
  data[1].permitted = static_cast<uint32_t>(c.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(c.inheritable);
  data[1].inheritable = static_cast<uint32_t>(c.inheritable >> 32);
  if (::syscall(SYS_capset, &hdr, data) < 0) return sys_error("capset");
  return {};
}

}  // namespace

Status apply_credentials(const ProcessPlan& p) {
  if (p.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys_error("set no_new_privs");
  int last = kernel_last_capability();
  if (p.caps) {
    for (int c = 0; c <= last; ++c)
      if (!(p.caps->bounding & (uint64_t{1} << c)) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        return sys_error("drop ", capability_name(c), " from the bounding set");
  }
  // chdir as root first (a directory the runtime may enter but the user may
  // not); retry as the user when root is refused (root-squashed volumes).
  bool chdir_later = false;
  if (::chdir(p.cwd.c_str()) < 0) {
    if (errno != EACCES && errno != EPERM) return sys_error("chdir to cwd (", quote(p.cwd), ") set in config.json failed");
    chdir_later = true;
  }
  // Keep the permitted set across setuid so the configured sets can be set after it.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return sys_error("set keepcaps");
  if (::syscall(SYS_setgroups, p.groups.size(), p.groups.data()) < 0) return sys_error("setgroups");
  // Raw syscalls: glibc's wrappers would try to signal threads of the parent.
  if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) < 0) return sys_error("setgid ", p.gid);
  if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) < 0) return sys_error("setuid ", p.uid);
  if (chdir_later && ::chdir(p.cwd.c_str()) < 0)
    return sys_error("chdir to cwd (", quote(p.cwd), ") set in config.json failed");
  // A cwd reached through a magic link (/proc/self/fd/N of an fd the
  // runtime still holds) would leave the process in the host's filesystem;
  // the kernel then reports the directory as unreachable from our root.
  char here[4096];
  if (!::getcwd(here, sizeof here) || here[0] != '/')
    return make_error("cwd (", quote(p.cwd), ") is outside the container's root filesystem");
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return sys_error("clear keepcaps");
  if (p.caps) {
    BERTH_TRY(capset_all(*p.caps));
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
      return sys_error("clear ambient capabilities");
    for (int c = 0; c <= last; ++c) {
      if (!(p.caps->ambient & (uint64_t{1} << c))) continue;
      // Like runc: an ambient capability that is not also permitted and
      // inheritable cannot be raised; the kernel says EPERM and we go on.
      if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EPERM)
        return sys_error("raise ambient ", capability_name(c));
    }
  }
  ::umask(p.umask);
  return {};
}

}  // namespace berth::runtime
