#include "test_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "cgroups/cgroup.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"
#include "runtime/spec_default.hpp"

namespace berth::test {

namespace {
std::atomic<int> g_counter{0};

std::string unique_name(const std::string& prefix) {
  return cat(prefix, "-", ::getpid(), "-", g_counter++);
}
}  // namespace

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = cat(base && *base ? base : "/tmp", "/", prefix, "-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() { (void)remove_all(path_); }

RunResult run(const std::vector<std::string>& argv, const std::string& input, int timeout_s,
              const std::vector<int>& extra_fds) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
    throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    // Move the extra fds out of the way first, then into place at 3, 4, ...
    std::vector<int> moved;
    for (int fd : extra_fds) moved.push_back(::fcntl(fd, F_DUPFD, 100));
    for (size_t i = 0; i < moved.size(); ++i) ::dup2(moved[i], 3 + static_cast<int>(i));
    ::close_range(3 + static_cast<unsigned>(moved.size()), ~0U, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty()) (void)write_all(in[1], input, "stdin");
  ::close(in[1]);
  RunResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  auto drain = [&](int timeout_ms) {
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      if (::poll(fds, 2, timeout_ms) <= 0) return;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
        char buf[4096];
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          continue;
        }
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  };
  // Read until the program exits. A container it left running (create,
  // run -d) may hold the pipes open for much longer: once the program is
  // gone, take what is already buffered and stop.
  int status = 0;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    drain(100);
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > timeout_s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.err += "\n[test harness: killed after timeout]";
      break;
    }
  }
  drain(0);
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string runtime_binary() {
  const char* p = std::getenv("BERTH_RUNTIME");
  return p && *p ? p : "berth-runtime";
}

void make_rootfs(const std::string& dir) {
  for (const char* d : {"bin", "proc", "sys", "dev", "etc", "tmp", "home/tester", "mnt"})
    if (!mkdir_all(dir + "/" + d, 0755)) throw std::runtime_error("mkdir rootfs");
  ::chmod((dir + "/tmp").c_str(), 01777);
  auto busybox = read_file("/bin/busybox");
  if (!busybox) throw std::runtime_error("busybox-static is not installed (/bin/busybox)");
  if (!write_file(dir + "/bin/busybox", *busybox, true, 0755)) throw std::runtime_error("copy busybox");
  auto list = run({"/bin/busybox", "--list"});
  for (const auto& applet : split(list.out, '\n'))
    if (!applet.empty() && applet != "busybox") ::symlink("busybox", (dir + "/bin/" + applet).c_str());
  (void)write_file(dir + "/etc/passwd",
                   "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/home/tester:/bin/sh\n", true);
  (void)write_file(dir + "/etc/group", "root:x:0:\ntty:x:5:\ntester:x:1000:\n", true);
}

std::string cgroup_mount() {
  auto m = cgroups::unified_mountpoint();
  if (!m) throw std::runtime_error(m.error().message());
  return *m;
}

TestCgroup::TestCgroup() : name_(unique_name("berth-test")) {
  if (::mkdir((cgroup_mount() + "/" + name_).c_str(), 0755) < 0) throw std::runtime_error("create test cgroup");
}

TestCgroup::~TestCgroup() {
  std::string dir = cgroup_mount() + "/" + name_;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      auto child = cgroups::Cgroup::at(cgroup_mount(), "/" + name_ + "/" + e->d_name);
      (void)child.destroy();
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

int TestCgroup::children() const {
  int n = 0;
  std::string dir = cgroup_mount() + "/" + name_;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

Bundle::Bundle(const std::string& id) : dir_("berth-bundle"), id_(id) {
  make_rootfs(rootfs());
  config = json::parse(runtime::default_spec_json(false, 0, 0));
  config["process"]["terminal"] = false;
  config["root"]["readonly"] = false;
  config["linux"]["cgroupsPath"] = cgroup_.path_for(id);
}

Bundle& Bundle::args(const std::vector<std::string>& a) {
  config["process"]["args"] = a;
  return *this;
}

Bundle& Bundle::sh(const std::string& script) { return args({"sh", "-c", script}); }

void Bundle::write() const {
  if (!write_file(dir_ / "config.json", config.dump(2), true)) throw std::runtime_error("write config.json");
}

RunResult Bundle::runtime(const std::vector<std::string>& args, const std::string& input,
                          const std::vector<int>& extra_fds) const {
  std::vector<std::string> argv = {runtime_binary(), "--root", root()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, input, 60, extra_fds);
}

RunResult Bundle::run_container(const std::vector<std::string>& extra) const {
  write();
  std::vector<std::string> args = {"run", "--bundle", path()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id_);
  return runtime(args);
}

std::string slurp(const std::string& path) {
  auto text = read_file(path);
  return text ? *text : std::string();
}

int count_mounts(const std::string& needle) {
  auto info = read_file("/proc/self/mountinfo");
  if (!info) return -1;
  int n = 0;
  for (const auto& line : split(*info, '\n'))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

int count_entries(const std::string& dir) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) ++n;
    ::closedir(d);
  }
  return n;
}

std::string host_namespace(const std::string& name) {
  char buf[256];
  ssize_t n = ::readlink(("/proc/self/ns/" + name).c_str(), buf, sizeof buf - 1);
  if (n < 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace berth::test
