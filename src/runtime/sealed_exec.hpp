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

/// True if the container has no user namespace: then CAP_SYS_PTRACE in any
/// of its processes is CAP_SYS_PTRACE over the host's user namespace, which
/// lets it open a non-dumpable runtime's /proc/<pid>/exe.
bool ptrace_reaches_runtime(const Spec& spec);

/// True if `caps` (a bounding set) holds CAP_SYS_PTRACE.
bool has_ptrace(const std::optional<Capabilities>& caps);

/// The marker, in the container's state directory, that some process of the
/// container was given CAP_SYS_PTRACE by exec: later execs into it use the
/// sealed copy.
inline constexpr const char* kPtraceMarker = "ptrace-granted";

/// Copies /proc/self/exe into a memfd, seals it against writes and execs it
/// with `argv`. Returns only on failure.
Status reexec_from_sealed_copy(char* const argv[]);

}  // namespace berth::runtime
