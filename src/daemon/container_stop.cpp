// ContainerManager: stop, kill, restart, remove, pause, resize, rename, wait.
#include "daemon/containers.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "common/time.hpp"
#include "common/unix_socket.hpp"
#include "daemon/container_io.hpp"
#include "daemon/container_util.hpp"
#include "daemon/images.hpp"
#include "image/runconfig.hpp"
#include "monitor/protocol.hpp"
#include "runtime/container.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/spec_default.hpp"

namespace berth::daemon {

using nlohmann::json;
using namespace detail;

// ---- stop, kill, remove ------------------------------------------------------

ApiResult<bool> ContainerManager::stop_locked(const std::shared_ptr<Container>& c, int timeout_s, int sig) {
  std::unique_lock g(mu_);
  if (c->state.status == "restarting") {
    c->manual_stop = true;
    c->state.status = "exited";
    persist(*c);
    cv_.notify_all();
    return true;
  }
  if (c->state.status != "running" && c->state.status != "paused") return false;
  c->manual_stop = true;
  persist(*c);
  uint64_t exits = c->exits;
  bool paused = c->state.status == "paused";
  g.unlock();
  std::string root = runtime_root();
  if (timeout_s != 0) {
    best_effort(runtime::kill_container(root, c->id, sig, false), "signal " + c->id);
    if (paused) best_effort(runtime::resume_container(root, c->id), "resume " + c->id);
    g.lock();
    bool done = timeout_s < 0 ? (cv_.wait(g, [&] { return c->exits != exits; }), true)
                              : cv_.wait_for(g, std::chrono::seconds(timeout_s), [&] { return c->exits != exits; });
    g.unlock();
    if (done) return true;
  }
  best_effort(runtime::kill_container(root, c->id, SIGKILL, false), "kill " + c->id);
  if (paused) best_effort(runtime::resume_container(root, c->id), "resume " + c->id);
  g.lock();
  if (!cv_.wait_for(g, std::chrono::seconds(30), [&] { return c->exits != exits; }))
    return ApiError{500, cat("container ", c->id, " did not exit within 30 s of SIGKILL")};
  return true;
}

ApiResult<bool> ContainerManager::stop(const std::string& ref, std::optional<int> timeout_s, const std::string& signal) {
  std::shared_ptr<Container> c;
  int sig = SIGTERM;
  int timeout = 10;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    std::string s = signal.empty() ? c->config.value("StopSignal", "") : signal;
    if (!s.empty()) {
      auto n = runtime::parse_signal(s);
      if (!n) return ApiError{400, "invalid signal: " + s};
      sig = *n;
    }
    if (auto t = c->config.find("StopTimeout"); t != c->config.end() && t->is_number_integer()) timeout = t->get<int>();
  }
  if (timeout_s) timeout = *timeout_s;
  std::lock_guard op(c->op);
  auto r = stop_locked(c, timeout, sig);
  if (auto* ok = std::get_if<bool>(&r); ok && *ok)
    if (auto s = find(c->id)) emit("stop", *s);
  return r;
}

ApiResult<bool> ContainerManager::kill(const std::string& ref, const std::string& signal) {
  std::shared_ptr<Container> c;
  int sig = SIGKILL;
  if (!signal.empty()) {
    auto n = runtime::parse_signal(signal);
    if (!n) return ApiError{400, "invalid signal: " + signal};
    sig = *n;
  }
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    if (c->state.status != "running" && c->state.status != "paused")
      return ApiError{409, cat("Cannot kill container: ", ref, ": Container ", c->id, " is not running")};
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
      c->manual_stop = true;
      persist(*c);
    }
  }
  if (auto st = runtime::kill_container(runtime_root(), c->id, sig, false); !st)
    return ApiError{500, st.error().message()};
  if (auto s = find(c->id)) emit("kill", *s, {{"signal", std::to_string(sig)}});
  return true;
}

ApiResult<bool> ContainerManager::restart(const std::string& ref, std::optional<int> timeout_s) {
  std::shared_ptr<Container> c;
  int timeout = 10;
  int sig = SIGTERM;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    if (auto n = runtime::parse_signal(c->config.value("StopSignal", "SIGTERM"))) sig = *n;
  }
  if (timeout_s) timeout = *timeout_s;
  std::lock_guard op(c->op);
  {
    std::lock_guard g(mu_);
    c->user_restart = true;
  }
  auto r = stop_locked(c, timeout, sig);
  {
    std::lock_guard g(mu_);
    c->user_restart = false;
  }
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  auto s = start_locked(c);
  if (auto* e = std::get_if<ApiError>(&s)) return *e;
  if (auto sn = find(c->id)) emit("restart", *sn);
  return true;
}

void ContainerManager::remove_files(Container& c) {
  release_runtime(c);
  if (auto st = remove_all(c.dir); !st) log::warn(st.error().wrap("remove container " + c.id).message());
}

