#include "runtime/sealed_exec.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/unique_fd.hpp"

extern char** environ;

namespace berth::runtime {

bool running_from_sealed_copy() {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return false;
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  return seals >= 0 && (seals & F_SEAL_WRITE);
}

bool ptrace_reaches_runtime(const Spec& spec) {
  for (const auto& ns : spec.linux_->namespaces)
    if (ns.type == "user") return false;
  return true;
}

bool has_ptrace(const std::optional<Capabilities>& caps) {
  return caps && std::find(caps->bounding.begin(), caps->bounding.end(), "CAP_SYS_PTRACE") != caps->bounding.end();
}

Status reexec_from_sealed_copy(char* const argv[]) {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return sys_error("open /proc/self/exe");
  struct stat st{};
  if (::fstat(self.get(), &st) < 0) return sys_error("stat /proc/self/exe");
  UniqueFd copy(static_cast<int>(::syscall(SYS_memfd_create, "berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
  if (!copy) return sys_error("memfd_create");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(copy.get(), self.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("copy the runtime's executable");
    left -= n;
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    return sys_error("seal the runtime's copy");
  ::fexecve(copy.get(), argv, environ);
  return sys_error("exec the runtime's sealed copy");
}

}  // namespace berth::runtime
