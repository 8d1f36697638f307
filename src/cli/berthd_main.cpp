// berthd: the daemon behind the docker-compatible socket. Serves the Engine
// API subset in src/daemon over a unix socket; the built-in busybox image is
// imported on start, so `docker images` shows it without a network.
//
//   berthd [-H unix:///run/berth/berth.sock] [--data-root DIR] [--exec-root DIR]
//          [--builtin-image DIR] [--debug]
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "cli/flags.hpp"
#include "cli/units.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "common/unix_socket.hpp"
#include "daemon/api.hpp"
#include "daemon/image_helper.hpp"
#include "daemon/http.hpp"
#include "image/prune.hpp"
#include "version.hpp"

namespace {

using namespace berth;

constexpr const char* kUsage =
    "usage: berthd [OPTIONS]\n"
    "\n"
    "The berth daemon: a Docker Engine API subset on a unix socket.\n"
    "\n"
    "Options:\n";

int fail(const Error& e) {
  std::fprintf(stderr, "berthd: %s\n", e.message().c_str());
  return 1;
}

// "unix:///run/berth/berth.sock" -> "/run/berth/berth.sock".
Result<std::string> socket_path(const std::string& host) {
  std::string p = host;
  if (p.starts_with("unix://"))
    p = p.substr(7);
  else if (p.find("://") != std::string::npos)
    return make_error("unsupported host ", host, ": berthd listens on unix sockets only (unix:///path)");
  if (p.empty() || p[0] != '/') return make_error("invalid host ", host, ": want unix:///absolute/path");
  if (p.size() >= sizeof(sockaddr_un{}.sun_path)) return make_error("socket path ", p, " is too long");
  return p;
}

// Binds `path` with mode 0660 (group `berth` when it exists, else root's),
// replacing a stale socket file but never one another daemon listens on.
Result<UniqueFd> listen_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return make_error(path, " exists and is not a socket; refusing to replace it");
    if (auto c = connect_unix(path); c)
      return make_error("another berthd is already listening on ", path,
                        "; stop it first or use -H for another socket");
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys_error("remove stale socket ", path);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  // The mode is right from the moment the socket exists: no window in which
  // another user could connect.
  mode_t old = ::umask(0117);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int saved = errno;
  ::umask(old);
  if (rc < 0) return Error(saved, cat("bind ", path));
  gid_t gid = 0;
  if (group* g = ::getgrnam("berth")) gid = g->gr_gid;
  if (::chown(path.c_str(), 0, gid) < 0 || ::chmod(path.c_str(), 0660) < 0) {
    Error e = sys_error("set owner and mode of ", path);
    ::unlink(path.c_str());
    return e;
  }
  if (::listen(fd.get(), 128) < 0) {
    Error e = sys_error("listen on ", path);
    ::unlink(path.c_str());
    return e;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string host = "unix:///run/berth/berth.sock";
  daemon::ApiConfig config;
  config.data_root = "/var/lib/berth";
  config.exec_root = "/run/berth";
  std::string builtin = image::builtin_image_dir();
  // berth-monitor and berth-runtime are installed next to berthd.
  std::string self_dir = ".";
  char self[4096];
  if (ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1); n > 0) {
    self_dir.assign(self, static_cast<size_t>(n));
    self_dir = self_dir.substr(0, self_dir.rfind('/'));
  }
  std::string log_max_size = "10m";
  config.monitor_path = self_dir + "/berth-monitor";
  config.runtime_path = self_dir + "/berth-runtime";
  // berth-image installs with the user commands; next to berthd in a build tree.
  config.image_helper_path = path_exists(self_dir + "/berth-image") ? self_dir + "/berth-image" : "berth-image";
  bool help = false, version = false;
  cli::FlagSet flags;
  flags.add_string("host", 'H', &host, "unix:///PATH",
                   "the socket to listen on (default unix:///run/berth/berth.sock)");
  flags.add_string("data-root", 0, &config.data_root, "DIR",
                   "images, containers and their state (default /var/lib/berth)");
  flags.add_string("exec-root", 0, &config.exec_root, "DIR", "runtime state (default /run/berth)");
  flags.add_string("builtin-image", 0, &builtin, "DIR", "OCI layout of the built-in busybox image");
  flags.add_string("monitor", 0, &config.monitor_path, "PATH", "the berth-monitor program (default: next to berthd)");
  flags.add_string("runtime", 0, &config.runtime_path, "PATH", "the berth-runtime program, for exec (default: next to berthd)");
  flags.add_string("image-helper", 0, &config.image_helper_path, "PATH",
                   "the berth-image program that pulls, loads and unpacks (default: next to berthd, else on PATH)");
  flags.add_string("cgroup-parent", 0, &config.cgroup_parent, "PATH",
                   "the cgroup below which each container gets its own (default /berth)");
  flags.add_string("log-max-size", 0, &log_max_size, "SIZE", "rotate a container's log at this size (default 10m)");
  flags.add_int("log-max-files", 0, &config.log_max_files, "N", "log files kept per container (default 2)");
  flags.add_bool("debug", 'D', &config.debug, "log every request");
  flags.add_bool("version", 'v', &version, "print the version and exit");
  auto rest = flags.parse(args, false, &help);
  if (!rest) {
    std::fprintf(stderr, "berthd: %s\n%s%s", rest.error().message().c_str(), kUsage, flags.usage().c_str());
    return 2;
  }
  if (help) {
    std::printf("%s%s", kUsage, flags.usage().c_str());
    return 0;
  }
  if (version) {
    std::printf("berthd version %s\ncommit: %s\nAPI version: %s (minimum %s)\n", kBerthVersion, kBerthCommit,
                std::string(daemon::kApiVersion).c_str(), std::string(daemon::kMinApiVersion).c_str());
    return 0;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berthd: unexpected argument \"%s\"\n%s%s", rest->front().c_str(), kUsage,
                 flags.usage().c_str());
    return 2;
  }
  if (auto n = cli::parse_bytes(log_max_size); n && *n > 0) {
    config.log_max_size = *n;
  } else {
    std::fprintf(stderr, "berthd: invalid --log-max-size \"%s\": want a size such as 10m\n", log_max_size.c_str());
    return 2;
  }
  if (config.cgroup_parent.empty() || config.cgroup_parent[0] != '/' ||
      config.cgroup_parent.find("..") != std::string::npos) {
    std::fprintf(stderr, "berthd: invalid --cgroup-parent \"%s\": want an absolute cgroup path\n",
                 config.cgroup_parent.c_str());
    return 2;
  }
  if (config.log_max_files < 1) {
    std::fprintf(stderr, "berthd: --log-max-files must be at least 1\n");
    return 2;
  }
  log::set_program("berthd");
  log::configure(STDERR_FILENO, log::Format::text, config.debug ? log::Level::debug : log::Level::info);

  auto path = socket_path(host);
  if (!path) return fail(path.error());
  for (std::string* dir : {&config.data_root, &config.exec_root}) {
    auto abs = absolute_path(*dir);
    if (!abs) return fail(abs.error());
    *dir = *abs;
  }
  if (auto st = mkdir_all(config.data_root, 0711); !st) return fail(st.error());
  if (auto st = mkdir_all(config.exec_root, 0700); !st) return fail(st.error());
  std::string sock_dir = path->substr(0, path->rfind('/'));
  if (!sock_dir.empty())
    if (auto st = mkdir_all(sock_dir, 0755); !st) return fail(st.error());

  // Signals arrive through a signalfd; blocked before any thread starts so
  // every connection thread inherits the mask.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC));
  if (!sigfd) return fail(sys_error("signalfd"));

  auto listener = listen_socket(*path);
  if (!listener) return fail(listener.error());
  struct RemoveSocket {
    std::string p;
    ~RemoveSocket() { ::unlink(p.c_str()); }
  } remove_socket{*path};

  auto api_r = daemon::Api::create(config);
  if (!api_r) return fail(api_r.error().wrap("open data root " + config.data_root));
  std::unique_ptr<daemon::Api> api = std::move(*api_r);

  if (!builtin.empty() && path_exists(builtin)) {
    // Only a first start (or one after `rmi busybox`) pays for the helper.
    if (auto have = api->index().get("docker.io/library/busybox:latest"); !have || !*have) {
      daemon::ImageHelper helper(config.image_helper_path, config.data_root);
      if (auto st = helper.run({"import", "--name", "busybox:latest", "--if-missing", "--unpack", builtin}); !st)
        log::warn(st.error().wrap("import the built-in image from " + builtin).message());
      else
        log::info("imported the built-in image busybox:latest from " + builtin);
    }
  } else {
    log::info("no built-in image at " + builtin);
  }

  if (auto st = api->containers().load(); !st) return fail(st.error().wrap("load containers"));

  daemon::ServerOptions opts;
  opts.common_headers = daemon::Api::common_headers();
  opts.on_stop = [&api] { api->containers().begin_shutdown(); };
  daemon::Server server(
      std::move(*listener),
      [&](daemon::Request& req, daemon::BodyReader& body, daemon::ResponseWriter& resp) {
        api->handle(req, body, resp);
      },
      std::move(opts));
  log::info(cat("berthd ", kBerthVersion, " listening on ", *path, " (API ", daemon::kApiVersion, ")"));
  auto left = server.run(sigfd.get());
  ::unlink(path->c_str());
  if (!left) return fail(left.error());
  if (*left > 0) log::warn(cat("exiting with ", *left, " requests still in progress"));
  // Requests still running (a long pull) and the container manager's own
  // threads (restart timers, exit handling) hold references into the server
  // and the manager: leave without unwinding them. Every record is on disk
  // and the stores are crash-safe; the containers run on under their
  // monitors.
  log::info("berthd stopped");
  std::fflush(nullptr);
  ::_exit(0);
}
