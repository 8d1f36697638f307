// berth run, create, start and exec: the commands that attach to a
// container's streams.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/berth_cli.hpp"
#include "client/run_options.hpp"
#include "client/terminal.hpp"
#include "common/strings.hpp"

namespace berth::cli {

namespace {

using nlohmann::json;

const CmdInfo kRun{"run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image"};
const CmdInfo kCreate{"create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container"};
const CmdInfo kStart{"start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers"};
const CmdInfo kExec{"exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Execute a command in a running container"};

const char* getenv_shim(const char* name) { return getenv(name); }

// Errors of run and create read "berth: <message>" plus the help hint, as
// docker's do.
int run_failure(const CmdInfo& info, const std::string& message, int code) {
  fprintf(stderr, "berth: %s\n\nRun 'berth %s --help' for more information\n", message.c_str(), info.name);
  return code;
}

// POST /containers/create, pulling the image on 404 the way docker does.
// Returns the id, or sets *rc.
std::string create_container(Ctx& ctx, const CmdInfo& info, const client::RunOptions& o, const std::string& image,
                             const std::vector<std::string>& cmd, int* rc) {
  auto body = client::create_body(o, image, cmd, getenv_shim);
  if (!body) {
    *rc = run_failure(info, body.error().message(), 125);
    return {};
  }
  std::string path = "/containers/create";
  if (!o.name.empty()) path += "?name=" + client::url_escape(o.name);
  std::string payload = body->dump();
  for (int attempt = 0;; ++attempt) {
    auto r = ctx.client.call("POST", path, payload);
    if (!r) {
      *rc = transport_failure(ctx, r.error());
      return {};
    }
    if (r->status == 404 && attempt == 0) {
      fprintf(stderr, "Unable to find image '%s' locally\n", image.c_str());
      if (int prc = pull_image(ctx, image, STDERR_FILENO, false); prc != 0) {
        *rc = 125;
        return {};
      }
      continue;
    }
    if (!r->ok()) {
      *rc = run_failure(info, "Error response from daemon: " + r->message(), 125);
      return {};
    }
    json j = parse_json(r->body);
    if (j.is_object() && j.contains("Warnings") && j["Warnings"].is_array())
      for (const auto& w : j["Warnings"])
        if (w.is_string()) fprintf(stderr, "WARNING: %s\n", w.get<std::string>().c_str());
    if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string()) {
      *rc = run_failure(info, "malformed create response from daemon", 125);
      return {};
    }
    return j["Id"].get<std::string>();
  }
}

// A wait request sent before start, read after the streams end.
struct Waiter {
  std::optional<client::Connection> conn;

  Status begin(Ctx& ctx, const std::string& id, const char* condition) {
    auto c = client::Connection::open(ctx.client.socket_path());
    if (!c) return std::move(c).error();
    BERTH_TRY(
        c->send("POST", cat("/v", client::Client::kApiVersion, "/containers/", id, "/wait?condition=", condition)));
    // The daemon answers the head as soon as the wait is registered; give
    // it a moment so that a fast exit is not missed.
    pollfd p{c->fd(), POLLIN, 0};
    (void)poll(&p, 1, 2000);
    conn = std::move(*c);
    return {};
  }

