#include "cli/runtime_cli.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

int cmd_start(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("start");
  FlagSet flags;
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 1); !st) return fail(st.error());
  if (auto st = runtime::start_container(g.root, (**pos)[0]); !st) return fail(st.error());
  return 0;
}

}  // namespace berth::cli
