// The mount option vocabulary of runtime-spec configs (the names of mount(8)
// plus runc's extensions) turned into mount(2) flags, propagation flags,
// mount_setattr(2) attributes and a data string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::runtime {

struct MountOptions {
  unsigned long flags = 0;        // MS_* to set (superblock and per-mount)
  unsigned long cleared = 0;      // MS_* an option explicitly turned off ("rw", "suid")
  unsigned long propagation = 0;  // MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE, with MS_REC
  uint64_t attr_set = 0;          // MOUNT_ATTR_* applied recursively ("rro", "rnosuid", ...)
  uint64_t attr_clr = 0;
  std::string data;               // everything else, comma-joined ("mode=755,size=65536k")
  bool bind = false;              // "bind" or "rbind"
  bool recursive_bind = false;    // "rbind"
  bool tmpcopyup = false;         // runc extension: copy the lower content into a new tmpfs
  bool idmap = false;             // "idmap" / "ridmap" (1.2)
  bool recursive_idmap = false;   // "ridmap": the idmap applies to submounts too
};

/// Parses the options of one mount. Never fails on unknown names: they are
/// filesystem data, as for mount(8).
MountOptions parse_mount_options(const std::vector<std::string>& options);

/// Names the per-mount MS_* bits of `flags`, for error messages: "ro,nosuid,nodev".
std::string mount_flags_string(unsigned long flags);

/// All option names berth understands (for `features`).
std::vector<std::string> known_mount_options();

}  // namespace berth::runtime
