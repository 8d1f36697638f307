// JSON string quoting without a JSON library, for hot paths (log lines).
#pragma once

#include <string>
#include <string_view>

namespace berth {

/// Returns `s` as a quoted JSON string literal.
std::string json_quote(std::string_view s);

}  // namespace berth
