// Helpers for the priv tests that drive containers through the runtime's
// commands: waiting, parsing command output, reading a container's state and
// cgroup, and a guard that force-deletes a container at the end of a test.
#pragma once

#include <doctest/doctest.h>
#include <time.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/strings.hpp"
#include "test_support.hpp"

namespace berth::test {

inline long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

inline std::string trim_nl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

inline std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

template <typename Pred>
inline bool wait_for(Pred pred, int timeout_ms = 10000) {
  long deadline = now_ms() + timeout_ms;
  while (!pred()) {
    if (now_ms() > deadline) return false;
    ::usleep(20000);
  }
  return true;
}

inline std::string status_of(const Bundle& b) {
  auto r = b.runtime({"state", b.id()});
  if (r.status != 0) return "";
  try {
    return json::parse(r.out)["status"].get<std::string>();
  } catch (...) {
    return "";
  }
}

struct ForceDelete {
  const Bundle& b;
  ~ForceDelete() {
    try {
      (void)b.runtime({"delete", "--force", b.id()});
    } catch (...) {
    }
  }
};

inline pid_t start_detached(Bundle& b) {
  b.write();
  std::string pid_file = b.path() + "/init.pid";
  auto r = b.runtime({"run", "-d", "--bundle", b.path(), "--pid-file", pid_file, b.id()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto pid = berth::parse_int<pid_t>(trim_nl(slurp(pid_file)));
  REQUIRE(pid);
  return *pid;
}

inline std::string cgroup_dir(const Bundle& b) { return cgroup_mount() + b.config["linux"]["cgroupsPath"].get<std::string>(); }

inline std::set<pid_t> cgroup_procs(const Bundle& b) {
  std::set<pid_t> pids;
  for (const auto& w : words(slurp(cgroup_dir(b) + "/cgroup.procs")))
    if (auto p = berth::parse_int<pid_t>(w)) pids.insert(*p);
  return pids;
}

}  // namespace berth::test
