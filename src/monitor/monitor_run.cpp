// The monitor process: start-up (lock, stdio, create, start), then one epoll
// loop over the container's output, the attach socket and a signalfd until
// the container's init exits. Single-threaded, so the runtime library's
// fork/clone calls are safe.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <utility>
#include <vector>
#include <optional>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "common/unix_socket.hpp"
#include "monitor/monitor.hpp"
#include "monitor/protocol.hpp"
#include "runtime/container.hpp"

namespace berth::monitor {

namespace {

// epoll tags: the kind of source in the high 32 bits, the fd in the low.
enum Kind : uint32_t { kSignal = 1, kStdout, kStderr, kStdin, kListener, kClient };

uint64_t tag(Kind k, int fd) { return (uint64_t{k} << 32) | static_cast<uint32_t>(fd); }

Status set_nonblock(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return sys_error("set O_NONBLOCK");
  return {};
}

// Binds a SOCK_SEQPACKET listener at dir/name, mode 0600. A directory path
// too long for sun_path is reached through /proc/self/fd.
Result<UniqueFd> listen_seqpacket(const std::string& dir, int dirfd, std::string_view name) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error("socket");
  std::string path = cat(dir, "/", name);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string bind_path = path.size() < sizeof addr.sun_path ? path : cat("/proc/self/fd/", dirfd, "/", name);
  if (bind_path.size() >= sizeof addr.sun_path) return Error(ENAMETOOLONG, cat("socket path ", path));
  std::memcpy(addr.sun_path, bind_path.data(), bind_path.size());
  ::unlinkat(dirfd, std::string(name).c_str(), 0);
  // The socket file takes the umask: make it 0600 from the start.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0) return sys_error("bind ", path);
  if (::listen(fd.get(), 64) < 0) return sys_error("listen on ", path);
  return fd;
}

// Start-up ran most of the runtime library, and fault-around mapped nearly
// all of our (static) text. The loop needs a small part of it: unmap the
// pages of read-only mappings of our executable that hold nothing but file
// content, so that VmRSS counts only what the loop touches again. Mappings
// with anonymous pages (relocated RELRO data) are left alone: dropping those
// would bring back the unrelocated file content.
void trim_resident_code() {
  auto smaps = read_file("/proc/self/smaps");
  if (!smaps) return;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  std::string_view self_path(self, static_cast<size_t>(n));
  uintptr_t start = 0, end = 0;
  bool candidate = false;
  auto flush = [&](bool anonymous) {
    if (candidate && !anonymous && end > start)
      ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
    candidate = false;
  };
  for (const auto& line : split(*smaps, '\n')) {
    if (line.empty()) continue;
    if (line[0] >= 'A' && line[0] <= 'Z') {
      if (starts_with(line, "Anonymous:")) {
        auto kb = parse_int<uint64_t>(trim(std::string_view(line).substr(10, line.size() - 10 - 3)));
        flush(!kb || *kb != 0);
      }
      continue;
    }
    // "start-end perms offset dev inode path"
    auto fields = split(line, ' ');
    candidate = false;
    if (fields.size() < 6 || !ends_with(line, self_path)) continue;
    auto dash = fields[0].find('-');
    auto s = parse_int<uintptr_t>(fields[0].substr(0, dash), 16);
    auto e = parse_int<uintptr_t>(fields[0].substr(dash + 1), 16);
    const std::string& perms = fields[1];
    if (!s || !e || perms.size() < 4) continue;
    start = *s;
    end = *e;
    candidate = perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
  }
}

// Stdin the container has not read yet that the monitor holds at most
// (plus one message) before it stops reading attach clients.
constexpr size_t kStdinHighWater = 1024 * 1024;

struct Client {
  bool wrote_stdin = false;
};

class Monitor {
 public:
  explicit Monitor(const Options& o) : o_(o), log_(o.dir, o.log_max_size, o.log_max_files) {}
  int run();

