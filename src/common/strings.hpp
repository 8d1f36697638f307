// Small string helpers: concatenation without iostreams, splitting, quoting.
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace berth {

namespace detail {
inline void append_one(std::string& out, std::string_view s) { out.append(s); }
inline void append_one(std::string& out, const char* s) { out.append(s ? s : "(null)"); }
inline void append_one(std::string& out, const std::string& s) { out.append(s); }
inline void append_one(std::string& out, char c) { out.push_back(c); }
inline void append_one(std::string& out, bool b) { out.append(b ? "true" : "false"); }
template <std::integral I>
  requires(!std::same_as<I, char> && !std::same_as<I, bool>)
void append_one(std::string& out, I v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}
}  // namespace detail

/// Concatenates strings and integers: cat("pid ", 42, " in ", path).
template <class... A>
std::string cat(const A&... parts) {
  std::string out;
  (detail::append_one(out, parts), ...);
  return out;
}

/// Lower-case hexadecimal with a 0x prefix: hex(255) == "0xff".
std::string hex(uint64_t v);

/// Splits on a single character; empty fields are kept.
std::vector<std::string> split(std::string_view s, char sep);
/// Joins with a separator.
std::string join(const std::vector<std::string>& parts, std::string_view sep);
/// Removes ASCII whitespace at both ends.
std::string_view trim(std::string_view s);
/// Go-style %q quoting: "a\"b" with escapes for control characters.
std::string quote(std::string_view s);
/// Upper-cases ASCII letters.
std::string to_upper(std::string_view s);

/// Parses a whole string as a decimal integer of type T; nullopt on any junk.
template <std::integral T>
std::optional<T> parse_int(std::string_view s, int base = 10) {
  T v{};
  if (s.empty()) return std::nullopt;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace berth
