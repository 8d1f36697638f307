// The bundles the benchmark runs. The built-in one is the layout of
// tools/mkbundle.sh (busybox-static with its applets, a read-only root, new
// pid, network, ipc, uts, mount and cgroup namespaces, the usual mounts,
// masked and read-only paths) running /bin/true. Every runtime gets a copy
// of the same config.json that differs only in linux.cgroupsPath, so that
// concurrent containers do not share a cgroup and every cgroup lands below
// the benchmark's own parent.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::bench {

/// Writes `dir`/rootfs with `busybox` (which must be statically linked) as
/// /bin/busybox, a symlink for each of `applets`, and a minimal /etc.
Status write_busybox_rootfs(const std::string& dir, const std::string& busybox, const std::vector<std::string>& applets);

/// True if the ELF file at `path` has no program interpreter (static).
Result<bool> is_static_elf(const std::string& path);

/// tools/mkbundle.sh's config.json running `args`, with root.path "rootfs".
nlohmann::json builtin_config(const std::vector<std::string>& args);

/// Reads and parses `bundle`/config.json.
Result<nlohmann::json> load_config(const std::string& bundle);

/// The config a runtime runs: `base` with root.path made absolute (relative
/// paths are resolved against `bundle`), linux.cgroupsPath set, and
/// ociVersion 1.0.2 (crun 1.8.1 rejects newer versions; the fields the
/// benchmark bundles use all exist in 1.0.2).
nlohmann::json bench_config(const nlohmann::json& base, const std::string& bundle, const std::string& cgroups_path);

/// Creates `dir` and writes `config` into `dir`/config.json.
Status write_bundle_config(const std::string& dir, const nlohmann::json& config);

}  // namespace berth::bench