 private:
  Status start_up();
  Status setup_stdio_pipes();
  Status create_and_start();
  Status setup_loop();
  void loop();
  void finish();
  void fail(const Error& e);
  void sync_line(const std::string& line);

  void on_output(Kind k, int fd, int max_reads = 16);
  void on_signal();
  void on_accept();
  void on_client(int fd);
  void drop_client(int fd);
  void write_stdin(std::string_view data);
  void flush_stdin();
  void close_stdin();
  void resume_clients();
  void reap();

  const Options& o_;
  LogWriter log_;
  UniqueFd dirfd_, lock_, devnull_, sync_, diag_;
  UniqueFd out_r_, err_r_, in_w_, master_;  // the monitor's ends
  UniqueFd console_listener_;
  std::string console_path_;
  UniqueFd epoll_, signal_, listener_;
  std::map<int, Client> clients_;
  std::vector<int> paused_;  // clients out of epoll while stdin is backed up
  std::string stdin_pending_;
  bool close_stdin_after_flush_ = false;
  bool created_ = false;
  bool pid_written_ = false;  // not before we hold the lock: the file may be another monitor's
  pid_t init_pid_ = -1;
  bool init_exited_ = false;
  int init_status_ = 0;
};

void Monitor::sync_line(const std::string& line) {
  if (!sync_) return;
  (void)write_all(sync_.get(), line, "sync fd");
  sync_.reset();
}

void Monitor::fail(const Error& e) {
  if (created_) (void)runtime::delete_container(o_.root, o_.id, true);
  if (listener_) ::unlinkat(dirfd_.get(), std::string(kAttachSocket).c_str(), 0);
  if (!console_path_.empty()) ::unlink(console_path_.c_str());
  if (pid_written_) ::unlinkat(dirfd_.get(), std::string(kPidFile).c_str(), 0);
  log::error(e.message());
  sync_line(cat("error ", e.message(), "\n"));
}

Status Monitor::start_up() {
  // Nothing berthd left open may reach the container, or keep a pipe of
  // berthd's alive: keep 0, 1, 2 and the sync fd only.
  int keep = o_.sync_fd;
  if (keep >= 0 && keep <= 2) {
    sync_.reset(::fcntl(keep, F_DUPFD_CLOEXEC, 3));
    keep = sync_.get();
  } else if (keep > 2) {
    sync_.reset(keep);
    ::fcntl(keep, F_SETFD, FD_CLOEXEC);
  }
  if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
  ::close_range(keep >= 3 ? static_cast<unsigned>(keep) + 1 : 3, ~0U, 0);
  // Our own diagnostics go where berthd sent our stderr; fd 2 itself is
  // about to become the container's.
  diag_.reset(::fcntl(2, F_DUPFD_CLOEXEC, 3));
  log::set_program("berth-monitor");
  log::configure(diag_.get(), log::Format::human, log::Level::warning);
  // The container inherits our signal state through create: give it the
  // defaults, whatever berthd left ignored or blocked.
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // 0, 1 and 2 must be taken, or pipes would land there and be clobbered.
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) ::open("/dev/null", O_RDWR);
  devnull_.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull_) return sys_error("open /dev/null");
  // A new session: berthd's session or process group ending does not reach us.
  ::setsid();
  dirfd_.reset(::open(o_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd_) return sys_error("open ", o_.dir);
  lock_.reset(::openat(dirfd_.get(), std::string(kLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_) return sys_error("open ", o_.dir, "/", kLockFile);
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) < 0) return sys_error("lock ", o_.dir, "/", kLockFile);
  BERTH_TRY(write_file_atomic(dirfd_.get(), std::string(kPidFile), cat(::getpid(), "\n"), 0644));
  pid_written_ = true;
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return sys_error("set child subreaper");
  BERTH_TRY(log_.open());
  ::unlinkat(dirfd_.get(), std::string(kExitFile).c_str(), 0);
  return {};
}

