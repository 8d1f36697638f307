#include "common/error.hpp"

#include <cstring>

namespace berth {

std::string Error::message() const {
  if (err_no_ == 0) return context_;
  char buf[128];
  // GNU strerror_r returns a pointer that may or may not be buf.
  const char* text = strerror_r(err_no_, buf, sizeof buf);
  if (context_.empty()) return text;
  return cat(context_, ": ", text);
}

}  // namespace berth
