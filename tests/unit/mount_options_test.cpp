// parse_mount_options and mount_flags_string: the mount(8) option names of
// config.json turned into mount(2) flags, propagation, mount_setattr(2)
// attributes and the filesystem data string.
#include <doctest/doctest.h>

#include <linux/mount.h>
#include <sys/mount.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/strings.hpp"
#include "runtime/mount_options.hpp"

using berth::runtime::mount_flags_string;
using berth::runtime::MountOptions;
using berth::runtime::parse_mount_options;

namespace {

std::set<std::string> names_of(const std::string& comma_list) {
  std::set<std::string> out;
  for (auto& n : berth::split(comma_list, ',')) out.insert(n);
  return out;
}

}  // namespace

TEST_CASE("mount options: no options means no flags, no data, no bind") {
  MountOptions o = parse_mount_options({});
  CHECK(o.flags == 0);
  CHECK(o.cleared == 0);
  CHECK(o.propagation == 0);
  CHECK(o.attr_set == 0);
  CHECK(o.attr_clr == 0);
  CHECK(o.data.empty());
  CHECK_FALSE(o.bind);
  CHECK_FALSE(o.recursive_bind);
  CHECK_FALSE(o.tmpcopyup);
  CHECK_FALSE(o.idmap);
}

TEST_CASE("mount options: flag options set their MS_ bit") {
  struct Case {
    const char* name;
    unsigned long flag;
  };
  const Case cases[] = {
      {"ro", MS_RDONLY},       {"nosuid", MS_NOSUID},         {"nodev", MS_NODEV},
      {"noexec", MS_NOEXEC},   {"sync", MS_SYNCHRONOUS},      {"dirsync", MS_DIRSYNC},
      {"mand", MS_MANDLOCK},   {"noatime", MS_NOATIME},       {"nodiratime", MS_NODIRATIME},
      {"relatime", MS_RELATIME}, {"strictatime", MS_STRICTATIME}, {"lazytime", MS_LAZYTIME},
      {"iversion", MS_I_VERSION}, {"silent", MS_SILENT},
  };
  for (const auto& c : cases) {
    INFO("option: ", c.name);
    MountOptions o = parse_mount_options({c.name});
    CHECK(o.flags == c.flag);
    CHECK(o.cleared == 0);
    CHECK(o.data.empty());
  }
}

TEST_CASE("mount options: the negative spellings clear their MS_ bit") {
  struct Case {
    const char* set;
    const char* clear;
    unsigned long flag;
  };
  const Case cases[] = {
      {"ro", "rw", MS_RDONLY},           {"nosuid", "suid", MS_NOSUID},      {"nodev", "dev", MS_NODEV},
      {"noexec", "exec", MS_NOEXEC},     {"sync", "async", MS_SYNCHRONOUS},  {"noatime", "atime", MS_NOATIME},
      {"nodiratime", "diratime", MS_NODIRATIME}, {"relatime", "norelatime", MS_RELATIME},
      {"strictatime", "nostrictatime", MS_STRICTATIME}, {"mand", "nomand", MS_MANDLOCK},
      {"lazytime", "nolazytime", MS_LAZYTIME}, {"iversion", "noiversion", MS_I_VERSION},
      {"silent", "loud", MS_SILENT},
  };
  for (const auto& c : cases) {
    INFO("options: ", c.set, ",", c.clear);
    MountOptions o = parse_mount_options({c.set, c.clear});
    CHECK((o.flags & c.flag) == 0);
    CHECK((o.cleared & c.flag) == c.flag);
    CHECK(o.data.empty());
  }
}

TEST_CASE("mount options: a later option overrides an earlier one") {
  MountOptions ro_last = parse_mount_options({"rw", "ro"});
  CHECK((ro_last.flags & MS_RDONLY) != 0);
  // Set again after a clear: the "cleared" record must go, or the mount
  // code would both set and clear the bit.
  CHECK((ro_last.cleared & MS_RDONLY) == 0);

  MountOptions rw_last = parse_mount_options({"ro", "rw"});
  CHECK((rw_last.flags & MS_RDONLY) == 0);
  CHECK((rw_last.cleared & MS_RDONLY) != 0);

  MountOptions suid_last = parse_mount_options({"nosuid", "nodev", "suid"});
  CHECK(suid_last.flags == MS_NODEV);
  CHECK(suid_last.cleared == MS_NOSUID);
}

TEST_CASE("mount options: the atime family are independent flags") {
  MountOptions o = parse_mount_options({"noatime", "nodiratime", "strictatime"});
  CHECK(o.flags == (MS_NOATIME | MS_NODIRATIME | MS_STRICTATIME));
  MountOptions a = parse_mount_options({"noatime", "atime", "relatime"});
  CHECK(a.flags == MS_RELATIME);
  CHECK(a.cleared == MS_NOATIME);
}