ApiResult<bool> ContainerManager::remove(const std::string& ref, bool force, bool volumes) {
  (void)volumes;  // anonymous volumes live in the container's directory
  std::shared_ptr<Container> c;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
  }
  std::lock_guard op(c->op);
  {
    std::lock_guard g(mu_);
    if (c->removed) return ApiError{404, "No such container: " + ref};
    bool live = c->state.status == "running" || c->state.status == "paused" || c->state.status == "restarting";
    if (live && !force)
      return ApiError{409, cat("cannot remove container \"/", c->name,
                               "\": container is running: stop the container before removing or force remove")};
  }
  auto r = stop_locked(c, 0, SIGKILL);
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  Snapshot s;
  {
    std::lock_guard g(mu_);
    c->removed = true;
    c->state.status = "removing";
    by_id_.erase(c->id);
    if (auto it = by_name_.find(c->name); it != by_name_.end() && it->second == c->id) by_name_.erase(it);
    for (auto it = execs_.begin(); it != execs_.end();)
      it = it->second.container_id == c->id ? execs_.erase(it) : std::next(it);
    s = snap(*c);
  }
  // A created container that never ran, or one whose monitor was killed,
  // may still have runtime state.
  best_effort(runtime::delete_container(runtime_root(), c->id, true), "delete " + c->id);
  remove_files(*c);
  cv_.notify_all();
  emit("destroy", s);
  return true;
}

ApiResult<bool> ContainerManager::pause(const std::string& ref, bool pause) {
  std::shared_ptr<Container> c;
  {
    std::lock_guard g(mu_);
    c = lookup(ref);
    if (!c) return ApiError{404, "No such container: " + ref};
    if (pause && c->state.status == "paused") return ApiError{409, cat("Container ", c->id, " is already paused")};
    if (!pause && c->state.status != "paused") return ApiError{409, cat("Container ", c->id, " is not paused")};
    if (c->state.status != "running" && c->state.status != "paused")
      return ApiError{409, cat("Container ", c->id, " is not running")};
  }
  std::lock_guard op(c->op);
  Status st = pause ? runtime::pause_container(runtime_root(), c->id) : runtime::resume_container(runtime_root(), c->id);
  if (!st) return ApiError{500, st.error().message()};
  Snapshot s;
  {
    std::lock_guard g(mu_);
    if (c->state.status == "running" || c->state.status == "paused") c->state.status = pause ? "paused" : "running";
    persist(*c);
    s = snap(*c);
  }
  emit(pause ? "pause" : "unpause", s);
  return true;
}

Status ContainerManager::send_to_monitor(const std::string& id, char type, std::string_view data) {
  auto s = connect_monitor(cat(o_.data_root, "/containers/", id));
  if (!s) return std::move(s).error();
  std::string msg(1, type);
  msg.append(data);
  if (::send(s->get(), msg.data(), msg.size(), MSG_NOSIGNAL) < 0) return sys_error("send to the monitor of ", id);
  return {};
}

ApiResult<bool> ContainerManager::resize(const std::string& ref, int rows, int cols) {
  auto s = find(ref);
  if (!s) return ApiError{404, "No such container: " + ref};
  if (s->state.status != "running" && s->state.status != "paused")
    return ApiError{409, cat("Container ", s->id, " is not running")};
  if (!s->tty) return true;
  if (auto st = send_to_monitor(s->id, monitor::kMsgResize, cat(rows, " ", cols)); !st)
    return ApiError{500, st.error().message()};
  return true;
}

ApiResult<bool> ContainerManager::rename(const std::string& ref, const std::string& name_in) {
  std::string name = name_in;
  if (!name.empty() && name[0] == '/') name = name.substr(1);
  if (!valid_container_name(name))
    return ApiError{400, cat("Invalid container name (", name_in, "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")};
  std::lock_guard g(mu_);
  auto c = lookup(ref);
  if (!c) return ApiError{404, "No such container: " + ref};
  if (auto it = by_name_.find(name); it != by_name_.end())
    return ApiError{409, cat("Conflict. The container name \"/", name, "\" is already in use by container \"",
                             it->second, "\". You have to remove (or rename) that container to be able to reuse that name.")};
  by_name_.erase(c->name);
  c->name = name;
  by_name_[name] = c->id;
  persist(*c);
  return true;
}

ApiResult<int> ContainerManager::wait(const std::string& ref, const std::string& condition,
                                      const std::function<void()>& ready, const std::function<bool()>& cancelled) {
  if (!condition.empty() && condition != "not-running" && condition != "next-exit" && condition != "removed")
    return ApiError{400, "invalid condition: \"" + condition + "\""};
  std::unique_lock g(mu_);
  auto c = lookup(ref);
  if (!c) return ApiError{404, "No such container: " + ref};
  uint64_t exits = c->exits;
  auto met = [&] {
    if (condition == "removed") return c->removed;
    if (condition == "next-exit") return c->exits != exits || c->removed;
    return c->exits != exits || c->removed ||
           (c->state.status != "running" && c->state.status != "paused" && c->state.status != "restarting");
  };
  g.unlock();
  ready();
  g.lock();
  while (!met()) {
    cv_.wait_for(g, std::chrono::milliseconds(500));
    if (met()) break;
    g.unlock();
    bool gone = cancelled();
    g.lock();
    if (gone) return ApiError{499, "client went away"};
  }
  return c->state.exit_code;
}

}  // namespace berth::daemon
