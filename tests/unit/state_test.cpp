// Container state (runtime/state.hpp): id validation, the `state` JSON as
// runc prints it, the state directory life cycle and the live status.
#include "runtime/state.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "test_support.hpp"

namespace {

using berth::runtime::ContainerState;
using berth::runtime::ContainerStatus;
using berth::runtime::StateDir;
using berth::test::TempDir;

ContainerState sample_state() {
  ContainerState s;
  s.oci_version = "1.2.0";
  s.id = "c1";
  s.pid = 4242;
  s.pid_start_time = 987654;
  s.bundle = "/bundles/c1";
  s.rootfs = "/bundles/c1/rootfs";
  s.created = "2024-05-06T07:08:09.123456789Z";
  s.cgroup_mount = "/sys/fs/cgroup";
  s.cgroup_path = "/berth/c1";
  s.own_pid_ns = true;
  return s;
}

std::vector<std::string> keys_of(const std::string& text) {
  std::vector<std::string> keys;
  // Parsed into a named object: items() of a temporary would dangle.
  const auto doc = nlohmann::ordered_json::parse(text);
  for (auto it = doc.begin(); it != doc.end(); ++it) keys.push_back(it.key());
  return keys;
}

uint64_t own_start_time() {
  auto st = berth::read_proc_stat(::getpid());
  REQUIRE(st.has_value());
  return st->start_time;
}

// A state for this very process: alive, with a start time that matches.
ContainerState live_state(const std::string& id) {
  ContainerState s = sample_state();
  s.id = id;
  s.pid = ::getpid();
  s.pid_start_time = own_start_time();
  s.cgroup_mount.clear();
  s.cgroup_path.clear();
  return s;
}

void make_fifo(const std::string& path) { REQUIRE(::mkfifo(path.c_str(), 0600) == 0); }

void write_text(const std::string& path, const std::string& text) {
  auto st = berth::write_file(path, text, true, 0644);
  REQUIRE_MESSAGE(st.ok(), st.error().message());
}

StateDir created_dir(const std::string& root, const std::string& id) {
  auto d = StateDir::create(root, id);
  REQUIRE_MESSAGE(d.ok(), d.error().message());
  d->commit();
  return std::move(d).value();
}

}  // namespace

// --- validate_id --------------------------------------------------------

TEST_CASE("validate_id accepts letters, digits and _+.-") {
  CHECK(berth::runtime::validate_id("a").ok());
  CHECK(berth::runtime::validate_id("A-b_c.1+x").ok());
  CHECK(berth::runtime::validate_id("0").ok());
  CHECK(berth::runtime::validate_id("...").ok());
}

TEST_CASE("validate_id accepts 1024 characters and refuses 1025") {
  CHECK(berth::runtime::validate_id(std::string(1024, 'x')).ok());
  auto st = berth::runtime::validate_id(std::string(1025, 'x'));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().rfind("invalid container ID format: ", 0) == 0);
}

TEST_CASE("validate_id refuses bad ids with runc's message") {
  CHECK(berth::runtime::validate_id("a/b").error().message() == "invalid container ID format: \"a/b\"");
  const std::vector<std::string> bad = {"", ".", "..", "a/b", "a b", "\xc3\xa4", "/", "a\nb", "a:b", "a*"};
  for (const auto& id : bad) {
    CAPTURE(id);
    auto st = berth::runtime::validate_id(id);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == 0);
    CHECK(st.error().message().rfind("invalid container ID format: \"", 0) == 0);
  }
  CHECK(berth::runtime::validate_id("").error().message() == "invalid container ID format: \"\"");
  CHECK(berth::runtime::validate_id("a b").error().message() == "invalid container ID format: \"a b\"");
}

// --- state_json ---------------------------------------------------------

