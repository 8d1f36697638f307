// OCI hooks: programs run at fixed points of a container's life with the
// container's state JSON on stdin. Where each kind runs (runtime-spec):
//   prestart, createRuntime   the runtime, in its namespaces, during create,
//                             after the container's namespaces exist, before pivot_root
//   createContainer           the init, in the container's namespaces, before pivot_root
//   startContainer            the init, in the container, just before exec
//   poststart                 the runtime, after start
//   poststop                  the runtime, after delete
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

/// Runs one hook: `path` with `args` (args[0] is argv[0]; `path` when none)
/// and `env` (the caller's environment when none, as runc does), the state
/// on stdin, killed after `timeout` seconds. Fails with the exit status and
/// what the hook printed.
Status run_hook(const Hook& hook, const std::string& state_json);

/// Runs hooks in order and stops at the first failure, which names the
/// phase and the hook (counted from 0): `createRuntime hook #1 (/usr/bin/x): exit status 2: ...`.
Status run_hooks(const std::vector<Hook>& hooks, const char* phase, const std::string& state_json);

/// Like run_hooks for the phases whose failures only warn (poststart,
/// poststop): every hook runs, failures go to the log.
void run_hooks_warn(const std::vector<Hook>& hooks, const char* phase, const std::string& state_json);

}  // namespace berth::runtime
