// docker's presentation rules: human durations and sizes (go-units), the
// tabwriter layout of its tables (min width 10, padding 3), 12-character
// ids, quoted and shortened commands, ports, and the pull progress bar.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace berth::client {

using berth::human_duration;  // common/time.hpp
/// Decimal units with `precision` significant digits: "4.26MB", "512B".
std::string human_size(double bytes, int precision = 4);
/// Binary units with 4 significant digits, as `stats` shows memory: "1.5MiB".
std::string bytes_size(double bytes);
/// Binary units as docker's `--memory` takes them: "512m", "1g", "100k",
/// "1024"; nullopt when malformed.
std::optional<int64_t> ram_in_bytes(std::string_view s);

/// Drops "sha256:" and keeps 12 characters.
std::string short_id(std::string_view id);
/// Cuts `s` to `width` characters with a final "…" when it is longer.
std::string ellipsis(std::string_view s, size_t width);
/// The COMMAND column of `ps`: shortened to 20, then double-quoted.
std::string ps_command(std::string_view command);

/// Rows to columns the way docker's tabwriter pads them: each column but the
/// last is as wide as its widest cell plus 3, and at least 10.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

/// One published port as `ps` shows it: "0.0.0.0:8080->80/tcp" or "80/tcp".
std::string format_port(std::string_view ip, int private_port, int public_port, std::string_view type);

/// "[=====>     ]  1.2MB/4.5MB" for a layer's progress; size only when the
/// total is unknown.
std::string progress_bar(int64_t current, int64_t total);

}  // namespace berth::client
