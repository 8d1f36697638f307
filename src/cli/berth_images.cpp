// berth pull, images, rmi, load and tag.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <set>

#include "cli/berth_cli.hpp"
#include "client/format.hpp"
#include "client/run_options.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

namespace berth::cli {

using nlohmann::json;

int cmd_pull(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry"};
  bool quiet = false;
  client::Args args;
  args.add_bool("quiet", 'q', &quiet, "Suppress verbose output");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  if (quiet) {
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    rc = pull_image(ctx, pos[0], devnull, false);
    close(devnull);
    if (rc == 0) {
      auto [name, tag] = client::split_reference(pos[0]);
      printf("%s%s%s\n", name.c_str(), tag.empty() ? "" : ":", tag.c_str());
    }
    return rc;
  }
  fflush(stdout);
  return pull_image(ctx, pos[0], STDOUT_FILENO, true);
}

int cmd_images(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images"};
  bool quiet = false, all = false, no_trunc = false;
  client::Args args;
  args.add_bool("all", 'a', &all, "Show all images (default hides intermediate images)");
  args.add_bool("quiet", 'q', &quiet, "Only show image IDs");
  args.add_bool("no-trunc", 0, &no_trunc, "Don't truncate output");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  auto r = ctx.client.call("GET", all ? "/images/json?all=1" : "/images/json");
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  json list = parse_json(r->body);
  if (!list.is_array()) list = json::array();
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  std::set<std::string> seen;
  auto now = static_cast<int64_t>(time(nullptr));
  for (const auto& img : list) {
    std::string id = img.value("Id", "");
    std::string shown = no_trunc ? id : client::short_id(id);
    std::vector<std::pair<std::string, std::string>> tags;
    if (img.contains("RepoTags") && img["RepoTags"].is_array())
      for (const auto& t : img["RepoTags"]) {
        std::string s = t.is_string() ? t.get<std::string>() : "";
        if (s.empty() || s == "<none>:<none>") continue;
        auto [repo, tag] = client::split_reference(s);
        tags.emplace_back(repo, tag);
      }
    if (tags.empty()) tags.emplace_back("<none>", "<none>");
    if (!pos.empty()) {
      // REPOSITORY[:TAG] filter.
      auto [frepo, ftag] = client::split_reference(pos[0]);
      bool tag_given =
          pos[0].find(':', pos[0].rfind('/') == std::string::npos ? 0 : pos[0].rfind('/')) != std::string::npos;
      std::erase_if(tags, [&](const auto& t) { return t.first != frepo || (tag_given && t.second != ftag); });
      if (tags.empty()) continue;
    }
    if (quiet) {
      if (seen.insert(shown).second) printf("%s\n", shown.c_str());
      continue;
    }
    std::string created = client::human_duration(now - img.value("Created", int64_t{0})) + " ago";
    std::string size = client::human_size(static_cast<double>(img.value("Size", int64_t{0})), 3);
    for (const auto& [repo, tag] : tags) rows.push_back({repo, tag, shown, created, size});
  }
  if (!quiet) fputs(client::format_table(rows).c_str(), stdout);
  return 0;
}

int cmd_rmi(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images"};
  bool force = false, no_prune = false;
  client::Args args;
  args.add_bool("force", 'f', &force, "Force removal of the image");
  args.add_bool("no-prune", 0, &no_prune, "Do not delete untagged parents");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 1, &pos, &rc)) return rc;
  for (const auto& n : pos) {
    std::string q;
    if (force) q += "force=1";
    if (no_prune) q += std::string(q.empty() ? "" : "&") + "noprune=1";
    auto r = ctx.client.call("DELETE", cat("/images/", n, q.empty() ? "" : "?", q));
    if (!r) return transport_failure(ctx, r.error());
    if (!r->ok()) {
      rc = daemon_failure(*r);
      continue;
    }
    json items = parse_json(r->body);
    if (!items.is_array()) continue;
    for (const auto& it : items) {
      if (it.contains("Untagged")) printf("Untagged: %s\n", it.value("Untagged", "").c_str());
      if (it.contains("Deleted")) printf("Deleted: %s\n", it.value("Deleted", "").c_str());
    }
  }
  return rc;
}

int cmd_load(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"load", "[OPTIONS]", "Load an image from a tar archive or STDIN"};
  std::string input;
  bool quiet = false;
  client::Args args;
  args.add_string("input", 'i', &input, "string", "Read from tar archive file, instead of STDIN");
  args.add_bool("quiet", 'q', &quiet, "Suppress the load output");
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 0, &pos, &rc)) return rc;
  UniqueFd file;
  int fd = STDIN_FILENO;
  if (!input.empty()) {
    file.reset(open(input.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) {
      fprintf(stderr, "open %s: %s\n", input.c_str(), strerror(errno));
      return 1;
    }
    fd = file.get();
  } else if (isatty(STDIN_FILENO)) {
    fprintf(stderr, "requested load from stdin, but stdin is empty\n");
    return 1;
  }
  auto conn = client::Connection::open(ctx.client.socket_path());
  if (!conn) return transport_failure(ctx, conn.error());
  std::string target = cat("/v", client::Client::kApiVersion, "/images/load", quiet ? "?quiet=1" : "?quiet=0");
  if (auto st = conn->send_from_fd("POST", target, fd, {{"Content-Type", "application/x-tar"}}); !st)
    return transport_failure(ctx, st.error());
  auto head = conn->read_head();
  if (!head) return transport_failure(ctx, head.error());
  if (head->status / 100 != 2) {
    client::Response e;
    e.status = head->status;
    if (auto b = conn->read_body()) e.body = *b;
    return daemon_failure(e);
  }
  fflush(stdout);
  if (auto st = display_json_messages(*conn, STDOUT_FILENO); !st) {
    fprintf(stderr, "%s\n", st.error().message().c_str());
    return 1;
  }
  return 0;
}

int cmd_tag(Ctx& ctx, const std::vector<std::string>& argv) {
  static const CmdInfo info{"tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                            "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"};
  client::Args args;
  std::vector<std::string> pos;
  int rc = 0;
  if (!parse_flags(info, args, argv, true, 2, &pos, &rc)) return rc;
  auto [repo, tag] = client::split_reference(pos[1]);
  auto r = ctx.client.call(
      "POST", cat("/images/", pos[0], "/tag?repo=", client::url_escape(repo), "&tag=", client::url_escape(tag)));
  if (!r) return transport_failure(ctx, r.error());
  if (!r->ok()) return daemon_failure(*r);
  return 0;
}

}  // namespace berth::cli
