#include <cstdio>

#include "cli/runtime_cli.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

int cmd_features(const GlobalOptions&, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("features");
  FlagSet flags;
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 0, 0); !st) return fail(st.error());
  std::fputs(runtime::features_json().c_str(), stdout);
  return 0;
}

}  // namespace berth::cli
