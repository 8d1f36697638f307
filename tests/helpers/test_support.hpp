// Shared helpers for berth's test suites: temporary directories, busybox
// bundles, running the built programs and checking for leftovers.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::test {

using json = nlohmann::json;

/// A fresh directory under $TMPDIR (or /tmp), removed with all its content.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "berth-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

struct RunResult {
  int status = -1;  // exit code, or 128+signal
  std::string out;
  std::string err;
};

/// Runs a program (no shell), feeding `input` on stdin; kills it after
/// `timeout_s` seconds. `extra_fds` are dup'd to 3, 4, ... in the child.
RunResult run(const std::vector<std::string>& argv, const std::string& input = "", int timeout_s = 60,
              const std::vector<int>& extra_fds = {});

/// Path of the built berth-runtime (from $BERTH_RUNTIME, set by meson).
std::string runtime_binary();

/// Writes a small root filesystem: busybox with its applets in /bin, an
/// /etc/passwd with root and "tester" (1000:1000, home /home/tester) and an
/// /etc/group.
void make_rootfs(const std::string& dir);

/// The cgroup v2 mount point (e.g. /sys/fs/cgroup/unified).
std::string cgroup_mount();

/// A cgroup owned by one test process: every container of the test is put
/// below it; removed (after killing what is left) on destruction.
class TestCgroup {
 public:
  TestCgroup();
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  /// cgroupsPath for a container: "/<parent>/<id>".
  std::string path_for(const std::string& id) const { return "/" + name_ + "/" + id; }
  /// Number of cgroups below the parent.
  int children() const;

 private:
  std::string name_;
};

/// A bundle in a temporary directory, with its own --root for state. The
/// config starts from `berth-runtime spec` with terminal off and no
/// network namespace... changes go to `config`, then write() it.
class Bundle {
 public:
  explicit Bundle(const std::string& id = "c1");
  const std::string& path() const { return dir_.path(); }
  std::string rootfs() const { return dir_ / "rootfs"; }
  std::string root() const { return dir_ / "state"; }
  const std::string& id() const { return id_; }
  /// Sets process.args.
  Bundle& args(const std::vector<std::string>& a);
  /// `sh -c script`.
  Bundle& sh(const std::string& script);
  /// Writes config.json.
  void write() const;
  /// berth-runtime --root <root> <args...>
  RunResult runtime(const std::vector<std::string>& args, const std::string& input = "",
                    const std::vector<int>& extra_fds = {}) const;
  /// write() then `run --bundle <path> <id>`.
  RunResult run_container(const std::vector<std::string>& extra = {}) const;

  json config;

 private:
  TempDir dir_;
  std::string id_;
  TestCgroup cgroup_;
};

/// True if `part` occurs in `s`.
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
/// A whole file, or "" when it cannot be read.
std::string slurp(const std::string& path);

/// Lines of /proc/self/mountinfo that mention `needle`.
int count_mounts(const std::string& needle);
/// Entries in a directory (0 if it does not exist).
int count_entries(const std::string& dir);

/// The inode of one of this process's namespaces ("net", "pid", ...).
std::string host_namespace(const std::string& name);

}  // namespace berth::test
