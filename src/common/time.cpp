#include "common/time.hpp"

#include <cstdio>

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

}  // namespace berth
