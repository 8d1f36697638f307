// Path resolution confined to a root directory. Every lookup goes through
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): "..", absolute symlinks
// and relative symlinks are all resolved as if the dirfd were "/", so a
// rootfs (or a layer) that holds hostile symlinks can never send a mount or a
// write outside of itself.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth {

/// Opens `path` beneath `rootfd` (O_CLOEXEC added).
Result<UniqueFd> open_in_root(int rootfd, std::string_view path, int flags, mode_t mode = 0);

/// Creates every missing directory of `path` beneath `rootfd`; returns an
/// O_PATH fd of the final directory.
Result<UniqueFd> mkdir_all_in_root(int rootfd, std::string_view path, mode_t mode);

/// Makes sure `path` exists beneath `rootfd`, as a directory if `dir`, else
/// as an empty regular file (mount points for file bind mounts); returns an
/// O_PATH fd of it. An existing entry of any type is accepted as is.
Result<UniqueFd> ensure_in_root(int rootfd, std::string_view path, bool dir, mode_t mode);

/// "/proc/self/fd/N": a name for an fd that mount(2) and friends accept.
std::string fd_path(int fd);

}  // namespace berth
