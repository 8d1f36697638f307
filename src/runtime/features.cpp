// `features`: what this build of berth-runtime can do, as the runtime-spec's
// features document. Callers (CRI-O, containerd) read it to decide what to
// ask for, so it lists only what is implemented.
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/container.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/mount_options.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/spec_default.hpp"
#include "version.hpp"

namespace berth::runtime {

namespace {

// The kernel's answer, as runc asks it: with a NULL program a known flag
// fails with EFAULT (the program is read after the flags are checked) and
// an unknown one with EINVAL; nothing is ever installed.
std::vector<std::string> supported_seccomp_flags() {
  std::vector<std::string> out;
  const std::pair<const char*, unsigned> flags[] = {
      {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
      {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
      {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
  };
  for (auto [name, flag] : flags) {
    // The kernel takes WAIT_KILLABLE_RECV only together with a listener.
    unsigned probe = flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? flag | SECCOMP_FILTER_FLAG_NEW_LISTENER : flag;
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, nullptr) < 0 && errno == EFAULT) out.emplace_back(name);
  }
  return out;
}

}  // namespace

std::string features_json() {
  using json = nlohmann::ordered_json;
  json f;
  f["ociVersionMin"] = "1.0.0";
  f["ociVersionMax"] = "1.3.0";
  f["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  f["mountOptions"] = known_mount_options();
  json lx;
  std::vector<std::string> ns;
  for (const auto& k : namespace_kinds()) ns.emplace_back(k.spec_name);
  std::sort(ns.begin(), ns.end());
  lx["namespaces"] = ns;
  lx["capabilities"] = all_capability_names();
  lx["cgroup"] = {{"v1", false}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}};
  lx["seccomp"] = {
      {"enabled", true},
      {"actions", seccomp_action_names()},
      {"operators", seccomp_operator_names()},
      {"archs", seccomp_arch_names()},
      {"knownFlags", seccomp_flag_names()},
      {"supportedFlags", supported_seccomp_flags()},
  };
  lx["apparmor"] = {{"enabled", false}};
  lx["selinux"] = {{"enabled", false}};
  lx["intelRdt"] = {{"enabled", false}};
  lx["mountExtensions"] = {{"idmap", {{"enabled", true}}}};
  f["linux"] = lx;
  const scmp_version* v = seccomp_version();
  f["annotations"] = {
      {"io.github.seccomp.libseccomp.version", cat(v->major, ".", v->minor, ".", v->micro)},
      {"run.berth.version", kBerthVersion},
      {"run.berth.commit", kBerthCommit},
  };
  f["potentiallyUnsafeConfigAnnotations"] = json::array();
  return f.dump(4) + "\n";
}

}  // namespace berth::runtime
