// Values on the command line in the forms runc accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace berth::cli {

/// A Go duration ("5s", "100ms", "1m30s", "2h", "1.5s") in milliseconds.
std::optional<int64_t> parse_go_duration(const std::string& text);

/// A size in bytes: a number with an optional binary suffix (b, k, m, g, t,
/// p; any case; "kb"/"kib" too), as docker's units.RAMInBytes reads it;
/// "-1" for no limit.
std::optional<int64_t> parse_bytes(const std::string& text);

}  // namespace berth::cli