TEST_CASE("mount options: several flags combine") {
  MountOptions o = parse_mount_options({"nosuid", "noexec", "nodev", "ro"});
  CHECK(o.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  CHECK(o.data.empty());
}

TEST_CASE("mount options: defaults is accepted and changes nothing") {
  MountOptions o = parse_mount_options({"defaults"});
  CHECK(o.flags == 0);
  CHECK(o.cleared == 0);
  CHECK(o.data.empty());
}

TEST_CASE("mount options: remount sets MS_REMOUNT") {
  MountOptions o = parse_mount_options({"remount", "ro"});
  CHECK(o.flags == (MS_REMOUNT | MS_RDONLY));
}

TEST_CASE("mount options: propagation options") {
  struct Case {
    const char* name;
    unsigned long flags;
  };
  const Case cases[] = {
      {"private", MS_PRIVATE},          {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},            {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},              {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE},    {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (const auto& c : cases) {
    INFO("option: ", c.name);
    MountOptions o = parse_mount_options({c.name});
    CHECK(o.propagation == c.flags);
    // Propagation is a separate mount(2) call; it must not leak into the
    // flags of the mount itself.
    CHECK(o.flags == 0);
    CHECK(o.data.empty());
  }
}

TEST_CASE("mount options: the last propagation option wins") {
  CHECK(parse_mount_options({"rshared", "private"}).propagation == MS_PRIVATE);
  CHECK(parse_mount_options({"slave", "rprivate"}).propagation == (MS_PRIVATE | MS_REC));
}

TEST_CASE("mount options: recursive attributes set and clear MOUNT_ATTR_ bits") {
  struct Case {
    const char* set;
    const char* clear;
    uint64_t attr;
  };
  const Case cases[] = {
      {"rro", "rrw", MOUNT_ATTR_RDONLY},
      {"rnosuid", "rsuid", MOUNT_ATTR_NOSUID},
      {"rnodev", "rdev", MOUNT_ATTR_NODEV},
      {"rnoexec", "rexec", MOUNT_ATTR_NOEXEC},
      {"rnodiratime", "rdiratime", MOUNT_ATTR_NODIRATIME},
      {"rnosymfollow", "rsymfollow", MOUNT_ATTR_NOSYMFOLLOW},
  };
  for (const auto& c : cases) {
    INFO("option: ", c.set, " / ", c.clear);
    MountOptions s = parse_mount_options({c.set});
    CHECK(s.attr_set == c.attr);
    CHECK(s.attr_clr == 0);
    CHECK(s.flags == 0);  // recursive attributes are not mount(2) flags
    CHECK(s.data.empty());

    MountOptions cl = parse_mount_options({c.clear});
    CHECK(cl.attr_set == 0);
    CHECK(cl.attr_clr == c.attr);

    // Later wins in both directions.
    MountOptions set_then_clear = parse_mount_options({c.set, c.clear});
    CHECK(set_then_clear.attr_set == 0);
    CHECK(set_then_clear.attr_clr == c.attr);
    MountOptions clear_then_set = parse_mount_options({c.clear, c.set});
    CHECK(clear_then_set.attr_set == c.attr);
    CHECK(clear_then_set.attr_clr == 0);
  }
}

TEST_CASE("mount options: recursive atime options replace the whole atime setting") {
  // mount_setattr(2) takes the atime mode as one field: MOUNT_ATTR__ATIME in
  // attr_clr, and the chosen mode (relatime is 0) in attr_set.
  MountOptions rel = parse_mount_options({"rrelatime"});
  CHECK(rel.attr_clr == MOUNT_ATTR__ATIME);
  CHECK(rel.attr_set == MOUNT_ATTR_RELATIME);

  MountOptions noa = parse_mount_options({"rnoatime"});
  CHECK(noa.attr_clr == MOUNT_ATTR__ATIME);
  CHECK(noa.attr_set == MOUNT_ATTR_NOATIME);

  MountOptions strict = parse_mount_options({"rstrictatime"});
  CHECK(strict.attr_clr == MOUNT_ATTR__ATIME);
  CHECK(strict.attr_set == MOUNT_ATTR_STRICTATIME);

  MountOptions last = parse_mount_options({"rnoatime", "rstrictatime"});
  CHECK(last.attr_set == MOUNT_ATTR_STRICTATIME);
  MountOptions back_to_rel = parse_mount_options({"rstrictatime", "rrelatime"});
  CHECK((back_to_rel.attr_set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_RELATIME);

  // Other attributes survive a change of the atime mode.
  MountOptions mixed = parse_mount_options({"rro", "rnoatime", "rnosuid"});
  CHECK(mixed.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME | MOUNT_ATTR_NOSUID));
  CHECK(mixed.attr_clr == MOUNT_ATTR__ATIME);
}

TEST_CASE("mount options: bind and rbind") {
  MountOptions b = parse_mount_options({"bind"});
  CHECK(b.bind);
  CHECK_FALSE(b.recursive_bind);
  CHECK(b.data.empty());
  CHECK(b.flags == 0);

  MountOptions rb = parse_mount_options({"rbind", "ro"});
  CHECK(rb.bind);
  CHECK(rb.recursive_bind);
  CHECK(rb.flags == MS_RDONLY);
  CHECK(rb.data.empty());

  // As with mount(8) and runc, rbind and bind add up (MS_BIND|MS_REC): a
  // later "bind" does not undo the recursion.
  MountOptions both = parse_mount_options({"rbind", "bind"});
  CHECK(both.bind);
  CHECK(both.recursive_bind);
}

TEST_CASE("mount options: tmpcopyup and idmap are recognised, not data") {
  MountOptions t = parse_mount_options({"tmpcopyup", "mode=755"});
  CHECK(t.tmpcopyup);
  CHECK(t.data == "mode=755");
  MountOptions i = parse_mount_options({"idmap"});
  CHECK(i.idmap);
  CHECK(i.data.empty());
  CHECK(parse_mount_options({"ridmap"}).idmap);
}

TEST_CASE("mount options: unknown options become comma-joined data in order") {
  MountOptions o = parse_mount_options({"nosuid", "strictatime", "mode=755", "size=65536k"});
  CHECK(o.flags == (MS_NOSUID | MS_STRICTATIME));
  CHECK(o.data == "mode=755,size=65536k");

  MountOptions devpts =
      parse_mount_options({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  CHECK(devpts.data == "newinstance,ptmxmode=0666,mode=0620,gid=5");
  CHECK(devpts.flags == (MS_NOSUID | MS_NOEXEC));
}

TEST_CASE("mount options: option names are case sensitive") {
  // "RO" is not mount(8)'s ro; as an unknown name it goes to the filesystem.
  MountOptions o = parse_mount_options({"RO"});
  CHECK(o.flags == 0);
  CHECK(o.data == "RO");
}

TEST_CASE("mount_flags_string: names each flag once") {
  CHECK(mount_flags_string(0).empty());
  CHECK(mount_flags_string(MS_RDONLY) == "ro");
  CHECK(mount_flags_string(MS_NOSUID) == "nosuid");
  CHECK(names_of(mount_flags_string(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) ==
        std::set<std::string>{"ro", "nosuid", "nodev", "noexec"});
  CHECK(names_of(mount_flags_string(MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) ==
        std::set<std::string>{"noatime", "relatime", "strictatime"});
  // One name a line of the output, never a duplicate.
  auto parts = berth::split(mount_flags_string(MS_RDONLY | MS_NOSUID | MS_NODEV), ',');
  CHECK(parts.size() == 3);
}

TEST_CASE("mount_flags_string: bind, rbind and remount") {
  CHECK(mount_flags_string(MS_BIND) == "bind");
  CHECK(mount_flags_string(MS_BIND | MS_REC) == "rbind");
  CHECK(mount_flags_string(MS_REMOUNT) == "remount");
  CHECK(names_of(mount_flags_string(MS_BIND | MS_REMOUNT | MS_RDONLY)) ==
        std::set<std::string>{"bind", "remount", "ro"});
  // MS_REC alone is a modifier, not something to name.
  CHECK(mount_flags_string(MS_REC).empty());
}

TEST_CASE("mount_flags_string: round-trips what parse_mount_options produced") {
  const std::vector<std::string> opts = {"ro", "nosuid", "nodev", "noexec", "relatime"};
  MountOptions o = parse_mount_options(opts);
  CHECK(names_of(mount_flags_string(o.flags)) == std::set<std::string>(opts.begin(), opts.end()));
}

TEST_CASE("known_mount_options lists what the parser understands") {
  auto known = berth::runtime::known_mount_options();
  for (const char* n : {"ro", "rw", "nosuid", "rprivate", "rro", "rrelatime", "bind", "rbind", "tmpcopyup"}) {
    INFO("option: ", n);
    CHECK(std::find(known.begin(), known.end(), n) != known.end());
  }
  // Every listed name is consumed by the parser, none falls through to data.
  for (const auto& n : known) {
    INFO("option: ", n);
    CHECK(parse_mount_options({n}).data.empty());
  }
}