Status Monitor::setup_stdio_pipes() {
  int out[2], err[2], in[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) < 0) return sys_error("pipe");
  out_r_.reset(out[0]);
  UniqueFd out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) < 0) return sys_error("pipe");
  err_r_.reset(err[0]);
  UniqueFd err_w(err[1]);
  UniqueFd in_r;
  if (o_.stdin_open) {
    if (::pipe2(in, O_CLOEXEC) < 0) return sys_error("pipe");
    in_r.reset(in[0]);
    in_w_.reset(in[1]);
  }
  // dup2 leaves the copies without O_CLOEXEC: these three are what the
  // container's init inherits as 0, 1 and 2.
  if (::dup2(in_r ? in_r.get() : devnull_.get(), 0) < 0 || ::dup2(out_w.get(), 1) < 0 ||
      ::dup2(err_w.get(), 2) < 0)
    return sys_error("dup2 container stdio");
  return {};
}

Status Monitor::create_and_start() {
  runtime::CreateOptions c;
  c.root = o_.root;
  c.id = o_.id;
  c.bundle = o_.bundle;
  c.pid_file = cat(o_.dir, "/.init.pid");
  if (o_.tty) {
    console_path_ = cat(o_.dir, "/console.sock");
    if (console_path_.size() >= sizeof(sockaddr_un::sun_path))
      console_path_ = cat("/tmp/berth-monitor-", ::getpid(), ".sock");
    ::unlink(console_path_.c_str());
    auto l = listen_unix(console_path_);
    if (!l) return std::move(l).error();
    console_listener_ = std::move(*l);
    c.console_socket = console_path_;
    for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull_.get(), fd);
  } else {
    BERTH_TRY(setup_stdio_pipes());
  }
  Status created = runtime::create_container(c);
  // Whatever happened, the container's stdio is no business of ours.
  for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull_.get(), fd);
  if (!created) {
    if (!console_path_.empty()) ::unlink(console_path_.c_str());
    return std::move(created).error();
  }
  created_ = true;
  auto pid_text = read_file(c.pid_file);
  ::unlink(c.pid_file.c_str());
  if (!pid_text) return std::move(pid_text).error();
  auto pid = parse_int<pid_t>(trim(*pid_text));
  if (!pid || *pid <= 0) return make_error("bad pid file ", c.pid_file);
  init_pid_ = *pid;
  if (o_.tty) {
    // The runtime connected during create (the backlog held it); it has
    // sent the master by now.
    UniqueFd conn(::accept4(console_listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    console_listener_.reset();
    ::unlink(console_path_.c_str());
    console_path_.clear();
    if (!conn) return sys_error("accept on console socket");
    std::string name;
    auto m = recv_fd(conn.get(), &name);
    if (!m) return std::move(m).error().wrap("receive the pty master");
    master_ = std::move(*m);
    ::fcntl(master_.get(), F_SETFD, FD_CLOEXEC);
    BERTH_TRY(set_nonblock(master_.get()));
    // Stdin goes to the master through its own fd so that epoll can wait
    // for room on it apart from reading output.
    if (o_.stdin_open) in_w_.reset(::fcntl(master_.get(), F_DUPFD_CLOEXEC, 3));
  }
  return {};
}

Status Monitor::setup_loop() {
  // Signals are blocked only now: the container's init was created with the
  // default mask, and the mask would otherwise survive its execve.
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&mask, s);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return sys_error("block signals");
  ::signal(SIGPIPE, SIG_IGN);
  signal_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_) return sys_error("signalfd");
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sys_error("epoll_create1");
  auto add = [&](Kind k, int fd, uint32_t events) -> Status {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag(k, fd);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return sys_error("epoll_ctl");
    return {};
  };
  BERTH_TRY(add(kSignal, signal_.get(), EPOLLIN));
  if (master_) {
    BERTH_TRY(add(kStdout, master_.get(), EPOLLIN));
  } else {
    BERTH_TRY(set_nonblock(out_r_.get()));
    BERTH_TRY(set_nonblock(err_r_.get()));
    BERTH_TRY(add(kStdout, out_r_.get(), EPOLLIN));
    BERTH_TRY(add(kStderr, err_r_.get(), EPOLLIN));
  }
  if (in_w_) BERTH_TRY(set_nonblock(in_w_.get()));
  auto l = listen_seqpacket(o_.dir, dirfd_.get(), kAttachSocket);
  if (!l) return std::move(l).error();
  listener_ = std::move(*l);
  BERTH_TRY(add(kListener, listener_.get(), EPOLLIN));
  return {};
}

