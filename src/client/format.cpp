// docker's presentation rules; see format.hpp.
#include "client/format.hpp"

#include <cmath>
#include <cstdio>

#include "common/strings.hpp"

namespace berth::client {

std::string human_size(double bytes, int precision) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t i = 0;
  while (bytes >= 1000.0 && i + 1 < std::size(units)) {
    bytes /= 1000.0;
    ++i;
  }
  char buf[64];
  snprintf(buf, sizeof buf, "%.*g%s", precision, bytes, units[i]);
  return buf;
}

std::string bytes_size(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  size_t i = 0;
  while (bytes >= 1024.0 && i + 1 < std::size(units)) {
    bytes /= 1024.0;
    ++i;
  }
  char buf[64];
  snprintf(buf, sizeof buf, "%.4g%s", bytes, units[i]);
  return buf;
}

std::optional<int64_t> ram_in_bytes(std::string_view s) {
  s = trim(s);
  size_t n = 0;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
  if (n == 0) return std::nullopt;
  double v = 0;
  try {
    v = std::stod(std::string(s.substr(0, n)));
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = to_upper(s.substr(n));
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();
  if (!unit.empty() && unit.back() == 'I') unit.pop_back();
  double mult = 1;
  if (unit.empty())
    mult = 1;
  else if (unit == "K")
    mult = 1024.0;
  else if (unit == "M")
    mult = 1024.0 * 1024;
  else if (unit == "G")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "T")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "P")
    mult = 1024.0 * 1024 * 1024 * 1024 * 1024;
  else
    return std::nullopt;
  return static_cast<int64_t>(v * mult);
}

std::string short_id(std::string_view id) {
  if (starts_with(id, "sha256:")) id.remove_prefix(7);
  return std::string(id.substr(0, 12));
}

namespace {

// Width in characters, counting a UTF-8 sequence once.
size_t display_width(std::string_view s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}

}  // namespace

std::string ellipsis(std::string_view s, size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return {};
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (w == width - 1) break;
      ++w;
    }
    out.push_back(s[i]);
  }
  return out + "…";
}

std::string ps_command(std::string_view command) {
  std::string cut = ellipsis(command, 20);
  std::string out = "\"";
  for (char c : cut) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t i = 0; i + 1 < r.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], display_width(r[i]));
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) {
        size_t col = std::max<size_t>(widths[i] + 3, 10);
        line.append(col - display_width(r[i]), ' ');
      }
    }
    out += line + "\n";
  }
  return out;
}

std::string format_port(std::string_view ip, int private_port, int public_port, std::string_view type) {
  if (public_port == 0) return cat(private_port, "/", type);
  std::string host(ip.empty() ? "0.0.0.0" : ip);
  if (host.find(':') != std::string::npos) host = cat("[", host, "]");
  return cat(host, ":", public_port, "->", private_port, "/", type);
}

std::string progress_bar(int64_t current, int64_t total) {
  if (current <= 0 && total <= 0) return {};
  if (total <= 0) {
    char buf[32];
    snprintf(buf, sizeof buf, "%8s", human_size(static_cast<double>(current)).c_str());
    return buf;
  }
  int64_t pct = static_cast<int64_t>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2;
  if (pct > 50) pct = 50;
  if (pct < 0) pct = 0;
  std::string bar =
      "[" + std::string(static_cast<size_t>(pct), '=') + ">" + std::string(static_cast<size_t>(50 - pct), ' ') + "] ";
  char nums[64];
  snprintf(nums, sizeof nums, "%8s/%s", human_size(static_cast<double>(current)).c_str(),
           human_size(static_cast<double>(total)).c_str());
  return bar + nums;
}

}  // namespace berth::client
