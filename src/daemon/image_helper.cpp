#include "daemon/image_helper.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.hpp"
#include "daemon/containers.hpp"

namespace berth::daemon {

using json = nlohmann::json;

Status ImageHelper::run(const std::vector<std::string>& args,
                        const std::function<void(const json&)>& on_event) const {
  std::vector<std::string> argv = {program_, "--root", data_root_, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd r(p[0]), w(p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, w.get(), 1);
  // stderr stays berthd's: the helper's messages land in berthd's log.
  auto spawned = spawn_program(argv, &fa, false, program_.find('/') == std::string::npos);
  posix_spawn_file_actions_destroy(&fa);
  w.reset();
  if (!spawned) return std::move(spawned).error();
  pid_t pid = *spawned;

  std::optional<Error> reported;
  std::string buf;
  char chunk[16384];
  for (;;) {
    ssize_t n = ::read(r.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      json ev = json::parse(buf.begin() + static_cast<std::ptrdiff_t>(start),
                            buf.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
      if (ev.is_discarded() || !ev.is_object()) continue;
      if (auto e = ev.find("error"); e != ev.end() && e->is_string()) {
        reported = Error(ev.value("errno", 0), e->get<std::string>());
        continue;
      }
      if (on_event) on_event(ev);
    }
    buf.erase(0, start);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return sys_error("wait for ", program_);
  if (reported) return std::move(*reported);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFSIGNALED(status)) return make_error(program_, " ", args.empty() ? "" : args[0], " killed by signal ",
                                             WTERMSIG(status));
  return make_error(program_, " ", args.empty() ? "" : args[0], " failed with status ", WEXITSTATUS(status));
}

}  // namespace berth::daemon
