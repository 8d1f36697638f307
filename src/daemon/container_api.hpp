// The Engine API's /containers, /exec and /events endpoints.
#pragma once

#include <string>

#include "daemon/containers.hpp"
#include "daemon/http.hpp"

namespace berth::daemon {

/// Serves `path` (the version prefix stripped) when it is one of these
/// endpoints; false when it is not, so the caller answers 404.
bool serve_containers(ContainerManager& m, const std::string& path, Request& req, ResponseWriter& resp);

}  // namespace berth::daemon
