// Name tables for capabilities, rlimits, namespaces and signals. The numbers
// are checked against the kernel headers, not against the tables themselves.
#include <doctest/doctest.h>

#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <set>
#include <string>

#include "runtime/linux_names.hpp"

using namespace berth::runtime;

TEST_CASE("capability_number maps spec names to kernel numbers") {
  CHECK(capability_number("CAP_CHOWN") == CAP_CHOWN);
  CHECK(capability_number("CAP_KILL") == CAP_KILL);
  CHECK(capability_number("CAP_NET_BIND_SERVICE") == CAP_NET_BIND_SERVICE);
  CHECK(capability_number("CAP_SYS_ADMIN") == CAP_SYS_ADMIN);
  CHECK(capability_number("CAP_MKNOD") == CAP_MKNOD);
  CHECK(capability_number("CAP_AUDIT_WRITE") == CAP_AUDIT_WRITE);
  CHECK(capability_number("CAP_MAC_ADMIN") == CAP_MAC_ADMIN);
  CHECK(capability_number("CAP_AUDIT_READ") == 37);
  CHECK(capability_number("CAP_PERFMON") == 38);
  CHECK(capability_number("CAP_BPF") == 39);
  CHECK(capability_number("CAP_CHECKPOINT_RESTORE") == 40);
}

TEST_CASE("capability_number accepts only the exact upper-case spec names") {
  CHECK_FALSE(capability_number("cap_chown").has_value());
  CHECK_FALSE(capability_number("CHOWN").has_value());
  CHECK_FALSE(capability_number("CAP_FOO").has_value());
  CHECK_FALSE(capability_number("").has_value());
  CHECK_FALSE(capability_number(" CAP_CHOWN").has_value());
}

TEST_CASE("capability_name is the inverse of capability_number") {
  CHECK(capability_name(CAP_SYS_ADMIN) == "CAP_SYS_ADMIN");
  CHECK(capability_name(0) == "CAP_CHOWN");
  CHECK(capability_name(40) == "CAP_CHECKPOINT_RESTORE");
  CHECK(capability_name(-1).empty());
  CHECK(capability_name(41).empty());
  for (const auto& name : all_capability_names()) {
    INFO("capability: ", name);
    auto n = capability_number(name);
    REQUIRE(n.has_value());
    CHECK(capability_name(*n) == name);
  }
}

TEST_CASE("all_capability_names lists every capability once, in kernel order") {
  auto names = all_capability_names();
  CHECK(names.size() == 41);
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    INFO("index ", i);
    CHECK(capability_number(names[i]) == static_cast<int>(i));
  }
}

TEST_CASE("kernel_last_capability is a plausible capability number") {
  int last = kernel_last_capability();
  // Every kernel berth runs on (>= 4.x) knows at least CAP_AUDIT_READ.
  CHECK(last >= 36);
  CHECK(last < 64);
  CHECK(kernel_last_capability() == last);  // cached, stable
}

TEST_CASE("rlimit_number maps RLIMIT_ names to resource numbers") {
  CHECK(rlimit_number("RLIMIT_CPU") == RLIMIT_CPU);
  CHECK(rlimit_number("RLIMIT_FSIZE") == RLIMIT_FSIZE);
  CHECK(rlimit_number("RLIMIT_DATA") == RLIMIT_DATA);
  CHECK(rlimit_number("RLIMIT_STACK") == RLIMIT_STACK);
  CHECK(rlimit_number("RLIMIT_CORE") == RLIMIT_CORE);
  CHECK(rlimit_number("RLIMIT_RSS") == RLIMIT_RSS);
  CHECK(rlimit_number("RLIMIT_NPROC") == RLIMIT_NPROC);
  CHECK(rlimit_number("RLIMIT_NOFILE") == RLIMIT_NOFILE);
  CHECK(rlimit_number("RLIMIT_MEMLOCK") == RLIMIT_MEMLOCK);
  CHECK(rlimit_number("RLIMIT_AS") == RLIMIT_AS);
  CHECK(rlimit_number("RLIMIT_LOCKS") == RLIMIT_LOCKS);
  CHECK(rlimit_number("RLIMIT_SIGPENDING") == RLIMIT_SIGPENDING);
  CHECK(rlimit_number("RLIMIT_MSGQUEUE") == RLIMIT_MSGQUEUE);
  CHECK(rlimit_number("RLIMIT_NICE") == RLIMIT_NICE);
  CHECK(rlimit_number("RLIMIT_RTPRIO") == RLIMIT_RTPRIO);
  CHECK(rlimit_number("RLIMIT_RTTIME") == RLIMIT_RTTIME);
}

