#include <fcntl.h>
#include <unistd.h>

#include "cli/runtime_cli.hpp"
#include "common/fs.hpp"
#include "runtime/spec_default.hpp"

namespace berth::cli {

int cmd_spec(const GlobalOptions&, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("spec");
  std::string bundle = ".";
  bool rootless = false;
  FlagSet flags;
  flags.add_string("bundle", 'b', &bundle, "DIR", "directory to write config.json into (default: current directory)");
  flags.add_bool("rootless", 0, &rootless, "generate a configuration for a rootless container");
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 0, 0); !st) return fail(st.error());
  std::string path = path_join(bundle, "config.json");
  // O_EXCL: never overwrite a config someone wrote by hand.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (errno == EEXIST) return fail(make_error("File ", path, " exists. Remove it first"));
    return fail(sys_error("create ", path));
  }
  UniqueFd owned(fd);
  std::string text = runtime::default_spec_json(rootless, ::geteuid(), ::getegid());
  if (auto st = write_all(fd, text, path); !st) return fail(st.error());
  return 0;
}

}  // namespace berth::cli
