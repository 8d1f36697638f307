// A user namespace that exists only to carry a set of id mappings, as
// mount_setattr(MOUNT_ATTR_IDMAP) takes them for idmapped mounts.
#pragma once

#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::runtime {

/// Makes a user namespace with `uid_map` and `gid_map` ("inner outer count"
/// lines) and returns an fd of it. A short-lived child holds the namespace
/// while the maps are written; it is reaped before this returns.
Result<UniqueFd> make_user_namespace(const std::string& uid_map, const std::string& gid_map);

}  // namespace berth::runtime
