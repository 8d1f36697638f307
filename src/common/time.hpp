// Timestamps in the forms runc and Go print.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace berth {

/// "2026-11-26T12:43:55Z" (UTC, seconds).
std::string rfc3339_now();
/// Go's RFC3339Nano in UTC: fractional seconds with trailing zeros removed,
/// "2026-11-26T12:43:50.72635319Z".
std::string rfc3339_nano(const timespec& ts);

/// docker's human durations (go-units): "Less than a second", "3 seconds",
/// "About a minute", "2 hours", "3 days".
std::string human_duration(int64_t seconds);

}  // namespace berth
