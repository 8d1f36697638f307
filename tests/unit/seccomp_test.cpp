// Seccomp profile checks, compilation and the compiled-program cache.
#include <doctest/doctest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "runtime/seccomp.hpp"
#include "test_support.hpp"

using berth::runtime::Seccomp;
using berth::runtime::SeccompSyscall;

namespace {

Seccomp profile() {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  SeccompSyscall deny;
  deny.names = {"mkdir", "mkdirat"};
  deny.action = "SCMP_ACT_ERRNO";
  deny.errno_ret = 13;
  s.syscalls.push_back(deny);
  return s;
}

std::string validate(const Seccomp& s) {
  auto st = berth::runtime::validate_seccomp(s);
  return st ? "" : st.error().message();
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 test vectors") {
  CHECK(berth::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(berth::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(berth::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Streaming in odd pieces gives the same digest as one update.
  std::string million(1000000, 'a');
  berth::Sha256 h;
  for (size_t i = 0; i < million.size(); i += 777) h.update(std::string_view(million).substr(i, 777));
  CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("validate_seccomp names the field at fault") {
  CHECK(validate(profile()) == "");
  struct Case {
    const char* name;
    void (*change)(Seccomp&);
    const char* message;
  };
  const Case cases[] = {
      {"default action", [](Seccomp& s) { s.default_action = "SCMP_ACT_FOO"; },
       "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""},
      {"notify default", [](Seccomp& s) { s.default_action = "SCMP_ACT_NOTIFY"; },
       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
      {"architecture", [](Seccomp& s) { s.architectures.push_back("SCMP_ARCH_Z80"); },
       "linux.seccomp.architectures[2]: unknown architecture \"SCMP_ARCH_Z80\""},
      {"flag", [](Seccomp& s) { s.flags = {"SECCOMP_FILTER_FLAG_NOPE"}; },
       "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\""},
      {"rule action", [](Seccomp& s) { s.syscalls[0].action = "SCMP_ACT_MAYBE"; },
       "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_MAYBE\""},
      {"no names", [](Seccomp& s) { s.syscalls[0].names.clear(); },
       "linux.seccomp.syscalls[0].names: must not be empty"},
      {"operator", [](Seccomp& s) { s.syscalls[0].args = {{0, 1, 0, "SCMP_CMP_ALMOST"}}; },
       "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ALMOST\""},
      {"arg index", [](Seccomp& s) { s.syscalls[0].args = {{6, 1, 0, "SCMP_CMP_EQ"}}; },
       "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5"},
      {"notify without listener", [](Seccomp& s) { s.syscalls[0].action = "SCMP_ACT_NOTIFY"; },
       "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"},
      {"relative listener", [](Seccomp& s) { s.listener_path = "sock"; },
       "linux.seccomp.listenerPath: must be an absolute path"},
  };
  for (const auto& c : cases) {
    INFO("case: ", c.name);
    Seccomp s = profile();
    c.change(s);
    CHECK(validate(s) == c.message);
  }
}

TEST_CASE("the cache key changes with everything that shapes the program, and only with that") {
  Seccomp a = profile();
  std::string key = berth::runtime::seccomp_cache_key(a);
  CHECK(key.size() == 64);
  CHECK(berth::runtime::seccomp_cache_key(profile()) == key);
  Seccomp listener_only = profile();
  listener_only.listener_metadata = "not part of the program";
  CHECK(berth::runtime::seccomp_cache_key(listener_only) == key);
  Seccomp errno_changed = profile();
  errno_changed.syscalls[0].errno_ret = 1;
  CHECK(berth::runtime::seccomp_cache_key(errno_changed) != key);
  Seccomp names_regrouped = profile();
  names_regrouped.syscalls[0].names = {"mkdirmkdirat"};
  CHECK(berth::runtime::seccomp_cache_key(names_regrouped) != key);
  Seccomp arch_changed = profile();
  arch_changed.architectures.pop_back();
  CHECK(berth::runtime::seccomp_cache_key(arch_changed) != key);
}

TEST_CASE("compile_seccomp writes the program to the cache and reads it back unchanged") {
  berth::test::TempDir dir;
  std::string cache = dir / "cache";
  auto first = berth::runtime::compile_seccomp(profile(), cache);
  REQUIRE_MESSAGE(first.ok(), first.error().message());
  CHECK_FALSE(first->filter.empty());
  CHECK(berth::test::count_entries(cache) == 1);
  std::string file = cache + "/" + berth::runtime::seccomp_cache_key(profile()) + ".bpf";
  REQUIRE(berth::path_exists(file));
  // Tamper with the cached copy: the second compile must use it as it is,
  // which proves the cache is read rather than the profile compiled again.
  auto bytes = berth::read_file(file).value();
  bytes[bytes.size() - 1] ^= 0x01;
  REQUIRE(berth::write_file(file, bytes));
  auto second = berth::runtime::compile_seccomp(profile(), cache);
  REQUIRE(second.ok());
  REQUIRE(second->filter.size() == first->filter.size());
  CHECK(std::memcmp(second->filter.data(), first->filter.data(), bytes.size()) != 0);
  CHECK(std::memcmp(second->filter.data(), bytes.data(), bytes.size()) == 0);
}

TEST_CASE("a cached file of the wrong size is ignored and replaced") {
  berth::test::TempDir dir;
  std::string cache = dir / "cache";
  REQUIRE(berth::mkdir_all(cache, 0700));
  std::string file = cache + "/" + berth::runtime::seccomp_cache_key(profile()) + ".bpf";
  REQUIRE(berth::write_file(file, "short", true));
  auto p = berth::runtime::compile_seccomp(profile(), cache);
  REQUIRE(p.ok());
  CHECK(berth::read_file(file).value().size() == p->filter.size() * sizeof(sock_filter));
}

TEST_CASE("compile_seccomp skips unknown syscall names and records flags and notify") {
  Seccomp s = profile();
  s.syscalls[0].names.push_back("no_such_syscall_anywhere");
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"};
  SeccompSyscall notify;
  notify.names = {"chmod"};
  notify.action = "SCMP_ACT_NOTIFY";
  s.syscalls.push_back(notify);
  s.listener_path = "/run/agent.sock";
  auto p = berth::runtime::compile_seccomp(s, "");
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  CHECK(p->notify);
  CHECK(p->listener_path == "/run/agent.sock");
  // LOG is kept; TSYNC is dropped (one thread, and it cannot go with a listener).
  CHECK(p->flags == 2u /* SECCOMP_FILTER_FLAG_LOG */);
}
