// berth: the user command, a client of berthd's Docker Engine API that
// behaves like the docker CLI for the commands it has.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/berth_cli.hpp"
#include "common/strings.hpp"
#include "version.hpp"

namespace berth::cli {

namespace {

constexpr const char* kDefaultHost = "unix:///run/berth/berth.sock";

struct Command {
  const char* name;
  int (*fn)(Ctx&, const std::vector<std::string>&);
  const char* summary;
};

const Command kCommands[] = {
    {"run", cmd_run, "Create and run a new container from an image"},
    {"create", cmd_create, "Create a new container"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"ps", cmd_ps, "List containers"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"inspect", cmd_inspect, "Return low-level information on containers or images"},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
    {"events", cmd_events, "Get real time events from the server"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"images", cmd_images, "List images"},
    {"network", cmd_network, "Manage networks"},
    {"rmi", cmd_rmi, "Remove one or more images"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"version", cmd_version, "Show the berth version information"},
    {"info", cmd_info, "Display system-wide information"},
};

void main_usage(FILE* out) {
  fprintf(out,
          "\nUsage:  berth [OPTIONS] COMMAND\n\n"
          "A client for berthd, the berth container daemon (Docker Engine API)\n\n"
          "Commands:\n");
  for (const auto& c : kCommands) fprintf(out, "  %-10s%s\n", c.name, c.summary);
  fprintf(out,
          "\nGlobal Options:\n"
          "  -H, --host string   Daemon socket to connect to (default \"%s\";\n"
          "                      env BERTH_HOST)\n"
          "  -v, --version       Print version information and quit\n"
          "  -h, --help          Print usage\n\n"
          "Run 'berth COMMAND --help' for more information on a command.\n",
          kDefaultHost);
}

std::string socket_path(const std::string& host) {
  if (starts_with(host, "unix://")) return host.substr(7);
  return host;
}

}  // namespace

bool parse_flags(const CmdInfo& info, const client::Args& args, const std::vector<std::string>& argv, bool interspersed,
                 size_t min_args, std::vector<std::string>* positional, int* rc) {
  bool help = false;
  auto pos = args.parse(argv, interspersed, &help);
  if (!pos) {
    fprintf(stderr, "%s\nSee 'berth %s --help'.\n", pos.error().message().c_str(), info.name);
    *rc = 125;
    return false;
  }
  if (help) {
    printf("\nUsage:  berth %s %s\n\n%s\n\nOptions:\n%s", info.name, info.usage, info.summary, args.usage().c_str());
    *rc = 0;
    return false;
  }
  if (pos->size() < min_args) {
    fprintf(stderr,
            "\"berth %s\" requires at least %zu argument%s.\nSee 'berth %s --help'.\n\nUsage:  berth %s %s\n\n%s\n",
            info.name, min_args, min_args == 1 ? "" : "s", info.name, info.name, info.usage, info.summary);
    *rc = 1;
    return false;
  }
  *positional = std::move(*pos);
  return true;
}

int transport_failure(const Ctx& ctx, const Error& err) {
  if (err.code() == ENOENT || err.code() == ECONNREFUSED) {
    fprintf(stderr,
            "berth: cannot connect to berthd at %s: berthd is not running (start it with `berthd &` or "
            "`systemctl start berthd`)\n",
            ctx.host.c_str());
  } else {
    fprintf(stderr, "berth: %s: %s\n", ctx.host.c_str(), err.message().c_str());
  }
  return 125;
}

int daemon_failure(const client::Response& r, int code) {
  fprintf(stderr, "Error response from daemon: %s\n", r.message().c_str());
  return code;
}

nlohmann::json parse_json(const std::string& body) { return nlohmann::json::parse(body, nullptr, false); }

}  // namespace berth::cli

int main(int argc, char** argv) {
  using namespace berth::cli;
  std::string host;
  if (const char* env = getenv("BERTH_HOST"); env && *env) host = env;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-H" || a == "--host") {
      if (i + 1 >= argc) {
        fprintf(stderr, "flag needs an argument: %s\nSee 'berth --help'.\n", a.c_str());
        return 125;
      }
      host = argv[++i];
    } else if (a.rfind("--host=", 0) == 0) {
      host = a.substr(7);
    } else if (a.rfind("-H", 0) == 0 && a.size() > 2) {
      host = a.substr(a[2] == '=' ? 3 : 2);
    } else if (a == "-h" || a == "--help") {
      main_usage(stdout);
      return 0;
    } else if (a == "-v" || a == "--version") {
      printf("berth version %s, build %s\n", berth::kBerthVersion, berth::kBerthCommit);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      fprintf(stderr, "unknown flag: %s\nSee 'berth --help'.\n", a.c_str());
      return 125;
    } else {
      break;
    }
  }
  if (i >= argc) {
    main_usage(stdout);
    return 0;
  }
  if (host.empty()) host = "unix:///run/berth/berth.sock";
  if (host.find("://") == std::string::npos) host = "unix://" + host;
  if (host.rfind("unix://", 0) != 0) {
    fprintf(stderr, "berth: unsupported host %s (only unix:// sockets)\n", host.c_str());
    return 125;
  }
  std::string name = argv[i];
  std::vector<std::string> rest(argv + i + 1, argv + argc);
  Ctx ctx{berth::client::Client(socket_path(host)), host};
  if (name == "help") {
    main_usage(stdout);
    return 0;
  }
  for (const auto& c : kCommands)
    if (name == c.name) return c.fn(ctx, rest);
  fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n", name.c_str());
  return 1;
}
