#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "cli/runtime_cli.hpp"
#include "common/fs.hpp"
#include "runtime/state.hpp"

namespace berth::cli {

namespace {

// Columns padded like Go's tabwriter as runc uses it (min width 12,
// padding 3); the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i + 1 < r.size(); ++i) {
      if (width.size() <= i) width.push_back(12);
      width[i] = std::max(width[i], r[i].size() + 3);
    }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(width[i] - r[i].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace

int cmd_list(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("list");
  std::string format = "table";
  bool quiet = false;
  FlagSet flags;
  flags.add_string("format", 'f', &format, "table|json", "output format (default: \"table\")");
  flags.add_bool("quiet", 'q', &quiet, "print only the container ids");
  auto pos = parse_command(flags, help, args);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 0, 0); !st) return fail(st.error());
  if (format != "table" && format != "json") return fail(make_error("invalid format option ", quote(format)));

  std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  std::vector<std::string> json_items, ids;
  for (const auto& id : runtime::list_ids(g.root)) {
    auto st = runtime::read_state(g.root, id);
    if (!st) continue;  // removed while we listed, or unreadable: skip like runc
    auto status = runtime::read_status(g.root, *st);
    struct stat sb{};
    std::string owner = ::stat(path_join(g.root, id).c_str(), &sb) == 0 ? runtime::user_name(sb.st_uid) : "";
    ids.push_back(id);
    json_items.push_back(runtime::state_json(*st, status, owner, false));
    pid_t pid = status == runtime::ContainerStatus::stopped ? 0 : st->pid;
    rows.push_back({id, cat(pid), runtime::status_name(status), st->bundle, st->created, owner});
  }
  std::string out;
  if (quiet) {
    for (const auto& id : ids) out += id + "\n";
  } else if (format == "json") {
    // runc encodes an empty list as null.
    out = json_items.empty() ? "null\n" : "[" + join(json_items, ",") + "]\n";
  } else {
    out = table(rows);
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace berth::cli
