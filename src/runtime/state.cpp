#include "runtime/state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"

namespace berth::runtime {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kStateFile = "state.json";

bool cgroup_frozen(const ContainerState& st) {
  if (st.cgroup_mount.empty() || st.cgroup_path.empty()) return false;
  auto events = read_file(st.cgroup_mount + st.cgroup_path + "/cgroup.events");
  if (!events) return false;
  for (const auto& line : split(*events, '\n'))
    if (line == "frozen 1") return true;
  return false;
}

ContainerStatus live_status(int dirfd, const ContainerState& st) {
  if (!process_matches(st.pid, st.pid_start_time)) return ContainerStatus::stopped;
  if (cgroup_frozen(st)) return ContainerStatus::paused;
  struct stat sb{};
  if (::fstatat(dirfd, "exec.fifo", &sb, AT_SYMLINK_NOFOLLOW) == 0) return ContainerStatus::created;
  return ContainerStatus::running;
}

Result<ContainerState> parse_state(const std::string& text, const std::string& id) {
  try {
    json j = json::parse(text);
    ContainerState s;
    s.oci_version = j.value("ociVersion", "");
    s.id = j.at("id").get<std::string>();
    s.pid = j.value("pid", 0);
    s.pid_start_time = j.value("pidStartTime", uint64_t{0});
    s.bundle = j.value("bundle", "");
    s.rootfs = j.value("rootfs", "");
    s.created = j.value("created", "");
    if (j.contains("annotations")) s.annotations = j["annotations"].get<std::map<std::string, std::string>>();
    s.cgroup_mount = j.value("cgroupMount", "");
    s.cgroup_path = j.value("cgroupPath", "");
    s.own_pid_ns = j.value("ownPidNamespace", false);
    return s;
  } catch (const std::exception& e) {
    return make_error("container ", quote(id), ": corrupt state file: ", e.what());
  }
}

}  // namespace

const char* status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::creating: return "creating";
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::paused: return "paused";
    case ContainerStatus::stopped: return "stopped";
  }
  return "unknown";
}

Status validate_id(const std::string& id) {
  auto bad = [&] { return make_error("invalid container ID format: ", quote(id)); };
  if (id.empty() || id == "." || id == ".." || id.size() > 1024) return bad();
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
              c == '-' || c == '.';
    if (!ok) return bad();
  }
  return {};
}

Result<StateDir> StateDir::create(const std::string& root, const std::string& id) {
  BERTH_TRY(validate_id(id));
  BERTH_TRY_CTX(mkdir_all(root, 0700), "create state root");
  StateDir d;
  d.path_ = path_join(root, id);
  d.id_ = id;
  if (::mkdir(d.path_.c_str(), 0711) < 0) {
    if (errno == EEXIST) return make_error("container with id exists: ", id);
    return sys_error("create state directory ", d.path_);
  }
  d.remove_on_destroy_ = true;
  // The init reopens exec.fifo through this directory after dropping to the
  // container user, so it must be searchable by anyone (0711 despite umask).
  ::chmod(d.path_.c_str(), 0711);
  auto fd = open_file(d.path_, O_RDONLY | O_DIRECTORY);
  if (!fd) return std::move(fd).error();
  d.fd_ = std::move(*fd);
  if (::flock(d.fd_.get(), LOCK_EX) < 0) return sys_error("lock ", d.path_);
  return d;
}

Result<StateDir> StateDir::open(const std::string& root, const std::string& id) {
  BERTH_TRY(validate_id(id));
  StateDir d;
  d.path_ = path_join(root, id);
  d.id_ = id;
  auto fd = open_file(d.path_, O_RDONLY | O_DIRECTORY);
  if (!fd) {
    if (fd.error().code() == ENOENT) return make_error("container ", quote(id), " does not exist");
    return std::move(fd).error();
  }
  d.fd_ = std::move(*fd);
  if (::flock(d.fd_.get(), LOCK_EX) < 0) return sys_error("lock ", d.path_);
  return d;
}

StateDir::StateDir(StateDir&& o) noexcept
    : path_(std::move(o.path_)), id_(std::move(o.id_)), fd_(std::move(o.fd_)),
      remove_on_destroy_(std::exchange(o.remove_on_destroy_, false)) {}

StateDir::~StateDir() {
  if (remove_on_destroy_ && !path_.empty()) (void)remove_all(path_);
}

Result<ContainerState> StateDir::load() const {
  auto text = read_file_at(fd_.get(), kStateFile);
  if (!text) {
    if (text.error().code() == ENOENT) return make_error("container ", quote(id_), " does not exist");
    return std::move(text).error();
  }
  return parse_state(*text, id_);
}

Status StateDir::save(const ContainerState& s) const {
  json j;
  j["ociVersion"] = s.oci_version;
  j["id"] = s.id;
  j["pid"] = s.pid;
  j["pidStartTime"] = s.pid_start_time;
  j["bundle"] = s.bundle;
  j["rootfs"] = s.rootfs;
  j["created"] = s.created;
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  j["cgroupMount"] = s.cgroup_mount;
  j["cgroupPath"] = s.cgroup_path;
  j["ownPidNamespace"] = s.own_pid_ns;
  return write_file_atomic(fd_.get(), kStateFile, j.dump(), 0600);
}

ContainerStatus StateDir::status(const ContainerState& s) const { return live_status(fd_.get(), s); }

Status StateDir::remove() {
  remove_on_destroy_ = false;
  return remove_all(path_);
}

Result<ContainerState> read_state(const std::string& root, const std::string& id) {
  BERTH_TRY(validate_id(id));
  auto text = read_file(path_join(path_join(root, id), kStateFile));
  if (!text) {
    if (text.error().code() == ENOENT || text.error().code() == ENOTDIR)
      return make_error("container ", quote(id), " does not exist");
    return std::move(text).error();
  }
  return parse_state(*text, id);
}

ContainerStatus read_status(const std::string& root, const ContainerState& st) {
  UniqueFd dir(::open(path_join(root, st.id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ContainerStatus::stopped;
  return live_status(dir.get(), st);
}

std::string state_json(const ContainerState& st, ContainerStatus status, const std::string& owner, bool indent) {
  json j;
  j["ociVersion"] = st.oci_version;
  j["id"] = st.id;
  j["pid"] = status == ContainerStatus::stopped ? 0 : st.pid;
  j["status"] = status_name(status);
  j["bundle"] = st.bundle;
  j["rootfs"] = st.rootfs;
  j["created"] = st.created;
  if (!st.annotations.empty()) j["annotations"] = st.annotations;
  j["owner"] = owner;
  return indent ? j.dump(2) : j.dump();
}

std::vector<std::string> list_ids(const std::string& root) {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root.c_str());
  if (!d) return ids;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name == "." || name == ".." || !validate_id(name)) continue;
    if (path_exists(path_join(path_join(root, name), kStateFile))) ids.push_back(name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string user_name(uid_t uid) {
  if (auto passwd = read_file("/etc/passwd")) {
    for (const auto& line : split(*passwd, '\n')) {
      auto f = split(line, ':');
      if (f.size() >= 3 && parse_int<uid_t>(f[2]) == uid) return f[0];
    }
  }
  return cat(uid);
}

}  // namespace berth::runtime
