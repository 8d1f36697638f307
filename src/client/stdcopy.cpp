// The multiplexed-stream decoder; see stdcopy.hpp.
#include "client/stdcopy.hpp"

#include "common/strings.hpp"

namespace berth::client {

Status StdDemuxer::feed(std::string_view in) {
  while (!in.empty()) {
    if (remaining_ == 0) {
      size_t take = std::min<size_t>(8 - header_.size(), in.size());
      header_.append(in.substr(0, take));
      in.remove_prefix(take);
      if (header_.size() < 8) return {};
      auto b = [&](int i) {
        return static_cast<uint32_t>(static_cast<unsigned char>(header_[static_cast<size_t>(i)]));
      };
      stream_ = static_cast<int>(b(0));
      remaining_ = (b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
      header_.clear();
      if (stream_ > 3) return make_error("unrecognized stream id ", stream_, " in the multiplexed stream");
      continue;
    }
    size_t take = std::min<size_t>(remaining_, in.size());
    std::string_view part = in.substr(0, take);
    in.remove_prefix(take);
    remaining_ -= static_cast<uint32_t>(take);
    if (stream_ == 3) {
      // The daemon reports its own failure in-band (stdcopy's Systemerr).
      systemerr_.append(part);
      if (remaining_ == 0) return make_error("error from daemon in stream: ", systemerr_);
      continue;
    }
    if (!part.empty()) sink_(stream_, part);
  }
  return {};
}

std::string std_frame(int stream, std::string_view payload) {
  std::string h(8, '\0');
  h[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  h[4] = static_cast<char>(n >> 24);
  h[5] = static_cast<char>(n >> 16);
  h[6] = static_cast<char>(n >> 8);
  h[7] = static_cast<char>(n);
  return h + std::string(payload);
}

}  // namespace berth::client