void Monitor::on_output(Kind k, int fd, int max_reads) {
  Stream s = k == kStderr ? Stream::stderr_ : Stream::stdout_;
  static char buf[32 * 1024];
  // Bounded, so that a container writing without pause cannot starve the
  // other sources; epoll is level-triggered and brings us back.
  for (int reads = 0; reads < max_reads; ++reads) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      if (auto st = log_.feed(s, std::string_view(buf, static_cast<size_t>(n)), now_rfc3339_nano()); !st)
        log::warn(st.error().message());
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EOF, or EIO from a pty master whose slaves are all closed.
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    if (auto st = log_.finish(s, now_rfc3339_nano()); !st) log::warn(st.error().message());
    if (k == kStderr) {
      err_r_.reset();
    } else if (master_) {
      // Keep the master itself: resizes still go through it.
    } else {
      out_r_.reset();
    }
    return;
  }
}

void Monitor::reap() {
  for (;;) {
    int status = 0;
    pid_t p = ::waitpid(-1, &status, WNOHANG);
    if (p <= 0) return;
    if (p == init_pid_) {
      init_exited_ = true;
      init_status_ = status;
    }
  }
}

void Monitor::on_signal() {
  signalfd_siginfo si{};
  while (::read(signal_.get(), &si, sizeof si) == sizeof si) {
    if (si.ssi_signo != SIGCHLD) log::info(cat("ignoring signal ", si.ssi_signo));
  }
  reap();
}

void Monitor::on_accept() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(kClient, fd);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
      ::close(fd);
      continue;
    }
    clients_[fd] = Client{};
  }
}

void Monitor::drop_client(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  bool wrote = it->second.wrote_stdin;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  clients_.erase(it);
  if (wrote && o_.stdin_once) close_stdin();
}

void Monitor::on_client(int fd) {
  static char buf[kMaxMessage];
  for (int msgs = 0; msgs < 64; ++msgs) {
    if (stdin_pending_.size() >= kStdinHighWater) {
      // The container does not read as fast as clients write: stop reading
      // this client (out of epoll, so neither data nor its hang-up wakes us)
      // until the backlog has gone into the container.
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
      paused_.push_back(fd);
      return;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      drop_client(fd);
      return;
    }
    std::string_view msg(buf, static_cast<size_t>(n));
    char type = msg.front();
    msg.remove_prefix(1);
    if (type == kMsgStdin) {
      clients_[fd].wrote_stdin = true;
      write_stdin(msg);
    } else if (type == kMsgCloseStdin) {
      close_stdin();
    } else if (type == kMsgResize && master_) {
      auto parts = split(trim(msg), ' ');
      std::optional<unsigned short> rows, cols;
      if (parts.size() == 2) {
        rows = parse_int<unsigned short>(parts[0]);
        cols = parse_int<unsigned short>(parts[1]);
      }
      if (rows && cols) {
        winsize ws{};
        ws.ws_row = *rows;
        ws.ws_col = *cols;
        if (::ioctl(master_.get(), TIOCSWINSZ, &ws) < 0) log::warn(sys_error("resize the pty").message());
      }
    }
  }
}

void Monitor::write_stdin(std::string_view data) {
  if (!in_w_ || close_stdin_after_flush_) return;
  stdin_pending_.append(data);
  flush_stdin();
}