  // The exit status, or -1 with the error printed.
  int finish() {
    auto head = conn->read_head();
    if (!head) {
      fprintf(stderr, "berth: waiting for the container: %s\n", head.error().message().c_str());
      return 125;
    }
    auto body = conn->read_body();
    client::Response r;
    r.status = head->status;
    r.body = body ? *body : std::string();
    if (!r.ok()) return daemon_failure(r, 125);
    json j = parse_json(r.body);
    if (j.is_object() && j.contains("Error") && j["Error"].is_object() && !j["Error"].value("Message", "").empty()) {
      fprintf(stderr, "berth: %s\n", j["Error"].value("Message", "").c_str());
      return 125;
    }
    if (!j.is_object() || !j.contains("StatusCode")) return 125;
    return j["StatusCode"].get<int>();
  }
};

// Attach, wait, start, copy, and return the container's exit status:
// shared by run and start -a.
int attach_and_start(Ctx& ctx, const CmdInfo& info, const std::string& id, bool tty, bool stdin_open,
                     bool auto_remove) {
  std::string q = cat("/containers/", id, "/attach?stream=1&stdin=", stdin_open ? 1 : 0, "&stdout=1&stderr=1");
  client::Response refused;
  auto conn = ctx.client.hijack(q, "", &refused);
  if (!conn) {
    if (refused.status) return daemon_failure(refused, 125);
    return transport_failure(ctx, conn.error());
  }
  Waiter waiter;
  if (auto st = waiter.begin(ctx, id, auto_remove ? "removed" : "next-exit"); !st)
    return transport_failure(ctx, st.error());
  std::optional<client::RawTerminal> raw;
  if (tty && stdin_open) raw.emplace(STDIN_FILENO);
  auto r = ctx.client.call("POST", cat("/containers/", id, "/start"));
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok() && r->status != 304) {
    if (raw) raw->restore();
    std::string msg = r->message();
    if (auto_remove) (void)ctx.client.call("DELETE", cat("/containers/", id, "?force=1"));
    return run_failure(info, "Error response from daemon: " + msg, client::start_failure_exit_code(msg));
  }
  PumpOptions po;
  po.tty = tty;
  po.send_stdin = stdin_open;
  po.resize_path = cat("/containers/", id, "/resize");
  po.kill_path = cat("/containers/", id, "/kill");
  if (tty) send_resize(ctx, po.resize_path);
  auto st = pump_stream(ctx, *conn, po);
  if (raw) raw->restore();
  if (!st) fprintf(stderr, "berth: %s\n", st.error().message().c_str());
  return waiter.finish();
}

}  // namespace

int cmd_run(Ctx& ctx, const std::vector<std::string>& argv) {
  client::RunOptions o;
  client::Args args;
  o.add_flags(&args, true);
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(kRun, args, argv, false, 1, &pos, &rc)) return rc;
  for (const auto& a : argv)
    if (a == "--entrypoint" || starts_with(a, "--entrypoint=")) o.entrypoint_set = true;
  if (o.tty && o.interactive && !o.detach && !isatty(STDIN_FILENO)) {
    fprintf(stderr, "the input device is not a TTY\n");
    return 1;
  }
  std::string image = pos[0];
  std::vector<std::string> cmd(pos.begin() + 1, pos.end());
  std::string id = create_container(ctx, kRun, o, image, cmd, &rc);
  if (id.empty()) return rc;
  if (o.detach) {
    auto r = ctx.client.call("POST", cat("/containers/", id, "/start"));
    if (!r) return transport_failure(ctx, r.error());
    if (!r->ok()) {
      std::string msg = r->message();
      if (o.rm) (void)ctx.client.call("DELETE", cat("/containers/", id, "?force=1"));
      return run_failure(kRun, "Error response from daemon: " + msg, client::start_failure_exit_code(msg));
    }
    printf("%s\n", id.c_str());
    return 0;
  }
  return attach_and_start(ctx, kRun, id, o.tty, o.interactive, o.rm);
}

int cmd_create(Ctx& ctx, const std::vector<std::string>& argv) {
  client::RunOptions o;
  client::Args args;
  o.add_flags(&args, false);
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(kCreate, args, argv, false, 1, &pos, &rc)) return rc;
  for (const auto& a : argv)
    if (a == "--entrypoint" || starts_with(a, "--entrypoint=")) o.entrypoint_set = true;
  std::string id = create_container(ctx, kCreate, o, pos[0], std::vector<std::string>(pos.begin() + 1, pos.end()), &rc);
  if (id.empty()) return rc;
  printf("%s\n", id.c_str());
  return 0;
}

