#include "runtime/mount_options.hpp"

#include <linux/mount.h>
#include <sys/mount.h>

#include <string_view>

#include "common/strings.hpp"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace berth::runtime {

namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option turns the flag off
  unsigned long flag;
};

constexpr FlagOption kFlags[] = {
    {"async", true, MS_SYNCHRONOUS},  {"atime", true, MS_NOATIME},        {"defaults", false, 0},
    {"dev", true, MS_NODEV},          {"diratime", true, MS_NODIRATIME},  {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},        {"iversion", false, MS_I_VERSION},  {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},        {"mand", false, MS_MANDLOCK},       {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},       {"nodiratime", false, MS_NODIRATIME}, {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION}, {"nolazytime", true, MS_LAZYTIME}, {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME}, {"nostrictatime", true, MS_STRICTATIME}, {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW}, {"symfollow", true, MS_NOSYMFOLLOW}, {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},   {"ro", false, MS_RDONLY},           {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},     {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},   {"rprivate", MS_PRIVATE | MS_REC},       {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},               {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

constexpr AttrOption kRecursive[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},       {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},   {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},     {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},   {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  std::vector<std::string> data;
  for (const auto& opt : options) {
    if (opt == "bind" || opt == "rbind") {
      out.bind = true;
      out.recursive_bind = out.recursive_bind || opt == "rbind";
      continue;
    }
    if (opt == "tmpcopyup") {
      out.tmpcopyup = true;
      continue;
    }
    if (opt == "idmap" || opt == "ridmap") {
      out.idmap = true;
      out.recursive_idmap = out.recursive_idmap || opt == "ridmap";
      continue;
    }
    bool matched = false;
    for (const auto& f : kFlags) {
      if (f.name != opt) continue;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.cleared |= f.flag;
      } else {
        out.flags |= f.flag;
        out.cleared &= ~f.flag;
      }
      matched = true;
      break;
    }
    if (matched) continue;
    for (const auto& p : kPropagation) {
      if (p.name != opt) continue;
      out.propagation = p.flags;
      matched = true;
      break;
    }
    if (matched) continue;
    for (const auto& a : kRecursive) {
      if (a.name != opt) continue;
      if (a.clear) {
        out.attr_clr |= a.attr;
        out.attr_set &= ~a.attr;
      } else {
        out.attr_set |= a.attr;
        out.attr_clr &= ~a.attr;
      }
      matched = true;
      break;
    }
    if (matched) continue;
    // The atime options are one setting with three values in mount_setattr.
    if (opt == "rrelatime" || opt == "rnoatime" || opt == "rstrictatime") {
      out.attr_clr |= MOUNT_ATTR__ATIME;
      out.attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
      out.attr_set |= opt == "rrelatime" ? MOUNT_ATTR_RELATIME
                      : opt == "rnoatime" ? MOUNT_ATTR_NOATIME
                                          : MOUNT_ATTR_STRICTATIME;
      continue;
    }
    data.push_back(opt);
  }
  out.data = join(data, ",");
  return out;
}

std::string mount_flags_string(unsigned long flags) {
  std::vector<std::string> names;
  for (const auto& f : kFlags)
    if (!f.clear && f.flag && (flags & f.flag) && f.name != "remount") names.emplace_back(f.name);
  if (flags & MS_BIND) names.emplace_back(flags & MS_REC ? "rbind" : "bind");
  if (flags & MS_REMOUNT) names.emplace_back("remount");
  return join(names, ",");
}

std::vector<std::string> known_mount_options() {
  std::vector<std::string> out;
  for (const auto& f : kFlags) out.emplace_back(f.name);
  for (const auto& p : kPropagation) out.emplace_back(p.name);
  for (const auto& a : kRecursive) out.emplace_back(a.name);
  for (const char* extra : {"rrelatime", "rnoatime", "rstrictatime", "bind", "rbind", "tmpcopyup", "idmap", "ridmap"})
    out.emplace_back(extra);
  return out;
}

}  // namespace berth::runtime
