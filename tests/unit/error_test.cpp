// berth::Error, Result<T> and the BERTH_TRY macros: the message format every
// user-visible failure goes through, so its shape is pinned down exactly.
#include "common/error.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace {

using berth::Error;
using berth::Result;
using berth::Status;

// Expected strerror texts are spelled out rather than computed with
// strerror(), so a rendering that drops or garbles the errno text fails.
constexpr const char* kENOENT = "No such file or directory";
constexpr const char* kEACCES = "Permission denied";
constexpr const char* kEPERM = "Operation not permitted";

Status fails_with(int err_no, const std::string& what) { return Error(err_no, what); }

Status succeeds() { return {}; }

Result<int> answer(bool ok) {
  if (!ok) return berth::make_error("no answer");
  return 42;
}

// Helpers that use the macros the way production code does.
Status try_twice(int& reached, bool first_ok) {
  BERTH_TRY(first_ok ? succeeds() : fails_with(EACCES, "open /x"));
  ++reached;
  BERTH_TRY(succeeds());
  ++reached;
  return {};
}

Status try_with_context(bool ok) {
  BERTH_TRY_CTX(ok ? succeeds() : fails_with(EPERM, "mount proc on /proc"), "prepare rootfs");
  return {};
}

Result<std::string> try_value_function(bool ok) {
  BERTH_TRY(answer(ok));
  return std::string("done");
}

}  // namespace

TEST_CASE("an error without errno renders its context only") {
  Error e("bad input");
  CHECK(e.code() == 0);
  CHECK(e.context() == "bad input");
  CHECK(e.message() == "bad input");
}

TEST_CASE("an error with errno renders context, colon, strerror") {
  Error e(ENOENT, "open /etc/x");
  CHECK(e.code() == ENOENT);
  CHECK(e.context() == "open /etc/x");
  CHECK(e.message() == std::string("open /etc/x: ") + kENOENT);
}

TEST_CASE("an error with errno but no context renders strerror alone") {
  Error e(EACCES, "");
  CHECK(e.message() == kEACCES);
}

TEST_CASE("wrap prefixes outer contexts, outermost first, errno text last") {
  Error e(EPERM, "mount proc on /proc");
  e.wrap("prepare rootfs").wrap("create container c1");
  CHECK(e.context() == "create container c1: prepare rootfs: mount proc on /proc");
  CHECK(e.message() == std::string("create container c1: prepare rootfs: mount proc on /proc: ") + kEPERM);
}

TEST_CASE("wrap keeps the errno of the innermost failure") {
  Error e(ENOENT, "stat /x");
  e.wrap("a").wrap("b");
  CHECK(e.code() == ENOENT);
}

TEST_CASE("wrap on a temporary returns the wrapped error by value") {
  Error e = Error(EACCES, "open f").wrap("load");
  CHECK(e.code() == EACCES);
  CHECK(e.message() == std::string("load: open f: ") + kEACCES);
}

TEST_CASE("wrap of an error without errno adds no strerror") {
  Error e = berth::make_error("ociVersion: required").wrap("load config");
  CHECK(e.code() == 0);
  CHECK(e.message() == "load config: ociVersion: required");
}

TEST_CASE("Error::sys captures the current errno") {
  errno = ENOENT;
  Error e = Error::sys("open /nope");
  errno = 0;  // a later change must not affect the captured code
  CHECK(e.code() == ENOENT);
  CHECK(e.message() == std::string("open /nope: ") + kENOENT);
}

TEST_CASE("sys_error captures errno and concatenates strings and numbers") {
  errno = EPERM;
  Error e = berth::sys_error("kill ", 42, " with signal ", 9);
  errno = EACCES;
  CHECK(e.code() == EPERM);
  CHECK(e.context() == "kill 42 with signal 9");
  CHECK(e.message() == std::string("kill 42 with signal 9: ") + kEPERM);
}

TEST_CASE("make_error has no errno even when errno is set") {
  errno = EACCES;
  Error e = berth::make_error("process.args[", 1, "]: expected string");
  CHECK(e.code() == 0);
  CHECK(e.message() == "process.args[1]: expected string");
}

TEST_CASE("Result<T> holding a value") {
  Result<int> r = answer(true);
  REQUIRE(r.ok());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == 42);
  CHECK(*r == 42);
}

TEST_CASE("Result<T> holding an error") {
  Result<int> r = answer(false);
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.error().message() == "no answer");
}

TEST_CASE("Result<T> gives access to members and moves out move-only values") {
  Result<std::string> s = std::string("abc");
  CHECK(s->size() == 3);
  Result<std::unique_ptr<int>> p = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(p).value();
  REQUIRE(taken);
  CHECK(*taken == 7);
}

TEST_CASE("Result<void> defaults to success and holds an error otherwise") {
  Status ok;
  CHECK(ok.ok());
  Status bad = Error(ENOENT, "x");
  CHECK_FALSE(bad.ok());
  CHECK(bad.error().code() == ENOENT);
}

TEST_CASE("BERTH_TRY returns the first error unchanged and stops") {
  int reached = 0;
  Status st = try_twice(reached, false);
  REQUIRE_FALSE(st.ok());
  CHECK(reached == 0);
  CHECK(st.error().code() == EACCES);
  CHECK(st.error().message() == std::string("open /x: ") + kEACCES);
}

TEST_CASE("BERTH_TRY continues on success") {
  int reached = 0;
  CHECK(try_twice(reached, true).ok());
  CHECK(reached == 2);
}

TEST_CASE("BERTH_TRY propagates the error of a Result<T> into another Result type") {
  auto bad = try_value_function(false);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "no answer");
  auto good = try_value_function(true);
  REQUIRE(good.ok());
  CHECK(*good == "done");
}

TEST_CASE("BERTH_TRY evaluates its expression exactly once") {
  int calls = 0;
  auto counted = [&]() -> Status {
    ++calls;
    return {};
  };
  auto run = [&]() -> Status {
    BERTH_TRY(counted());
    return {};
  };
  CHECK(run().ok());
  CHECK(calls == 1);
}

TEST_CASE("BERTH_TRY_CTX wraps the error with the given context") {
  Status st = try_with_context(false);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == EPERM);
  CHECK(st.error().message() == std::string("prepare rootfs: mount proc on /proc: ") + kEPERM);
  CHECK(try_with_context(true).ok());
}
