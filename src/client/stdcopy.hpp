// The Engine API's multiplexed stream (attach, logs, exec without a tty):
// frames of an 8-byte header { stream id (0 stdin, 1 stdout, 2 stderr),
// 3 zero bytes, big-endian uint32 length } followed by the payload.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace berth::client {

/// Splits a multiplexed stream fed in arbitrary pieces; headers and payloads
/// may be cut anywhere. Payload bytes are handed to `sink(stream, bytes)` as
/// they arrive, so a large frame is not buffered whole.
class StdDemuxer {
 public:
  using Sink = std::function<void(int stream, std::string_view bytes)>;
  explicit StdDemuxer(Sink sink) : sink_(std::move(sink)) {}

  /// Consumes `in`; fails on a stream id other than 0, 1, 2 (or 3, the
  /// systemerr frame, whose text becomes the error).
  Status feed(std::string_view in);
  /// True when no frame is partly read.
  bool at_boundary() const { return header_.empty() && remaining_ == 0; }

 private:
  Sink sink_;
  std::string header_;
  uint32_t remaining_ = 0;
  int stream_ = 0;
  std::string systemerr_;
};

/// Builds one frame (tests, and nothing else needs it).
std::string std_frame(int stream, std::string_view payload);

}  // namespace berth::client
