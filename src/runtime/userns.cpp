#include "runtime/userns.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "runtime/spawn.hpp"

namespace berth::runtime {

Result<UniqueFd> make_user_namespace(const std::string& uid_map, const std::string& gid_map) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd hold_r(p[0]), hold_w(p[1]);
  pid_t pid = clone_into(CLONE_NEWUSER, -1);
  if (pid < 0) return sys_error("create user namespace for an idmapped mount");
  if (pid == 0) {
    // Wait until the parent has what it needs (EOF), then go.
    hold_w.reset();
    char c;
    (void)::read(hold_r.get(), &c, 1);
    ::_exit(0);
  }
  ChildProcess child(pid);
  hold_r.reset();
  if (auto st = write_file(cat("/proc/", pid, "/uid_map"), uid_map); !st)
    return Error(st.error().code(), "write uid_map of an idmapped mount");
  if (auto st = write_file(cat("/proc/", pid, "/gid_map"), gid_map); !st)
    return Error(st.error().code(), "write gid_map of an idmapped mount");
  auto fd = open_file(cat("/proc/", pid, "/ns/user"), O_RDONLY);
  if (!fd) return std::move(fd).error();
  hold_w.reset();
  (void)wait_exit_code(child.release());
  return fd;
}

}  // namespace berth::runtime
