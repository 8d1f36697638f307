#include <cstdio>

#include "cli/runtime_cli.hpp"
#include "cli/units.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

int cmd_events(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("events");
  std::string interval = "5s";
  bool stats = false;
  FlagSet flags;
  flags.add_string("interval", 0, &interval, "DURATION", "time between stats reports (default: 5s)");
  flags.add_bool("stats", 0, &stats, "print one stats report and exit");
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 1); !st) return fail(st.error());
  const std::string& id = (**pos)[0];
  if (stats) {
    auto json = runtime::container_stats(g.root, id);
    if (!json) return fail(json.error());
    std::fputs((*json + "\n").c_str(), stdout);
    return 0;
  }
  auto ms = parse_go_duration(interval);
  if (!ms || *ms <= 0) return fail(make_error("invalid --interval ", quote(interval), ": expected a duration such as 5s"));
  auto st = runtime::container_events(g.root, id, static_cast<int>(*ms), [](const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
  });
  if (!st) return fail(st.error());
  return 0;
}

}  // namespace berth::cli
