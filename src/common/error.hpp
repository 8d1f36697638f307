// One error type for all of berth: an errno (0 when the failure has none) and
// a context chain that grows as the error climbs, rendered like
//   create container c1: mount proc on /proc: Operation not permitted
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/strings.hpp"

namespace berth {

class Error {
 public:
  Error() = default;
  /// An error with an errno; `what` names the operation and its object.
  Error(int err_no, std::string what) : err_no_(err_no), context_(std::move(what)) {}
  /// An error with no errno (bad input, protocol violations).
  explicit Error(std::string what) : context_(std::move(what)) {}

  /// Captures the current errno; call it right after the failing syscall.
  static Error sys(std::string what) {
    int saved = errno;
    return Error(saved, std::move(what));
  }

  /// Prefixes the chain with an outer context ("creating rootfs").
  Error& wrap(std::string_view ctx) & {
    context_ = cat(ctx, ": ", context_);
    return *this;
  }
  Error&& wrap(std::string_view ctx) && { return std::move(wrap(ctx)); }

  int code() const { return err_no_; }
  const std::string& context() const { return context_; }
  /// The full rendering: the context chain, then strerror(errno) if any.
  std::string message() const;

 private:
  int err_no_ = 0;
  std::string context_;
};

/// Shorthand for Error::sys(cat(...)); errno is read before the message is built.
template <class... A>
Error sys_error(const A&... parts) {
  int saved = errno;
  return Error(saved, cat(parts...));
}

/// An error without errno, message built from parts.
template <class... A>
Error make_error(const A&... parts) {
  return Error(cat(parts...));
}

/// A value or an Error. A small stand-in for std::expected (C++23).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error err) : err_(std::move(err)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  Error& error() & { return err_; }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace berth

/// Returns the error of a failed Result<…> from the enclosing function.
#define BERTH_TRY(expr)                                 \
  do {                                                  \
    if (auto berth_try_r_ = (expr); !berth_try_r_.ok()) \
      return std::move(berth_try_r_).error();           \
  } while (0)

/// Like BERTH_TRY, adding an outer context to the error.
#define BERTH_TRY_CTX(expr, ctx)                        \
  do {                                                  \
    if (auto berth_try_r_ = (expr); !berth_try_r_.ok()) \
      return std::move(berth_try_r_).error().wrap(ctx); \
  } while (0)
