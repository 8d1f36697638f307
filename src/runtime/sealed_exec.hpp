// Defence against CVE-2019-5736 for containers that could reach the runtime's
// executable despite it being non-dumpable (a container with CAP_SYS_PTRACE
// and no user namespace may open /proc/<pid>/exe of a non-dumpable process):
// the runtime re-executes itself from a sealed memfd copy, so the only
// executable such a container can reach is a copy nobody can write.
#pragma once

#include <string>

#include "common/error.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

/// True if this process runs from a write-sealed memfd.
bool running_from_sealed_copy();

/// Whether processes of this container could open a non-dumpable runtime's
/// /proc/<pid>/exe: CAP_SYS_PTRACE in their bounding set and no user namespace.
bool container_can_reach_runtime(const Spec& spec);

/// Copies /proc/self/exe into a memfd, seals it against writes and execs it
/// with `argv`. Returns only on failure.
Status reexec_from_sealed_copy(char* const argv[]);

}  // namespace berth::runtime
