// The JSON answers of every endpoint: errors as docker sends them
// ({"message": ...}) and documents, each ending in a newline.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "daemon/http.hpp"

namespace berth::daemon {

inline void send_error(ResponseWriter& resp, int status, std::string_view message) {
  resp.send_json(status, nlohmann::json{{"message", message}}.dump() + "\n");
}

inline void send_json(ResponseWriter& resp, int status, const nlohmann::json& j) {
  resp.send_json(status, j.dump() + "\n");
}

}  // namespace berth::daemon
