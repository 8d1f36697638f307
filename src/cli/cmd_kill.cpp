#include <signal.h>

#include "cli/runtime_cli.hpp"
#include "runtime/container.hpp"
#include "runtime/linux_names.hpp"

namespace berth::cli {

int cmd_kill(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("kill");
  bool all = false;
  FlagSet flags;
  flags.add_bool("all", 'a', &all, "send the signal to all processes in the container");
  // Flags end at the container id, as in runc: `kill id -9` is not a flag.
  auto pos = parse_command(flags, help, args, true);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, 2); !st) return fail(st.error());
  int sig = SIGTERM;
  if ((**pos).size() == 2) {
    auto parsed = runtime::parse_signal((**pos)[1]);
    if (!parsed) return fail(make_error("unknown signal ", quote((**pos)[1])));
    sig = *parsed;
  }
  if (auto st = runtime::kill_container(g.root, (**pos)[0], sig, all); !st) return fail(st.error());
  return 0;
}

}  // namespace berth::cli
