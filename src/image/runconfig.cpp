#include "image/runconfig.hpp"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/path_safety.hpp"

namespace berth::image {

using nlohmann::json;

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The lines of a colon-separated database (/etc/passwd, /etc/group) of the
// rootfs, split into fields; missing files read as empty.
std::vector<std::vector<std::string>> read_db(int rootfs_fd, std::string_view rel) {
  std::vector<std::vector<std::string>> out;
  auto fd = open_in_root(rootfs_fd, rel, O_RDONLY);
  if (!fd) return out;
  auto text = read_fd(fd->get());
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    out.push_back(split(line, ':'));
  }
  return out;
}

}  // namespace

Result<UserIds> resolve_user(int rootfs_fd, std::string_view user) {
  UserIds ids;
  if (user.empty()) user = "0";
  std::string_view uname = user, gname;
  if (auto c = user.find(':'); c != std::string_view::npos) {
    uname = user.substr(0, c);
    gname = user.substr(c + 1);
  }
  auto passwd = read_db(rootfs_fd, "etc/passwd");
  std::string login;
  if (auto uid = parse_id(uname)) {
    ids.uid = *uid;
    // A numeric user takes its group and home from passwd when listed there.
    for (const auto& f : passwd)
      if (f.size() >= 6 && parse_id(f[2]) == uid) {
        login = f[0];
        ids.gid = parse_id(f[3]).value_or(0);
        ids.home = f[5];
        break;
      }
  } else {
    bool found = false;
    for (const auto& f : passwd)
      if (f.size() >= 6 && f[0] == uname) {
        auto u = parse_id(f[2]), g = parse_id(f[3]);
        if (!u || !g) return make_error("user \"", uname, "\": malformed /etc/passwd entry");
        ids.uid = *u;
        ids.gid = *g;
        ids.home = f[5];
        login = f[0];
        found = true;
        break;
      }
    if (!found) return make_error("unable to find user ", uname, ": no matching entries in passwd file");
  }
  auto groups = read_db(rootfs_fd, "etc/group");
  if (!gname.empty()) {
    if (auto gid = parse_id(gname)) {
      ids.gid = *gid;
    } else {
      bool found = false;
      for (const auto& f : groups)
        if (f.size() >= 3 && f[0] == gname) {
          auto g = parse_id(f[2]);
          if (!g) return make_error("group \"", gname, "\": malformed /etc/group entry");
          ids.gid = *g;
          found = true;
          break;
        }
      if (!found) return make_error("unable to find group ", gname, ": no matching entries in group file");
    }
  }
  // Supplementary groups: those that list the user as a member.
  if (!login.empty())
    for (const auto& f : groups) {
      if (f.size() < 4) continue;
      auto g = parse_id(f[2]);
      if (!g || *g == ids.gid) continue;
      for (const auto& m : split(f[3], ','))
        if (m == login) ids.additional_gids.push_back(*g);
    }
  if (ids.home.empty()) ids.home.push_back('/');
  return ids;
}

Result<ImageProcess> image_process(const ImageConfig& image, const RunOverrides& o, int rootfs_fd) {
  const RunConfig& rc = image.config;
  ImageProcess p;
  if (o.entrypoint) {
    p.args = *o.entrypoint;
    p.args.insert(p.args.end(), o.cmd.begin(), o.cmd.end());
  } else {
    p.args = rc.entrypoint;
    const auto& cmd = o.cmd.empty() ? rc.cmd : o.cmd;
    p.args.insert(p.args.end(), cmd.begin(), cmd.end());
  }
  if (p.args.empty()) return make_error("no command specified: the image has no Entrypoint or Cmd");

  auto set_env = [&](const std::string& kv) {
    auto eq = kv.find('=');
    std::string name = eq == std::string::npos ? kv + "=" : kv.substr(0, eq + 1);
    std::erase_if(p.env, [&](const std::string& v) { return v.starts_with(name); });
    p.env.push_back(kv);
  };
  for (const auto& e : rc.env) set_env(e);
  auto has_env = [&](std::string_view name) {
    for (const auto& e : p.env)
      if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') return true;
    return false;
  };
  if (!has_env("PATH")) p.env.insert(p.env.begin(), cat("PATH=", kDefaultPath));
  if (!o.hostname.empty()) set_env("HOSTNAME=" + o.hostname);
  if (o.tty && !has_env("TERM")) set_env("TERM=xterm");
  for (const auto& e : o.env) set_env(e);

  p.cwd = !o.working_dir.empty() ? o.working_dir : !rc.working_dir.empty() ? rc.working_dir : "/";
  if (!p.cwd.starts_with('/')) return make_error("working directory \"", p.cwd, "\" is not an absolute path");
  auto ids = resolve_user(rootfs_fd, o.user.empty() ? rc.user : o.user);
  if (!ids) return std::move(ids).error();
  p.user = std::move(*ids);
  if (!has_env("HOME")) set_env("HOME=" + p.user.home);
  return p;
}

Result<std::string> runtime_config(std::string_view base, const ImageConfig& image, const RunOverrides& o,
                                   int rootfs_fd, const std::string& rootfs_path) {
  json spec = json::parse(base, nullptr, false);
  if (spec.is_discarded() || !spec.is_object()) return make_error("base config: not a JSON object");
  auto proc = image_process(image, o, rootfs_fd);
  if (!proc) return std::move(proc).error();
  json& jp = spec["process"];
  jp["terminal"] = o.tty;
  jp["args"] = proc->args;
  jp["env"] = proc->env;
  jp["cwd"] = proc->cwd;
  jp["user"] = {{"uid", proc->user.uid}, {"gid", proc->user.gid}};
  if (!proc->user.additional_gids.empty()) jp["user"]["additionalGids"] = proc->user.additional_gids;
  spec["root"] = {{"path", rootfs_path}, {"readonly", false}};
  if (!o.hostname.empty()) spec["hostname"] = o.hostname;
  if (!o.volume_root.empty()) {
    auto volumes = image.config.volumes;
    std::sort(volumes.begin(), volumes.end());
    json& mounts = spec["mounts"];
    if (!mounts.is_array()) mounts = json::array();
    for (size_t i = 0; i < volumes.size(); ++i) {
      const std::string& dest = volumes[i];
      if (!dest.starts_with('/')) return make_error("image volume \"", dest, "\": not an absolute path");
      std::string source = cat(o.volume_root, "/", i);
      BERTH_TRY_CTX(mkdir_all(source, 0755), cat("image volume ", dest));
      mounts.push_back({{"destination", dest}, {"type", "bind"}, {"source", source}, {"options", {"rbind", "rprivate"}}});
    }
  }
  json ann = spec.value("annotations", json::object());
  const RunConfig& rc = image.config;
  for (const auto& [k, v] : rc.labels) ann[k] = v;
  if (!rc.stop_signal.empty()) ann["org.opencontainers.image.stopSignal"] = rc.stop_signal;
  if (!rc.exposed_ports.empty()) {
    auto sorted = rc.exposed_ports;
    std::sort(sorted.begin(), sorted.end());
    std::string ports;
    for (const auto& p : sorted) ports += (ports.empty() ? "" : ",") + p;
    ann["org.opencontainers.image.exposedPorts"] = ports;
  }
  if (!image.platform.os.empty()) ann["org.opencontainers.image.os"] = image.platform.os;
  if (!image.platform.architecture.empty()) ann["org.opencontainers.image.architecture"] = image.platform.architecture;
  if (!ann.empty()) spec["annotations"] = ann;
  return spec.dump(2) + "\n";
}

}  // namespace berth::image
