// Namespaces of real containers, observed from inside them: new ones,
// joined ones, and what is configured in them (uts names, time offsets, id
// mappings, sysctls).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {

// "key value" lines printed by a container script -> map.
std::map<std::string, std::string> key_values(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    m[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return m;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string ns_link(pid_t pid, const std::string& name) {
  char buf[256];
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

void set_namespace_path(json& config, const std::string& type, const std::string& path) {
  for (auto& ns : config["linux"]["namespaces"])
    if (ns["type"] == type) {
      ns["path"] = path;
      return;
    }
  config["linux"]["namespaces"].push_back({{"type", type}, {"path", path}});
}

void remove_namespace(json& config, const std::string& type) {
  auto& ns = config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == type) {
      ns.erase(i);
      return;
    }
}

double first_number(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

// A host file's content, or a marker that cannot be mistaken for one.
std::string read_host_file(const std::string& path) {
  auto text = berth::read_file(path);
  return text ? *text : "<unreadable " + path + ">";
}

// A process started by the test to hold namespaces open; killed and reaped
// when the test ends, whatever happened in between.
class Holder {
 public:
  explicit Holder(const std::vector<std::string>& argv) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::close_range(3, ~0U, 0);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Holder() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  pid_t pid() const { return pid_; }

  // Waits until the holder's `name` namespace is no longer the test's own
  // (unshare has done its work); returns the link, or "" on timeout.
  std::string wait_namespace(const std::string& name) const {
    for (int i = 0; i < 500; ++i) {
      std::string link = ns_link(pid_, name);
      if (!link.empty() && link != host_namespace(name)) return link;
      ::usleep(10000);
    }
    return "";
  }

  // The first child of the holder (unshare --fork), or 0 on timeout.
  pid_t wait_child() const {
    std::string path = "/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) + "/children";
    for (int i = 0; i < 500; ++i) {
      if (auto text = berth::read_file(path); text && !words(*text).empty()) return std::atoi(words(*text)[0].c_str());
      ::usleep(10000);
    }
    return 0;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("each configured namespace is new and the process is pid 1") {
  Bundle b;
  b.sh("for n in pid net ipc uts mnt cgroup; do echo $n $(readlink /proc/self/ns/$n); done; echo self $$");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  for (const char* n : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    CAPTURE(n);
    REQUIRE(kv.count(n) == 1);
    CHECK(kv[n].rfind(std::string(n) + ":[", 0) == 0);
    CHECK(kv[n] != host_namespace(n));
  }
  CHECK(kv["self"] == "1");
}

TEST_CASE("a namespace that is not configured is shared with the host") {
  // The counterpart of the test above: without it, "differs from the host"
  // could come from a broken readlink rather than from a new namespace.
  Bundle b;
  remove_namespace(b.config, "network");
  remove_namespace(b.config, "ipc");
  b.sh("echo net $(readlink /proc/self/ns/net); echo ipc $(readlink /proc/self/ns/ipc); echo uts $(readlink /proc/self/ns/uts)");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["net"] == host_namespace("net"));
  CHECK(kv["ipc"] == host_namespace("ipc"));
  CHECK(kv["uts"] != host_namespace("uts"));
}

TEST_CASE("network and ipc namespaces are joined by path") {
  Holder holder({"unshare", "--net", "--ipc", "sleep", "60"});
  REQUIRE(holder.pid() > 0);
  std::string net = holder.wait_namespace("net");
  std::string ipc = holder.wait_namespace("ipc");
  REQUIRE(!net.empty());
  REQUIRE(!ipc.empty());

  Bundle b;
  set_namespace_path(b.config, "network", "/proc/" + std::to_string(holder.pid()) + "/ns/net");
  set_namespace_path(b.config, "ipc", "/proc/" + std::to_string(holder.pid()) + "/ns/ipc");
  b.sh("echo net $(readlink /proc/self/ns/net); echo ipc $(readlink /proc/self/ns/ipc); echo uts $(readlink /proc/self/ns/uts)");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["net"] == net);
  CHECK(kv["ipc"] == ipc);
  // The namespaces that were not joined are still new ones.
  CHECK(kv["uts"] != host_namespace("uts"));
  CHECK(kv["uts"] != ns_link(holder.pid(), "uts"));
}

TEST_CASE("a pid namespace is joined by path") {
  // unshare forks `sleep`, which becomes pid 1 of the new pid namespace.
  Holder holder({"unshare", "--pid", "--fork", "--kill-child", "sleep", "60"});
  REQUIRE(holder.pid() > 0);
  pid_t sleeper = holder.wait_child();
  REQUIRE(sleeper > 0);
  std::string pidns = ns_link(sleeper, "pid");
  REQUIRE(!pidns.empty());
  REQUIRE(pidns != host_namespace("pid"));

  Bundle b;
  set_namespace_path(b.config, "pid", "/proc/" + std::to_string(sleeper) + "/ns/pid");
  // The container's /proc belongs to the joined namespace, so its pid 1 is
  // the holder's sleep, and the container's shell is not pid 1.
  b.sh("echo pidns $(readlink /proc/self/ns/pid); echo self $$; echo init $(tr '\\0' ' ' < /proc/1/cmdline)");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["pidns"] == pidns);
  CHECK(kv["self"] != "1");
  CHECK(kv["init"] == "sleep 60");
}

TEST_CASE("hostname and domainname are set in the new uts namespace") {
  char host_before[256] = {};
  ::gethostname(host_before, sizeof host_before - 1);
  auto domain_before = read_host_file("/proc/sys/kernel/domainname");
  Bundle b;
  b.config["hostname"] = "berth-ns-test";
  b.config["domainname"] = "example.invalid";
  b.sh("echo host $(hostname); echo domain $(cat /proc/sys/kernel/domainname)");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["host"] == "berth-ns-test");
  CHECK(kv["domain"] == "example.invalid");
  char host_after[256] = {};
  ::gethostname(host_after, sizeof host_after - 1);
  CHECK(std::string(host_after) == std::string(host_before));
  CHECK(read_host_file("/proc/sys/kernel/domainname") == domain_before);
}

TEST_CASE("a time namespace applies the configured boottime and monotonic offsets") {
  Bundle b;
  b.config["linux"]["namespaces"].push_back({{"type", "time"}});
  b.config["linux"]["timeOffsets"] = {{"boottime", {{"secs", 10000}, {"nanosecs", 0}}},
                                      {"monotonic", {{"secs", 20000}, {"nanosecs", 0}}}};
  b.sh("echo time $(readlink /proc/self/ns/time); echo uptime $(cat /proc/uptime); "
       "while read clock s ns; do echo $clock $s; done < /proc/self/timens_offsets");
  double before = first_number(read_host_file("/proc/uptime"));
  auto r = b.run_container();
  double after = first_number(read_host_file("/proc/uptime"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["time"] != host_namespace("time"));
  // /proc/uptime is boottime: shifted by exactly the boottime offset.
  double inside = first_number(kv["uptime"]);
  CHECK(inside >= before + 10000 - 1);
  CHECK(inside <= after + 10000 + 1);
  CHECK(kv["monotonic"] == "20000");
  CHECK(kv["boottime"] == "10000");
  // The test's own clock is not shifted.
  CHECK(after < before + 100);
}

TEST_CASE("a user namespace maps container root to the configured host ids") {
  Bundle b;
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  // The mapped root must be able to reach and write the rootfs: the bundle
  // directory is 0700 (mkdtemp) and everything is owned by the host's root.
  REQUIRE(::chmod(b.path().c_str(), 0711) == 0);
  REQUIRE(::chown(b.rootfs().c_str(), 100000, 100000) == 0);
  b.sh("echo uid_map $(cat /proc/self/uid_map); echo gid_map $(cat /proc/self/gid_map); "
       "echo user $(readlink /proc/self/ns/user); echo id $(id -u):$(id -g); touch /created && echo created yes");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(words(kv["uid_map"]) == std::vector<std::string>{"0", "100000", "65536"});
  CHECK(words(kv["gid_map"]) == std::vector<std::string>{"0", "100000", "65536"});
  CHECK(kv["user"] != host_namespace("user"));
  CHECK(kv["id"] == "0:0");
  CHECK(kv["created"] == "yes");
  struct stat st{};
  REQUIRE(::stat((b.rootfs() + "/created").c_str(), &st) == 0);
  CHECK(st.st_uid == 100000);
  CHECK(st.st_gid == 100000);
}

TEST_CASE("sysctls are written in the container's network namespace only") {
  auto forward_before = read_host_file("/proc/sys/net/ipv4/ip_forward");
  auto ttl_before = read_host_file("/proc/sys/net/ipv4/ip_default_ttl");
  Bundle b;
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"net.ipv4.ip_default_ttl", "42"}};
  b.sh("echo forward $(cat /proc/sys/net/ipv4/ip_forward); echo ttl $(cat /proc/sys/net/ipv4/ip_default_ttl)");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto kv = key_values(r.out);
  CHECK(kv["forward"] == "1");
  CHECK(kv["ttl"] == "42");
  CHECK(read_host_file("/proc/sys/net/ipv4/ip_forward") == forward_before);
  CHECK(read_host_file("/proc/sys/net/ipv4/ip_default_ttl") == ttl_before);
}
