#include "cli/runtime_cli.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

namespace {

int freeze_command(const GlobalOptions& g, const std::vector<std::string>& args, const char* name) {
  const CommandHelp& help = command_help(name);
  FlagSet flags;
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 1); !st) return fail(st.error());
  const std::string& id = (**pos)[0];
  auto st = std::string(name) == "pause" ? runtime::pause_container(g.root, id) : runtime::resume_container(g.root, id);
  if (!st) return fail(st.error());
  return 0;
}

}  // namespace

int cmd_pause(const GlobalOptions& g, const std::vector<std::string>& args) { return freeze_command(g, args, "pause"); }
int cmd_resume(const GlobalOptions& g, const std::vector<std::string>& args) { return freeze_command(g, args, "resume"); }

}  // namespace berth::cli
