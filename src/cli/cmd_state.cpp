#include <cstdio>

#include "cli/runtime_cli.hpp"
#include "runtime/state.hpp"

namespace berth::cli {

int cmd_state(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("state");
  FlagSet flags;
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 1); !st) return fail(st.error());
  auto st = runtime::read_state(g.root, (**pos)[0]);
  if (!st) return fail(st.error());
  // runc prints an empty owner in `state` (and the user name in `list`).
  std::string out = runtime::state_json(*st, runtime::read_status(g.root, *st), "", true) + "\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace berth::cli