TEST_CASE("state_json prints runc's keys in runc's order") {
  ContainerState s = sample_state();
  std::string out = berth::runtime::state_json(s, ContainerStatus::running, "root", false);
  CHECK(out ==
        "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"pid\":4242,\"status\":\"running\","
        "\"bundle\":\"/bundles/c1\",\"rootfs\":\"/bundles/c1/rootfs\","
        "\"created\":\"2024-05-06T07:08:09.123456789Z\",\"owner\":\"root\"}");
}

TEST_CASE("state_json puts non-empty annotations between created and owner") {
  ContainerState s = sample_state();
  s.annotations = {{"org.example/b", "2"}, {"org.example/a", "1"}};
  std::string out = berth::runtime::state_json(s, ContainerStatus::created, "tester", false);
  CHECK(keys_of(out) ==
        std::vector<std::string>{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"});
  auto j = nlohmann::json::parse(out);
  CHECK(j["annotations"]["org.example/a"] == "1");
  CHECK(j["annotations"]["org.example/b"] == "2");
  CHECK(j["status"] == "created");
  CHECK(j["owner"] == "tester");
}

TEST_CASE("state_json leaves annotations out when there are none") {
  std::string out = berth::runtime::state_json(sample_state(), ContainerStatus::running, "", false);
  CHECK(keys_of(out) ==
        std::vector<std::string>{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"});
}

TEST_CASE("state_json reports pid 0 for a stopped container") {
  auto j = nlohmann::json::parse(berth::runtime::state_json(sample_state(), ContainerStatus::stopped, "", false));
  CHECK(j["pid"] == 0);
  CHECK(j["status"] == "stopped");
}

TEST_CASE("state_json keeps the pid for every status but stopped") {
  for (auto status : {ContainerStatus::creating, ContainerStatus::created, ContainerStatus::running,
                      ContainerStatus::paused}) {
    auto j = nlohmann::json::parse(berth::runtime::state_json(sample_state(), status, "", false));
    CHECK(j["pid"] == 4242);
    CHECK(j["status"] == berth::runtime::status_name(status));
  }
}

TEST_CASE("state_json does not leak berth's private fields") {
  std::string out = berth::runtime::state_json(sample_state(), ContainerStatus::running, "", false);
  for (const char* key : {"pidStartTime", "cgroupMount", "cgroupPath", "ownPidNamespace"}) {
    CAPTURE(key);
    CHECK(out.find(key) == std::string::npos);
  }
}

TEST_CASE("state_json indents with two spaces when asked") {
  std::string out = berth::runtime::state_json(sample_state(), ContainerStatus::running, "", true);
  CHECK(out.rfind("{\n  \"ociVersion\": \"1.2.0\",\n  \"id\": \"c1\",\n", 0) == 0);
  CHECK(out.back() == '}');
}

TEST_CASE("status_name names every status") {
  CHECK(std::string(berth::runtime::status_name(ContainerStatus::creating)) == "creating");
  CHECK(std::string(berth::runtime::status_name(ContainerStatus::created)) == "created");
  CHECK(std::string(berth::runtime::status_name(ContainerStatus::running)) == "running");
  CHECK(std::string(berth::runtime::status_name(ContainerStatus::paused)) == "paused");
  CHECK(std::string(berth::runtime::status_name(ContainerStatus::stopped)) == "stopped");
}

// --- StateDir -----------------------------------------------------------

TEST_CASE("StateDir::create makes the root and the container directory") {
  TempDir t;
  std::string root = t / "state/root";
  auto d = StateDir::create(root, "c1");
  REQUIRE_MESSAGE(d.ok(), d.error().message());
  d->commit();
  CHECK(d->path() == root + "/c1");
  CHECK(d->id() == "c1");
  struct stat sb{};
  REQUIRE(::stat(root.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0700);
  REQUIRE(::stat((root + "/c1").c_str(), &sb) == 0);
  CHECK(S_ISDIR(sb.st_mode));
  // The init reopens exec.fifo after dropping privileges: searchable by all.
  CHECK((sb.st_mode & 0777) == 0711);
}

TEST_CASE("StateDir::create twice fails with `container with id exists`") {
  TempDir t;
  StateDir first = created_dir(t.path(), "x");
  auto again = StateDir::create(t.path(), "x");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message() == "container with id exists: x");
  // The failed create must not remove the existing container.
  CHECK(berth::path_exists(t / "x"));
}

TEST_CASE("an uncommitted StateDir removes its directory when destroyed") {
  TempDir t;
  {
    auto d = StateDir::create(t.path(), "tmp");
    REQUIRE(d.ok());
    CHECK(berth::path_exists(t / "tmp"));
  }
  CHECK_FALSE(berth::path_exists(t / "tmp"));
}

TEST_CASE("a committed StateDir survives its object") {
  TempDir t;
  { StateDir d = created_dir(t.path(), "keep"); }
  CHECK(berth::path_exists(t / "keep"));
}

TEST_CASE("StateDir::create refuses an invalid id") {
  TempDir t;
  auto d = StateDir::create(t.path(), "a/b");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message() == "invalid container ID format: \"a/b\"");
  CHECK(berth::test::count_entries(t.path()) == 0);
}

TEST_CASE("StateDir::open of a missing container fails with `does not exist`") {
  TempDir t;
  auto d = StateDir::open(t.path(), "x");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message() == "container \"x\" does not exist");
}

TEST_CASE("StateDir::open refuses an invalid id") {
  TempDir t;
  auto d = StateDir::open(t.path(), "..");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message() == "invalid container ID format: \"..\"");
}

TEST_CASE("StateDir save then load round-trips every field") {
  TempDir t;
  ContainerState s = sample_state();
  s.annotations = {{"k", "v"}, {"other", "with \"quotes\""}};
  {
    StateDir d = created_dir(t.path(), "c1");
    auto st = d.save(s);
    REQUIRE_MESSAGE(st.ok(), st.error().message());
  }
  auto d = StateDir::open(t.path(), "c1");
  REQUIRE_MESSAGE(d.ok(), d.error().message());
  auto loaded = d->load();
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message());
  CHECK(loaded->oci_version == s.oci_version);
  CHECK(loaded->id == s.id);
  CHECK(loaded->pid == s.pid);
  CHECK(loaded->pid_start_time == s.pid_start_time);
  CHECK(loaded->bundle == s.bundle);
  CHECK(loaded->rootfs == s.rootfs);
  CHECK(loaded->created == s.created);
  CHECK(loaded->annotations == s.annotations);
  CHECK(loaded->cgroup_mount == s.cgroup_mount);
  CHECK(loaded->cgroup_path == s.cgroup_path);
  CHECK(loaded->own_pid_ns == s.own_pid_ns);
}