TEST_CASE("rlimit_number rejects other spellings") {
  CHECK_FALSE(rlimit_number("NOFILE").has_value());
  CHECK_FALSE(rlimit_number("rlimit_nofile").has_value());
  CHECK_FALSE(rlimit_number("RLIMIT_FOO").has_value());
  CHECK_FALSE(rlimit_number("").has_value());
}

TEST_CASE("namespace_kind maps spec names to proc names and clone flags") {
  struct Case {
    const char* spec;
    const char* proc;
    int flag;
  };
  const Case cases[] = {
      {"pid", "pid", CLONE_NEWPID},       {"network", "net", CLONE_NEWNET}, {"mount", "mnt", CLONE_NEWNS},
      {"ipc", "ipc", CLONE_NEWIPC},       {"uts", "uts", CLONE_NEWUTS},     {"user", "user", CLONE_NEWUSER},
      {"cgroup", "cgroup", CLONE_NEWCGROUP}, {"time", "time", CLONE_NEWTIME},
  };
  for (const auto& c : cases) {
    INFO("namespace: ", c.spec);
    const NamespaceKind* k = namespace_kind(c.spec);
    REQUIRE(k != nullptr);
    CHECK(std::string(k->spec_name) == c.spec);
    CHECK(std::string(k->proc_name) == c.proc);
    CHECK(k->clone_flag == c.flag);
  }
}

TEST_CASE("namespace_kind rejects proc names and unknown types") {
  // The config uses "network" and "mount"; the /proc names are not spec names.
  CHECK(namespace_kind("net") == nullptr);
  CHECK(namespace_kind("mnt") == nullptr);
  CHECK(namespace_kind("PID") == nullptr);
  CHECK(namespace_kind("foo") == nullptr);
  CHECK(namespace_kind("") == nullptr);
}

TEST_CASE("namespace_kinds: all eight, user first and mount last") {
  const auto& kinds = namespace_kinds();
  REQUIRE(kinds.size() == 8);
  // Joining user first gives the capabilities to join the others; mount
  // last because it changes how the other /proc paths resolve.
  CHECK(std::string(kinds.front().spec_name) == "user");
  CHECK(std::string(kinds.back().spec_name) == "mount");
  std::set<int> flags;
  for (const auto& k : kinds) flags.insert(k.clone_flag);
  CHECK(flags.size() == 8);
}

TEST_CASE("parse_signal: numbers") {
  CHECK(parse_signal("9") == SIGKILL);
  CHECK(parse_signal("15") == SIGTERM);
  CHECK(parse_signal("1") == SIGHUP);
  CHECK(parse_signal(std::to_string(SIGRTMAX)) == SIGRTMAX);
}

TEST_CASE("parse_signal: names with or without SIG, in any case") {
  CHECK(parse_signal("KILL") == SIGKILL);
  CHECK(parse_signal("SIGKILL") == SIGKILL);
  CHECK(parse_signal("sigterm") == SIGTERM);
  CHECK(parse_signal("Term") == SIGTERM);
  CHECK(parse_signal("hup") == SIGHUP);
  CHECK(parse_signal("SIGUSR1") == SIGUSR1);
  CHECK(parse_signal("usr2") == SIGUSR2);
  CHECK(parse_signal("WINCH") == SIGWINCH);
  CHECK(parse_signal("SIGSTOP") == SIGSTOP);
  CHECK(parse_signal("CONT") == SIGCONT);
}

