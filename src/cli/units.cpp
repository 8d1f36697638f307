#include "cli/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "common/strings.hpp"

namespace berth::cli {

std::optional<int64_t> parse_go_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text == "0") return 0;
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return std::nullopt;
    double value = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    size_t unit_start = i;
    // Letters, and the two bytes of UTF-8 "µ".
    while (i < text.size() && (std::isalpha(static_cast<unsigned char>(text[i])) || (text[i] & 0x80))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "ns") scale = 1e-6;
    else if (unit == "us" || unit == "µs") scale = 1e-3;
    else if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60000;
    else if (unit == "h") scale = 3600000;
    else return std::nullopt;
    total_ms += value * scale;
  }
  return static_cast<int64_t>(std::llround(total_ms));
}

std::optional<int64_t> parse_bytes(const std::string& text) {
  if (text == "-1") return -1;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = std::strtod(text.substr(0, i).c_str(), nullptr);
  std::string unit;
  for (char c : text.substr(i)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  const char* units = "bkmgtp";
  double scale = 1;
  if (!unit.empty()) {
    if (unit.size() != 1) return std::nullopt;
    const char* at = std::strchr(units, unit[0]);
    if (!at) return std::nullopt;
    scale = std::pow(1024.0, static_cast<double>(at - units));
  }
  double bytes = value * scale;
  if (bytes > 9.2e18) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

}  // namespace berth::cli