TEST_CASE("StateDir::save writes state.json with mode 0600 and no leftovers") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  REQUIRE(d.save(sample_state()).ok());
  ContainerState s2 = sample_state();
  s2.pid = 7;
  REQUIRE(d.save(s2).ok());
  struct stat sb{};
  REQUIRE(::stat((t / "c1/state.json").c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);
  CHECK(berth::test::count_entries(t / "c1") == 1);
  CHECK(d.load()->pid == 7);
}

TEST_CASE("StateDir::load without a state file says the container does not exist") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  auto loaded = d.load();
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message() == "container \"c1\" does not exist");
}

TEST_CASE("StateDir::load reports a corrupt state file") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  write_text(t / "c1/state.json", "{not json");
  auto loaded = d.load();
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message().rfind("container \"c1\": corrupt state file: ", 0) == 0);
}

TEST_CASE("StateDir::remove deletes the directory and its content") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  REQUIRE(d.save(sample_state()).ok());
  make_fifo(t / "c1/exec.fifo");
  REQUIRE(d.remove().ok());
  CHECK_FALSE(berth::path_exists(t / "c1"));
}

TEST_CASE("read_state reads a saved state without the lock") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  REQUIRE(d.save(sample_state()).ok());
  auto s = berth::runtime::read_state(t.path(), "c1");  // the lock is still held by d
  REQUIRE_MESSAGE(s.ok(), s.error().message());
  CHECK(s->pid == 4242);
  auto missing = berth::runtime::read_state(t.path(), "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "container \"nope\" does not exist");
}

