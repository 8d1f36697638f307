#include <algorithm>
#include <cstdio>

#include "cli/runtime_cli.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"
#include "runtime/container.hpp"

namespace berth::cli {

namespace {

// Runs the host's ps(1) and keeps the header and the container's lines, as
// runc does; the PID column is found by its header.
Result<std::string> ps_table(const std::vector<pid_t>& pids, const std::vector<std::string>& ps_args) {
  std::string cmd = "ps";
  for (const auto& a : ps_args) cmd += " '" + a + "'";
  for (const auto& a : ps_args)
    if (a.find('\'') != std::string::npos) return make_error("ps: argument with a quote: ", quote(a));
  FILE* p = ::popen(cmd.c_str(), "re");
  if (!p) return sys_error("run ps");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (status != 0) return make_error("ps ", join(ps_args, " "), " failed: ", trim(out));
  auto lines = split(out, '\n');
  if (lines.empty()) return make_error("ps printed nothing");
  auto header = split(std::string(trim(lines[0])), ' ');
  std::erase(header, "");
  auto col = std::find(header.begin(), header.end(), "PID");
  if (col == header.end()) return make_error("couldn't find PID field in ps output");
  size_t index = static_cast<size_t>(col - header.begin());
  std::string result = lines[0] + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    auto fields = split(std::string(trim(lines[i])), ' ');
    std::erase(fields, "");
    if (fields.size() <= index) continue;
    auto pid = parse_int<pid_t>(fields[index]);
    if (pid && std::find(pids.begin(), pids.end(), *pid) != pids.end()) result += lines[i] + "\n";
  }
  return result;
}

}  // namespace

int cmd_ps(const GlobalOptions& g, const std::vector<std::string>& args) {
  const CommandHelp& help = command_help("ps");
  std::string format = "table";
  FlagSet flags;
  flags.add_string("format", 'f', &format, "table|json", "output format (default: \"table\")");
  // Arguments after the container id are ps(1)'s own.
  auto pos = parse_command(flags, help, args, true);
  if (!pos) return fail(pos.error());
  if (!*pos) return 0;
  if (auto st = expect_args(help, **pos, 1, ~size_t{0}); !st) return fail(st.error());
  if (format != "table" && format != "json") return fail(make_error("invalid format option ", quote(format)));
  auto pids = runtime::container_pids(g.root, (**pos)[0]);
  if (!pids) return fail(pids.error());
  std::string out;
  if (format == "json") {
    std::vector<std::string> items;
    for (pid_t p : *pids) items.push_back(cat(p));
    out = "[" + join(items, ",") + "]\n";
  } else {
    std::vector<std::string> ps_args((**pos).begin() + 1, (**pos).end());
    if (ps_args.empty()) ps_args = {"-ef"};
    auto table = ps_table(*pids, ps_args);
    if (!table) return fail(table.error());
    out = *table;
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace berth::cli