void Monitor::flush_stdin() {
  while (in_w_ && !stdin_pending_.empty()) {
    ssize_t n = ::write(in_w_.get(), stdin_pending_.data(), stdin_pending_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // Wait for room; the level-triggered EPOLLOUT brings us back.
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u64 = tag(kStdin, in_w_.get());
      if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, in_w_.get(), &ev) < 0 && errno == EEXIST)
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, in_w_.get(), &ev);
      return;
    }
    if (n < 0) {
      // EPIPE: the container closed its stdin; nobody will read the rest.
      stdin_pending_.clear();
      close_stdin_after_flush_ = true;
      break;
    }
    stdin_pending_.erase(0, static_cast<size_t>(n));
  }
  if (in_w_) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, in_w_.get(), nullptr);
  resume_clients();
  if (close_stdin_after_flush_ && in_w_) {
    // A tty has no half-close: the line discipline's EOF character stands in.
    if (master_) (void)!::write(in_w_.get(), "\x04", 1);
    in_w_.reset();
  }
}

void Monitor::resume_clients() {
  // drop_client can come back here (stdin-once): work on a copy.
  std::vector<int> paused = std::exchange(paused_, {});
  for (int fd : paused) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(kClient, fd);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) drop_client(fd);
  }
}

void Monitor::close_stdin() {
  close_stdin_after_flush_ = true;
  flush_stdin();
}

int Monitor::run() {
  Status st = start_up();
  if (st) st = create_and_start();
  if (st) st = setup_loop();
  if (st) {
    auto s = runtime::start_container(o_.root, o_.id);
    if (!s) st = std::move(s).error();
  }
  if (!st) {
    fail(st.error());
    return 1;
  }
  sync_line(cat("ok ", init_pid_, "\n"));
  trim_resident_code();
  loop();
  finish();
  return 0;
}

void Monitor::loop() {
  reap();  // children that exited before the signalfd existed
  epoll_event evs[16];
  while (!init_exited_) {
    int n = ::epoll_wait(epoll_.get(), evs, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error(sys_error("epoll_wait").message());
      break;
    }
    for (int i = 0; i < n; ++i) {
      auto k = static_cast<Kind>(evs[i].data.u64 >> 32);
      int fd = static_cast<int>(evs[i].data.u64 & 0xffffffffu);
      switch (k) {
        case kSignal: on_signal(); break;
        case kStdout:
        case kStderr: on_output(k, fd); break;
        case kStdin: flush_stdin(); break;
        case kListener: on_accept(); break;
        case kClient: on_client(fd); break;
      }
    }
  }
}

void Monitor::finish() {
  // What the init wrote before it exited is still in the pipes (or the pty):
  // read until empty, without waiting for processes that may hold them open.
  constexpr int kDrainReads = 1024;  // 32 MiB: more is a process still writing
  if (master_) on_output(kStdout, master_.get(), kDrainReads);
  if (out_r_) on_output(kStdout, out_r_.get(), kDrainReads);
  if (err_r_) on_output(kStderr, err_r_.get(), kDrainReads);
  std::string now = now_rfc3339_nano();
  (void)log_.finish(Stream::stdout_, now);
  (void)log_.finish(Stream::stderr_, now);
  bool oom = false;
  if (auto stats = runtime::container_stats(o_.root, o_.id)) oom = stats_report_oom_kill(*stats);
  std::string exit_text = exit_json(exit_status(init_status_), oom, now_rfc3339_nano());
  if (auto w = write_file_atomic(dirfd_.get(), std::string(kExitFile), exit_text, 0644); !w)
    log::error(w.error().message());
  if (auto d = runtime::delete_container(o_.root, o_.id, true); !d) log::error(d.error().message());
  ::unlinkat(dirfd_.get(), std::string(kAttachSocket).c_str(), 0);
}

}  // namespace

int run(const Options& opts) { return Monitor(opts).run(); }

}  // namespace berth::monitor
