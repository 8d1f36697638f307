#include "cli/runtime_cli.hpp"
#include "cli/units.hpp"
#include "common/fs.hpp"
#include "common/json_escape.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

namespace {

struct NumberFlag {
  const char* name;
  std::vector<std::string> path;  // in linux.resources
  bool bytes;                     // accepts 64M and friends
  const char* help;
};

const NumberFlag kNumbers[] = {
    {"memory", {"memory", "limit"}, true, "memory limit (bytes, or 64M etc.; -1: no limit)"},
    {"memory-reservation", {"memory", "reservation"}, true, "memory soft limit (bytes, or 64M etc.)"},
    {"memory-swap", {"memory", "swap"}, true, "memory plus swap limit (bytes; -1: unlimited swap)"},
    {"cpu-shares", {"cpu", "shares"}, false, "CPU shares (relative weight)"},
    {"cpu-share", {"cpu", "shares"}, false, "same as --cpu-shares (runc's spelling)"},
    {"cpu-quota", {"cpu", "quota"}, false, "CPU time allowed per period (microseconds; -1: no limit)"},
    {"cpu-period", {"cpu", "period"}, false, "CPU CFS period (microseconds)"},
    {"cpu-rt-period", {"cpu", "realtimePeriod"}, false, "CPU realtime period (cgroup v1 only: refused)"},
    {"cpu-rt-runtime", {"cpu", "realtimeRuntime"}, false, "CPU realtime runtime (cgroup v1 only: refused)"},
    {"pids-limit", {"pids", "limit"}, false, "maximum number of processes (-1: no limit)"},
    {"blkio-weight", {"blockIO", "weight"}, false, "block I/O weight, 10 to 1000"},
};

}  // namespace

int cmd_update(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("update");
  std::string resources_file, cpus, mems;
  std::vector<std::string> values(std::size(kNumbers));
  FlagSet flags;
  flags.add_string("resources", 'r', &resources_file, "FILE",
                   "a runtime-spec linux.resources JSON to merge in (\"-\": stdin)");
  for (size_t i = 0; i < std::size(kNumbers); ++i)
    flags.add_string(kNumbers[i].name, 0, &values[i], "VALUE", kNumbers[i].help);
  flags.add_string("cpuset-cpus", 0, &cpus, "LIST", "CPUs the container may use (\"0-3,7\")");
  flags.add_string("cpuset-mems", 0, &mems, "LIST", "memory nodes the container may use");
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 1); !st) return fail(st.error());

  runtime::UpdateRequest req;
  if (!resources_file.empty()) {
    auto text = resources_file == "-" ? read_fd(0) : read_file(resources_file);
    if (!text) return fail(std::move(text).error().wrap("read --resources"));
    req.resources_json = *text;
  }
  for (size_t i = 0; i < std::size(kNumbers); ++i) {
    if (values[i].empty()) continue;
    std::optional<int64_t> v = kNumbers[i].bytes ? parse_bytes(values[i]) : parse_int<int64_t>(values[i]);
    if (!v) return fail(make_error("invalid value ", quote(values[i]), " for --", kNumbers[i].name));
    req.fields.push_back({kNumbers[i].path, cat(*v)});
  }
  if (!cpus.empty()) req.fields.push_back({{"cpu", "cpus"}, json_quote(cpus)});
  if (!mems.empty()) req.fields.push_back({{"cpu", "mems"}, json_quote(mems)});
  if (req.resources_json.empty() && req.fields.empty())
    return fail(make_error("update: nothing to change (give --resources or a limit flag)"));
  if (auto st = runtime::update_container(g.root, (**pos)[0], req); !st) return fail(st.error());
  return 0;
}

}  // namespace berth::cli
