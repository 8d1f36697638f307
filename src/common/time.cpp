#include "common/time.hpp"

#include <cmath>
#include <cstdio>

#include "common/strings.hpp"

namespace berth {

std::string rfc3339_now() {
  time_t now = ::time(nullptr);
  tm t{};
  gmtime_r(&now, &t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

std::string rfc3339_nano(const timespec& ts) {
  tm t{};
  time_t secs = ts.tv_sec;
  gmtime_r(&secs, &t);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  std::string out(buf, n);
  if (ts.tv_nsec != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::string human_duration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return cat(seconds, " seconds");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return cat(minutes, " minutes");
  // go-units rounds hours where it truncates minutes.
  auto hours = static_cast<int64_t>(std::llround(static_cast<double>(seconds) / 3600.0));
  if (hours == 1) return "About an hour";
  if (hours < 48) return cat(hours, " hours");
  if (hours < 24 * 7 * 2) return cat(hours / 24, " days");
  if (hours < 24 * 30 * 2) return cat(hours / 24 / 7, " weeks");
  if (hours < 24 * 365 * 2) return cat(hours / 24 / 30, " months");
  return cat(seconds / 3600 / 24 / 365, " years");
}

}  // namespace berth
