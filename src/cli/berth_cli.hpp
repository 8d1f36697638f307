// The `berth` user command: a Docker Engine API client of berthd. Each
// command is a function from its arguments to an exit status; this header
// holds what the command files share (berth_main.cpp dispatches).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/args.hpp"
#include "client/http_client.hpp"

namespace berth::cli {

/// What every command gets: the client for the chosen socket.
struct Ctx {
  client::Client client;
  std::string host;  // as given (unix:///path) for messages
};

/// A command's help text.
struct CmdInfo {
  const char* name;
  const char* usage;  // after "berth <name> "
  const char* summary;
};

/// Parses flags for `info`; on --help prints usage and sets `*rc` to 0, on
/// a flag error prints docker's two lines and sets `*rc` to 125, on fewer
/// than `min_args` positional arguments sets `*rc` to 1. Returns false when
/// the command should return `*rc`.
bool parse_flags(const CmdInfo& info, const client::Args& args, const std::vector<std::string>& argv, bool interspersed,
                 size_t min_args, std::vector<std::string>* positional, int* rc);

/// A request that did not reach the daemon: the not-running line for a
/// missing or refusing socket, else the error. Returns 125.
int transport_failure(const Ctx& ctx, const Error& err);
/// "Error response from daemon: <message>" on stderr; returns `code`.
int daemon_failure(const client::Response& r, int code = 1);

/// Parses a JSON body, null when malformed.
nlohmann::json parse_json(const std::string& body);

/// The "attach" loop of run, start -a and exec: copies the hijacked stream
/// to stdout/stderr (demultiplexed unless `tty`), stdin to it when
/// `send_stdin` (half-closing at EOF), resizes via `resize_path` on
/// SIGWINCH, and forwards signals to `kill_path` when not a tty. Returns
/// when the daemon closes the stream.
struct PumpOptions {
  bool tty = false;
  bool send_stdin = false;
  std::string resize_path;  // "/containers/<id>/resize" or "/exec/<id>/resize"
  std::string kill_path;    // "/containers/<id>/kill", empty for exec
};
Status pump_stream(Ctx& ctx, client::Connection& conn, const PumpOptions& opts);
/// Sends the current window size to `resize_path` (ignored when stdout is
/// not a terminal).
void send_resize(Ctx& ctx, const std::string& resize_path);

/// Streams docker's JSON progress messages (pull, load) to `out_fd`: bars
/// per layer on a terminal, plain lines otherwise. Returns the error of an
/// `errorDetail` message.
Status display_json_messages(client::Connection& conn, int out_fd);

int cmd_run(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_create(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_start(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_exec(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_stop(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_restart(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_rm(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_ps(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_logs(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_inspect(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_pause(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_unpause(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_stats(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_events(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_pull(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_images(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_network(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_rmi(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_load(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_tag(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_version(Ctx& ctx, const std::vector<std::string>& argv);
int cmd_info(Ctx& ctx, const std::vector<std::string>& argv);

/// Pulls `ref` with progress on `out_fd` (run/create use stderr). Returns
/// the exit status (0 on success).
int pull_image(Ctx& ctx, const std::string& ref, int out_fd, bool print_ref);

}  // namespace berth::cli