TEST_CASE("parse_signal: aliases") {
  CHECK(parse_signal("SIGCLD") == SIGCHLD);
  CHECK(parse_signal("IOT") == SIGABRT);
  CHECK(parse_signal("POLL") == SIGIO);
}

TEST_CASE("parse_signal: real-time signals") {
  CHECK(parse_signal("RTMIN") == SIGRTMIN);
  CHECK(parse_signal("SIGRTMIN") == SIGRTMIN);
  CHECK(parse_signal("RTMIN+3") == SIGRTMIN + 3);
  CHECK(parse_signal("sigrtmin+1") == SIGRTMIN + 1);
  CHECK(parse_signal("RTMAX") == SIGRTMAX);
  CHECK(parse_signal("SIGRTMAX-1") == SIGRTMAX - 1);
  CHECK(parse_signal("RTMIN+0") == SIGRTMIN);
  // The two ends meet: RTMIN+n can name every real-time signal.
  CHECK(parse_signal("RTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN)) == SIGRTMAX);
  CHECK(parse_signal("RTMAX-" + std::to_string(SIGRTMAX - SIGRTMIN)) == SIGRTMIN);
}

TEST_CASE("parse_signal: invalid input") {
  for (const char* bad : {"", "0", "-1", "65", "FOO", "SIGFOO", "SIG", "9x", " 9", "SIGRTMIN+99", "SIGRTMAX+1",
                          "RTMIN-1", "RTMIN+", "RTMIN+x", "SIGRTMAX-99", "KILL9"}) {
    INFO("input: \"", bad, "\"");
    CHECK_FALSE(parse_signal(bad).has_value());
  }
  CHECK_FALSE(parse_signal(std::to_string(SIGRTMAX + 1)).has_value());
}

TEST_CASE("parse_signal: a huge real-time offset is rejected") {
  // The offset must be range-checked, not added blindly to SIGRTMIN.
  CHECK_FALSE(parse_signal("RTMIN+2147483647").has_value());
  CHECK_FALSE(parse_signal("RTMIN+99999999999").has_value());
}

TEST_CASE("signal_name gives the canonical SIG name") {
  CHECK(signal_name(SIGTERM) == "SIGTERM");
  CHECK(signal_name(SIGKILL) == "SIGKILL");
  CHECK(signal_name(SIGHUP) == "SIGHUP");
  // Aliases share a number; the canonical name is printed.
  CHECK(signal_name(SIGCHLD) == "SIGCHLD");
  CHECK(signal_name(SIGABRT) == "SIGABRT");
  CHECK(signal_name(SIGIO) == "SIGIO");
}

TEST_CASE("signal_name names real-time signals relative to SIGRTMIN") {
  CHECK(signal_name(SIGRTMIN) == "SIGRTMIN+0");
  CHECK(signal_name(SIGRTMIN + 3) == "SIGRTMIN+3");
  // Whatever it prints must parse back to the same signal.
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
    INFO("signal ", sig);
    CHECK(parse_signal(signal_name(sig)) == sig);
  }
}

TEST_CASE("signal_name and parse_signal round-trip every standard signal") {
  // 1..31 are the classic signals; 32 and 33 are reserved by glibc.
  for (int sig = 1; sig <= 31; ++sig) {
    std::string name = signal_name(sig);
    INFO("signal ", sig, " named ", name);
    CHECK(name.rfind("SIG", 0) == 0);
    CHECK(parse_signal(name) == sig);
  }
}

TEST_CASE("signal_name of an unknown number says so") {
  CHECK(signal_name(0) == "signal 0");
  CHECK(signal_name(SIGRTMAX + 1) == "signal " + std::to_string(SIGRTMAX + 1));
}