// --- list_ids -----------------------------------------------------------

TEST_CASE("list_ids lists only directories that hold state.json, sorted") {
  TempDir t;
  for (const char* id : {"zeta", "alpha", "mid"}) {
    StateDir d = created_dir(t.path(), id);
    REQUIRE(d.save(sample_state()).ok());
  }
  { StateDir empty = created_dir(t.path(), "empty"); }      // no state.json yet
  write_text(t / "plainfile", "x");                           // not a directory
  REQUIRE(::mkdir((t / "bad name").c_str(), 0700) == 0);     // not a valid id
  write_text(t / "bad name/state.json", "{}");
  REQUIRE(::mkdir((t / "dir-state").c_str(), 0700) == 0);    // state.json must exist
  REQUIRE(::mkdir((t / "dir-state/other.json").c_str(), 0700) == 0);
  CHECK(berth::runtime::list_ids(t.path()) == std::vector<std::string>{"alpha", "mid", "zeta"});
}

TEST_CASE("list_ids of a missing root is empty") {
  TempDir t;
  CHECK(berth::runtime::list_ids(t / "missing").empty());
}

// --- live status --------------------------------------------------------

TEST_CASE("status is stopped when the pid is alive but started at another time (pid reuse)") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  ContainerState s = live_state("c1");
  s.pid_start_time += 1;
  make_fifo(t / "c1/exec.fifo");  // would say "created" if the pid were trusted
  CHECK(d.status(s) == ContainerStatus::stopped);
  CHECK(berth::runtime::read_status(t.path(), s) == ContainerStatus::stopped);
}

TEST_CASE("status is created while exec.fifo exists and the init is alive") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  ContainerState s = live_state("c1");
  make_fifo(t / "c1/exec.fifo");
  CHECK(d.status(s) == ContainerStatus::created);
  CHECK(berth::runtime::read_status(t.path(), s) == ContainerStatus::created);
}

TEST_CASE("status is running when the init is alive and exec.fifo is gone") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  ContainerState s = live_state("c1");
  CHECK(d.status(s) == ContainerStatus::running);
  CHECK(berth::runtime::read_status(t.path(), s) == ContainerStatus::running);
}

TEST_CASE("status is paused when the container cgroup is frozen") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  ContainerState s = live_state("c1");
  REQUIRE(berth::mkdir_all(t / "cg/berth/c1", 0755).ok());
  write_text(t / "cg/berth/c1/cgroup.events", "populated 1\nfrozen 1\n");
  s.cgroup_mount = t / "cg";
  s.cgroup_path = "/berth/c1";
  CHECK(d.status(s) == ContainerStatus::paused);
  write_text(t / "cg/berth/c1/cgroup.events", "populated 1\nfrozen 0\n");
  CHECK(d.status(s) == ContainerStatus::running);
}

TEST_CASE("status is stopped for pid 0 and for a process that has exited") {
  TempDir t;
  StateDir d = created_dir(t.path(), "c1");
  ContainerState s = live_state("c1");
  s.pid = 0;
  CHECK(d.status(s) == ContainerStatus::stopped);

  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  // ChildProcess kills and reaps the child even if a REQUIRE below throws.
  berth::ChildProcess guard(child);
  auto st = berth::read_proc_stat(child);
  REQUIRE(st.has_value());
  s.pid = child;
  s.pid_start_time = st->start_time;
  CHECK(d.status(s) == ContainerStatus::running);
  guard.kill_and_reap();
  CHECK(d.status(s) == ContainerStatus::stopped);
}

TEST_CASE("read_status of a container whose directory is gone is stopped") {
  TempDir t;
  ContainerState s = live_state("gone");
  CHECK(berth::runtime::read_status(t.path(), s) == ContainerStatus::stopped);
}