int cmd_start(Ctx& ctx, const std::vector<std::string>& argv) {
  bool attach = false, interactive = false;
  client::Args args;
  args.add_bool("attach", 'a', &attach, "Attach STDOUT/STDERR and forward signals");
  args.add_bool("interactive", 'i', &interactive, "Attach container's STDIN");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(kStart, args, argv, true, 1, &pos, &rc)) return rc;
  if (attach || interactive) {
    if (pos.size() > 1) {
      fprintf(stderr, "berth: you cannot start and attach multiple containers at once\n");
      return 1;
    }
    auto r = ctx.client.call("GET", cat("/containers/", pos[0], "/json"));
    if (!r) return transport_failure(ctx, r.error());
    if (!r->ok()) return daemon_failure(*r);
    json j = parse_json(r->body);
    bool tty = j["Config"].value("Tty", false);
    bool open_stdin = interactive && j["Config"].value("OpenStdin", false);
    bool auto_remove = j.contains("HostConfig") && j["HostConfig"].value("AutoRemove", false);
    return attach_and_start(ctx, kStart, j.value("Id", pos[0]), tty, open_stdin, auto_remove);
  }
  std::vector<std::string> failed;
  for (const auto& c : pos) {
    auto r = ctx.client.call("POST", cat("/containers/", c, "/start"));
    if (!r) return transport_failure(ctx, r.error());
    if (!r->ok() && r->status != 304) {
      daemon_failure(*r);
      failed.push_back(c);
      continue;
    }
    printf("%s\n", c.c_str());
  }
  if (!failed.empty()) {
    fprintf(stderr, "Error: failed to start containers: %s\n", join(failed, ", ").c_str());
    return 1;
  }
  return 0;
}

int cmd_exec(Ctx& ctx, const std::vector<std::string>& argv) {
  bool interactive = false, tty = false, detach = false;
  std::vector<std::string> env;
  std::string user, workdir;
  client::Args args;
  args.add_bool("detach", 'd', &detach, "Detached mode: run command in the background");
  args.add_bool("interactive", 'i', &interactive, "Keep STDIN open even if not attached");
  args.add_bool("tty", 't', &tty, "Allocate a pseudo-TTY");
  args.add_list("env", 'e', &env, "list", "Set environment variables");
  args.add_string("user", 'u', &user, "string", "Username or UID (format: \"<name|uid>[:<group|gid>]\")");
  args.add_string("workdir", 'w', &workdir, "string", "Working directory inside the container");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(kExec, args, argv, false, 2, &pos, &rc)) return rc;
  const std::string& container = pos[0];
  json env_json = json::array();
  for (const auto& e : env) {
    if (e.find('=') != std::string::npos)
      env_json.push_back(e);
    else if (const char* v = getenv(e.c_str()))
      env_json.push_back(e + "=" + v);
  }
  json body = {{"User", user},
               {"Privileged", false},
               {"Tty", tty},
               {"AttachStdin", interactive && !detach},
               {"AttachStdout", !detach},
               {"AttachStderr", !detach},
               {"Detach", detach},
               {"Env", env_json},
               {"WorkingDir", workdir},
               {"Cmd", std::vector<std::string>(pos.begin() + 1, pos.end())}};
  auto r = ctx.client.call("POST", cat("/containers/", container, "/exec"), body.dump());
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  std::string exec_id = parse_json(r->body).value("Id", "");
  if (exec_id.empty()) {
    fprintf(stderr, "berth: exec create returned no id\n");
    return 125;
  }
  json start = {{"Detach", detach}, {"Tty", tty}};
  if (detach) {
    auto s = ctx.client.call("POST", cat("/exec/", exec_id, "/start"), start.dump());
    if (!s) return transport_failure(ctx, s.error());
    if (!s->ok()) return daemon_failure(*s, client::start_failure_exit_code(s->message()));
    return 0;
  }
  client::Response refused;
  auto conn = ctx.client.hijack(cat("/exec/", exec_id, "/start"), start.dump(), &refused);
  if (!conn) {
    if (refused.status) return daemon_failure(refused, client::start_failure_exit_code(refused.message()));
    return transport_failure(ctx, conn.error());
  }
  std::optional<client::RawTerminal> raw;
  if (tty && interactive) raw.emplace(STDIN_FILENO);
  PumpOptions po;
  po.tty = tty;
  po.send_stdin = interactive;
  po.resize_path = cat("/exec/", exec_id, "/resize");
  if (tty) send_resize(ctx, po.resize_path);
  auto st = pump_stream(ctx, *conn, po);
  if (raw) raw->restore();
  if (!st) fprintf(stderr, "berth: %s\n", st.error().message().c_str());
  auto inspect = ctx.client.call("GET", cat("/exec/", exec_id, "/json"));
  if (!inspect) return transport_failure(ctx, inspect.error());
  if (!inspect->ok()) return daemon_failure(*inspect);
  json j = parse_json(inspect->body);
  if (!j.is_object() || !j.contains("ExitCode") || !j["ExitCode"].is_number()) return 126;
  return j["ExitCode"].get<int>();
}

}  // namespace berth::cli
