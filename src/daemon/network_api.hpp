// The Engine API's /networks endpoints: list, inspect, create, remove.
#pragma once

#include <string>

#include "daemon/containers.hpp"
#include "daemon/http.hpp"
#include "daemon/networks.hpp"

namespace berth::daemon {

/// Serves `path` (the version prefix stripped) when it is a /networks
/// endpoint; false when it is not.
bool serve_networks(NetworkManager& n, ContainerManager& m, const std::string& path, Request& req,
                    ResponseWriter& resp);

}  // namespace berth::daemon
