#include "daemon/api.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "daemon/container_api.hpp"
#include "daemon/image_helper.hpp"
#include "daemon/images.hpp"
#include "daemon/network_api.hpp"
#include "daemon/reply.hpp"
#include "image/prune.hpp"
#include "image/reference.hpp"
#include "version.hpp"

namespace berth::daemon {

using nlohmann::json;

namespace {

std::string kernel_version() {
  utsname u{};
  return ::uname(&u) == 0 ? u.release : "";
}

std::string short_id(const image::Digest& d) { return d.hex().substr(0, 12); }

json string_list(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

// null for an absent list, as docker's inspect shows it.
json optional_list(const std::vector<std::string>& v, bool present) { return present ? string_list(v) : json(); }

json set_object(const std::vector<std::string>& keys) {
  if (keys.empty()) return json();
  json o = json::object();
  for (const auto& k : keys) o[k] = json::object();
  return o;
}

// "1.43" -> 143, so versions compare as numbers ("1.5" is not newer than "1.43").
int version_number(std::string_view v) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos) return -1;
  auto major = parse_int<int>(v.substr(0, dot));
  auto minor = parse_int<int>(v.substr(dot + 1));
  if (!major || !minor || *minor < 0 || *minor > 99) return -1;
  return *major * 100 + *minor;
}

}  // namespace

std::optional<std::string> strip_version(const std::string& path, std::string* version) {
  version->clear();
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v' || path[2] < '0' || path[2] > '9') return path;
  size_t slash = path.find('/', 1);
  std::string v = path.substr(2, slash == std::string::npos ? std::string::npos : slash - 2);
  int n = version_number(v);
  if (n < 0) return path;  // not a version prefix: routed (and 404'd) as is
  *version = v;
  if (n < version_number(kMinApiVersion) || n > version_number(kMaxApiVersion)) return std::nullopt;
  return slash == std::string::npos ? std::string("/") : path.substr(slash);
}

CommonHeaders Api::common_headers() {
  return {{"Api-Version", std::string(kApiVersion)},
          {"Docker-Experimental", "false"},
          {"Ostype", "linux"},
          {"Server", cat("berth/", kBerthVersion, " (linux)")}};
}

Result<std::unique_ptr<Api>> Api::create(ApiConfig config) {
  auto store = image::ContentStore::open(config.data_root);
  if (!store) return std::move(store).error();
  auto index = image::ImageIndex::open(config.data_root);
  if (!index) return std::move(index).error();
  auto snaps = image::SnapshotStore::open(config.data_root);
  if (!snaps) return std::move(snaps).error();
  std::unique_ptr<Api> api(new Api(std::move(config), std::move(*store), std::move(*index), std::move(*snaps)));
  ContainerManager::Options o;
  o.data_root = api->config_.data_root;
  o.exec_root = api->config_.exec_root;
  o.monitor_path = api->config_.monitor_path;
  o.runtime_path = api->config_.runtime_path;
  o.image_helper_path = api->config_.image_helper_path;
  o.cgroup_parent = api->config_.cgroup_parent;
  o.log_max_size = api->config_.log_max_size;
  o.log_max_files = api->config_.log_max_files;
  if (api->config_.networking) {
    api->networks_ = std::make_unique<NetworkManager>(api->config_.data_root, api->config_.exec_root);
    if (auto st = api->networks_->load(); !st) return std::move(st).error().wrap("load networks");
    o.networks = api->networks_.get();
  }
  api->containers_ = std::make_unique<ContainerManager>(std::move(o), api->store_, api->index_, api->snaps_,
                                                       api->store_mu_);
  return api;
}

void Api::handle(Request& req, BodyReader& body, ResponseWriter& resp) {
  // A field of the wrong JSON type deep in a handler (a number where docker
  // sends a string) is the client's error, never the end of berthd.
  try {
    route(req, body, resp);
  } catch (const nlohmann::json::exception& e) {
    log::warn(cat(req.method, " ", req.path, ": bad JSON: ", e.what()));
    if (!resp.started())
      send_error(resp, 400, cat("bad request: ", e.what()));
    else
      resp.close_after();
  }
}

void Api::route(Request& req, BodyReader& body, ResponseWriter& resp) {
  std::string api_version;
  auto stripped = strip_version(req.path, &api_version);
  if (!stripped) {
    int n = version_number(api_version);
    send_error(
        resp, 400,
        n < version_number(kMinApiVersion)
            ? cat("client version ", api_version, " is too old. Minimum supported API version is ", kMinApiVersion,
                  ", please upgrade your client to a newer version")
            : cat("client version ", api_version, " is too new. Maximum supported API version is ", kMaxApiVersion));
    return;
  }
  const std::string& p = *stripped;
  const std::string& m = req.method;
  bool get = m == "GET" || m == "HEAD";
  // Every body but an image archive is a small JSON document, read whole.
  if (!(p == "/images/load" && m == "POST") && !body.done()) {
    auto b = body.read_all(config_.max_body);
    if (!b) {
      resp.close_after();
      return send_error(resp, b.error().code() == EFBIG ? 413 : 400, b.error().message());
    }
    req.body = std::move(*b);
  }

  if (p == "/_ping" && get) return ping(req, resp);
  if (p == "/version" && get) return version(resp);
  if (p == "/info" && get) return info(resp);
  if (p == "/images/json" && get) return images_list(req, resp);
  if (p == "/images/create" && m == "POST") return image_pull(req, resp);
  if (p == "/images/load" && m == "POST") return image_load(req, body, resp);
  if (serve_containers(*containers_, p, req, resp)) return;
  if (networks_ && serve_networks(*networks_, *containers_, p, req, resp)) return;
  if (p.starts_with("/images/") && p.size() > 8) {
    std::string rest = p.substr(8);
    if (get && rest.ends_with("/json") && rest.size() > 5) return image_inspect(rest.substr(0, rest.size() - 5), resp);
    if (m == "POST" && rest.ends_with("/tag") && rest.size() > 4)
      return image_tag(rest.substr(0, rest.size() - 4), req, resp);
    if (m == "DELETE") return image_delete(rest, req, resp);
  }
  send_error(resp, 404, "page not found");
}

void Api::ping(Request& req, ResponseWriter& resp) {
  (void)req;
  resp.send(200, "text/plain; charset=utf-8", "OK",
            {{"Builder-Version", "1"},
             {"Swarm", "inactive"},
             {"Cache-Control", "no-cache, no-store, must-revalidate"},
             {"Pragma", "no-cache"}});
}

void Api::version(ResponseWriter& resp) {
  std::string kernel = kernel_version();
  std::string arch = image::host_platform().architecture;
  json details = {{"ApiVersion", kApiVersion},
                  {"MinAPIVersion", kMinApiVersion},
                  {"GitCommit", kBerthCommit},
                  {"GoVersion", ""},
                  {"Os", "linux"},
                  {"Arch", arch},
                  {"KernelVersion", kernel},
                  {"Experimental", "false"},
                  {"BuildTime", ""}};
  // The top level repeats the engine's details (but "Experimental").
  json j = details;
  j.erase("Experimental");
  j["Platform"] = {{"Name", "berth"}};
  j["Components"] = json::array({{{"Name", "Engine"}, {"Version", kBerthVersion}, {"Details", details}}});
  j["Version"] = kBerthVersion;
  send_json(resp, 200, j);
}

void Api::info(ResponseWriter& resp) {
  auto all_containers = containers_->list();
  size_t running = 0, paused = 0;
  for (const auto& c : all_containers) {
    running += c.state.status == "running";
    paused += c.state.status == "paused";
  }
  size_t images = 0;
  if (auto all = catalog(store_, index_); all) images = all->size();
  struct sysinfo si {};
  ::sysinfo(&si);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string os = "Linux";
  if (auto rel = read_file("/etc/os-release"); rel) {
    for (const auto& line : split(*rel, '\n'))
      if (line.starts_with("PRETTY_NAME=")) {
        os = line.substr(12);
        if (os.size() >= 2 && os.front() == '"' && os.back() == '"') os = os.substr(1, os.size() - 2);
      }
  }
  std::string arch = image::host_platform().architecture == "amd64" ? "x86_64" : image::host_platform().architecture;
  json j = {
      {"ID", ""},
      {"Containers", all_containers.size()},
      {"ContainersRunning", running},
      {"ContainersPaused", paused},
      {"ContainersStopped", all_containers.size() - running - paused},
      {"Images", images},
      {"Driver", "overlayfs"},
      {"DriverStatus", json::array()},
      {"Plugins",
       {{"Volume", json::array()},
        {"Network", json::array()},
        {"Authorization", nullptr},
        {"Log", json::array({"json-file"})}}},
      {"MemoryLimit", true},
      {"SwapLimit", true},
      {"CpuCfsPeriod", true},
      {"CpuCfsQuota", true},
      {"CPUShares", true},
      {"CPUSet", true},
      {"PidsLimit", true},
      {"IPv4Forwarding", true},
      {"Debug", config_.debug},
      {"NFd", 0},
      {"OomKillDisable", false},
      {"NGoroutines", 0},
      {"SystemTime", rfc3339_now()},
      {"LoggingDriver", "json-file"},
      {"CgroupDriver", "cgroupfs"},
      {"CgroupVersion", "2"},
      {"NEventsListener", 0},
      {"KernelVersion", kernel_version()},
      {"OperatingSystem", os},
      {"OSVersion", ""},
      {"OSType", "linux"},
      {"Architecture", arch},
      {"IndexServerAddress", "https://index.docker.io/v1/"},
      {"RegistryConfig",
       {{"IndexConfigs", json::object()},
        {"InsecureRegistryCIDRs", json::array({"127.0.0.0/8"})},
        {"Mirrors", json::array()}}},
      {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
      {"MemTotal", static_cast<uint64_t>(si.totalram) * si.mem_unit},
      {"DockerRootDir", config_.data_root},
      {"HttpProxy", ""},
      {"HttpsProxy", ""},
      {"NoProxy", ""},
      {"Name", host},
      {"Labels", json::array()},
      {"ExperimentalBuild", false},
      {"ServerVersion", kBerthVersion},
      {"Runtimes", {{"berth", {{"path", "berth-runtime"}}}}},
      {"DefaultRuntime", "berth"},
      {"Swarm",
       {{"NodeID", ""},
        {"NodeAddr", ""},
        {"LocalNodeState", "inactive"},
        {"ControlAvailable", false},
        {"Error", ""},
        {"RemoteManagers", nullptr}}},
      {"LiveRestoreEnabled", true},
      {"Isolation", ""},
      {"InitBinary", ""},
      {"ContainerdCommit", {{"ID", ""}}},
      {"RuncCommit", {{"ID", kBerthCommit}}},
      {"InitCommit", {{"ID", ""}}},
      {"SecurityOptions", json::array({"name=seccomp,profile=builtin", "name=cgroupns"})},
      {"Warnings", json::array()},
  };
  send_json(resp, 200, j);
}

void Api::images_list(Request& req, ResponseWriter& resp) {
  std::vector<std::string> patterns;
  if (std::string f = req.param("filters"); !f.empty()) {
    json filters = json::parse(f, nullptr, false);
    if (filters.is_discarded() || !filters.is_object()) return send_error(resp, 400, "invalid filter: " + f);
    for (auto& [key, val] : filters.items()) {
      if (key != "reference") return send_error(resp, 400, "invalid filter '" + key + "'");
      // Both {"reference":{"x":true}} and the older {"reference":["x"]}.
      if (val.is_object())
        for (auto& [pat, on] : val.items()) patterns.push_back(pat);
      else if (val.is_array())
        for (auto& pat : val)
          if (pat.is_string()) patterns.push_back(pat.get<std::string>());
    }
  }
  auto all = catalog(store_, index_);
  if (!all) return send_error(resp, 500, all.error().message());
  json out = json::array();
  for (const auto& img : *all) {
    json tags = json::array(), digests = json::array();
    bool match = patterns.empty();
    for (const auto& r : img.records) {
      tags.push_back(familiar_name(r.name));
      std::string rd = repo_digest(r);
      if (std::find(digests.begin(), digests.end(), rd) == digests.end()) digests.push_back(rd);
      for (const auto& pat : patterns) match = match || reference_matches(r.name, pat);
    }
    if (!match) continue;
    json labels = json::object();
    for (const auto& [k, v] : img.resolved.config.config.labels) labels[k] = v;
    out.push_back({{"Id", img.id.str()},
                   {"ParentId", ""},
                   {"RepoTags", tags},
                   {"RepoDigests", digests},
                   {"Created", parse_rfc3339(img.resolved.config.created)},
                   {"Size", img.size},
                   {"SharedSize", -1},
                   {"VirtualSize", img.size},
                   {"Labels", labels},
                   {"Containers", -1}});
  }
  send_json(resp, 200, out);
}

void Api::image_inspect(const std::string& name, ResponseWriter& resp) {
  auto found = find_image(store_, index_, name);
  if (!found) return send_error(resp, 404, found.error().message());
  if (!*found) return send_error(resp, 404, "No such image: " + name);
  const CatalogImage& img = (*found)->image;
  const image::ImageConfig& cfg = img.resolved.config;
  const image::RunConfig& rc = cfg.config;
  json tags = json::array(), digests = json::array(), layers = json::array();
  std::string last_tag;
  for (const auto& r : img.records) {
    tags.push_back(familiar_name(r.name));
    std::string rd = repo_digest(r);
    if (std::find(digests.begin(), digests.end(), rd) == digests.end()) digests.push_back(rd);
    last_tag = std::max(last_tag, r.created);
  }
  for (const auto& d : cfg.diff_ids) layers.push_back(d.str());
  json labels = rc.labels.empty() ? json() : json::object();
  for (const auto& [k, v] : rc.labels) labels[k] = v;
  json config = {{"Hostname", ""},
                 {"Domainname", ""},
                 {"User", rc.user},
                 {"AttachStdin", false},
                 {"AttachStdout", false},
                 {"AttachStderr", false},
                 {"ExposedPorts", set_object(rc.exposed_ports)},
                 {"Tty", false},
                 {"OpenStdin", false},
                 {"StdinOnce", false},
                 {"Env", optional_list(rc.env, !rc.env.empty())},
                 {"Cmd", optional_list(rc.cmd, rc.has_cmd)},
                 {"Image", ""},
                 {"Volumes", set_object(rc.volumes)},
                 {"WorkingDir", rc.working_dir},
                 {"Entrypoint", optional_list(rc.entrypoint, rc.has_entrypoint)},
                 {"OnBuild", nullptr},
                 {"Labels", labels}};
  if (!rc.stop_signal.empty()) config["StopSignal"] = rc.stop_signal;
  json j = {{"Id", img.id.str()},
            {"RepoTags", tags},
            {"RepoDigests", digests},
            {"Parent", ""},
            {"Comment", ""},
            {"Created", cfg.created},
            {"DockerVersion", ""},
            {"Author", ""},
            {"Config", config},
            {"Architecture", cfg.platform.architecture},
            {"Os", cfg.platform.os},
            {"Size", img.size},
            {"GraphDriver", {{"Name", "overlayfs"}, {"Data", nullptr}}},
            {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
            {"Metadata", {{"LastTagTime", last_tag}}}};
  if (!cfg.platform.variant.empty()) j["Variant"] = cfg.platform.variant;
  send_json(resp, 200, j);
}

namespace {

// The status line docker prints for each phase berth-image reports.
const char* phase_status(const std::string& phase) {
  if (phase == "downloading") return "Downloading";
  if (phase == "verifying") return "Verifying Checksum";
  if (phase == "done") return "Download complete";
  if (phase == "exists") return "Already exists";
  return "Waiting";
}

// The first 12 hex digits of "sha256:<hex>", as docker names layers.
std::string short_hex(const std::string& digest) {
  size_t colon = digest.find(':');
  return digest.substr(colon == std::string::npos ? 0 : colon + 1, 12);
}

// Which status code a pull that failed before any output gets: a missing
// image or repository is a 404 for docker; the rest are registry trouble.
int pull_error_status(const Error& e) {
  const std::string& m = e.context();
  for (const char* s : {"manifest unknown", "name unknown", "not found", "MANIFEST_UNKNOWN", "NAME_UNKNOWN"})
    if (m.find(s) != std::string::npos) return 404;
  return 500;
}

}  // namespace

void Api::image_pull(Request& req, ResponseWriter& resp) {
  std::string from = req.param("fromImage");
  std::string tag = req.param("tag");
  if (from.empty()) return send_error(resp, 400, "fromImage is required (importing with fromSrc is not supported)");
  if (!tag.empty()) from += (tag.starts_with("sha256:") ? "@" : ":") + tag;
  auto ref = image::parse_reference(from);
  if (!ref) return send_error(resp, 400, ref.error().message());
  if (std::string plat = req.param("platform"); !plat.empty()) {
    image::Platform host = image::host_platform();
    if (plat != host.os + "/" + host.architecture && plat != host.architecture)
      return send_error(
          resp, 400,
          "platform " + plat + " is not supported: berthd runs " + host.os + "/" + host.architecture + " images");
  }

  std::shared_lock lock(store_mu_);
  std::string stored = ref->str();
  std::optional<image::Digest> before;
  if (auto old = index_.get(stored); old && *old) before = (*old)->target.digest;

  auto line = [&](const json& j) {
    if (!resp.started()) {
      resp.begin_stream(200, "application/json");
      resp.chunk(
          json{{"status", "Pulling from " + ref->repository}, {"id", ref->tag.empty() ? ref->manifest_ref() : ref->tag}}
              .dump() +
          "\n");
    }
    resp.chunk(j.dump() + "\n");
  };

  // Which layers this pull had to fetch: those get "Pull complete" at the
  // end, as docker prints.
  std::vector<std::pair<std::string, bool>> fetched;  // digest, fetched; in the order first seen
  auto on_event = [&](const json& ev) {
    if (auto p = ev.find("progress"); p != ev.end() && p->is_object()) {
      // The config is a small document; docker does not show it either.
      if (!image::media::is_layer(p->value("media_type", ""))) return;
      std::string digest = p->value("digest", "");
      std::string phase = p->value("phase", "");
      std::string id = short_hex(digest);
      auto seen = std::find_if(fetched.begin(), fetched.end(), [&](const auto& f) { return f.first == digest; });
      if (seen == fetched.end()) {
        fetched.emplace_back(digest, phase != "exists");
        if (phase != "exists") line({{"status", "Pulling fs layer"}, {"progressDetail", json::object()}, {"id", id}});
      }
      if (phase == "downloading")
        line({{"status", "Downloading"},
              {"progressDetail", {{"current", p->value("done", 0)}, {"total", p->value("total", 0)}}},
              {"id", id}});
      else if (phase != "waiting")
        line({{"status", phase_status(phase)}, {"progressDetail", json::object()}, {"id", id}});
    } else if (auto x = ev.find("extracting"); x != ev.end() && x->is_string()) {
      line({{"status", "Extracting"}, {"progressDetail", json::object()}, {"id", short_hex(x->get<std::string>())}});
    } else if (auto d = ev.find("pulled"); d != ev.end() && d->is_object()) {
      for (const auto& [digest, was_fetched] : fetched)
        if (was_fetched)
          line({{"status", "Pull complete"}, {"progressDetail", json::object()}, {"id", short_hex(digest)}});
      std::string target = d->value("digest", "");
      line({{"status", "Digest: " + target}});
      bool same = before && before->str() == target;
      line({{"status",
             cat("Status: ", same ? "Image is up to date for " : "Downloaded newer image for ", ref->familiar())}});
    }
  };

  // The pull and its unpacking run in berth-image (image_helper.hpp).
  if (auto st = ImageHelper(config_.image_helper_path, config_.data_root).run({"pull", ref->str()}, on_event); !st) {
    std::string msg = st.error().message();
    log::warn(msg);
    if (!resp.started()) return send_error(resp, pull_error_status(st.error()), msg);
    line({{"errorDetail", {{"message", msg}}}, {"error", msg}});
  }
}

void Api::image_tag(const std::string& name, Request& req, ResponseWriter& resp) {
  std::string repo = req.param("repo");
  std::string tag = req.param("tag");
  if (repo.empty()) return send_error(resp, 400, "repository name must have at least one component");
  auto ref = image::parse_reference(tag.empty() ? repo : repo + ":" + tag);
  if (!ref) return send_error(resp, 400, ref.error().message());
  if (ref->digest) return send_error(resp, 400, "refusing to create a tag with a digest reference");
  std::shared_lock lock(store_mu_);
  auto found = find_image(store_, index_, name);
  if (!found) return send_error(resp, 404, found.error().message());
  if (!*found) return send_error(resp, 404, "No such image: " + name);
  const Lookup& l = **found;
  image::ImageRecord rec;
  rec.name = ref->str();
  rec.target = l.by_name ? l.by_name->target : l.image.records.front().target;
  rec.created = rfc3339_now();
  if (auto st = index_.put(rec); !st) return send_error(resp, 500, st.error().message());
  resp.send(201, "", "");
}

void Api::image_delete(const std::string& name, Request& req, ResponseWriter& resp) {
  bool force = req.flag("force");
  std::unique_lock lock(store_mu_);
  auto found = find_image(store_, index_, name);
  if (!found) return send_error(resp, 404, found.error().message());
  if (!*found) return send_error(resp, 404, "No such image: " + name);
  const Lookup& l = **found;
  std::vector<image::ImageRecord> untag;
  if (l.by_name) {
    untag.push_back(*l.by_name);
  } else {
    if (l.image.records.size() > 1 && !force)
      return send_error(resp, 409,
                        cat("conflict: unable to delete ", short_id(l.image.id),
                            " (must be forced) - image is referenced in multiple repositories"));
    untag = l.image.records;
  }
  if (untag.size() == l.image.records.size()) {
    // The layers of an image a container uses stay: its rootfs is made of them.
    for (const auto& c : containers_->list())
      if (c.image_id == l.image.id.str())
        return send_error(resp, 409,
                          cat("conflict: unable to delete ", short_id(l.image.id), " (cannot be forced) - image is being used by ",
                              c.state.status == "running" ? "running" : "stopped", " container ", c.id.substr(0, 12)));
  }
  json out = json::array();
  for (const auto& r : untag) {
    if (auto st = index_.remove(r.name); !st) return send_error(resp, 500, st.error().message());
    out.push_back({{"Untagged", familiar_name(r.name)}});
  }
  if (untag.size() == l.image.records.size()) {
    auto pr = image::prune(store_, index_, snaps_);
    if (!pr) log::warn(pr.error().wrap("removing unused blobs").message());
    out.push_back({{"Deleted", l.image.id.str()}});
  }
  send_json(resp, 200, out);
}

void Api::image_load(Request& /*req*/, BodyReader& body, ResponseWriter& resp) {
  std::string tmpdir = config_.data_root + "/tmp";
  if (auto st = mkdir_all(tmpdir, 0700); !st) return send_error(resp, 500, st.error().message());
  std::string path = tmpdir + "/load-XXXXXX";
  UniqueFd fd(::mkostemp(path.data(), O_CLOEXEC));
  if (!fd) return send_error(resp, 500, sys_error("create ", tmpdir, "/load-*").message());
  struct Unlink {
    std::string p;
    ~Unlink() { ::unlink(p.c_str()); }
  } cleanup{path};

  uint64_t total = 0;
  std::string buf;
  while (!body.done()) {
    buf.clear();
    auto n = body.read(&buf, 256 * 1024);
    if (!n) return send_error(resp, 400, n.error().message());
    total += *n;
    if (total > config_.max_load) {
      resp.close_after();
      return send_error(resp, 413, cat("image archive is larger than ", config_.max_load, " bytes"));
    }
    if (auto st = write_all(fd.get(), buf, path); !st) return send_error(resp, 500, st.error().message());
  }
  if (total == 0) return send_error(resp, 400, "no image archive in the request body");
  fd.reset();

  std::shared_lock lock(store_mu_);
  std::string out;
  auto st = ImageHelper(config_.image_helper_path, config_.data_root).run({"import", "--unpack", path}, [&](const json& ev) {
    auto l = ev.find("loaded");
    if (l == ev.end() || !l->is_object()) return;
    std::string name = l->value("name", "");
    // quiet only drops progress, which berthd does not send for a load.
    std::string msg = name.empty() ? "Loaded image ID: " + l->value("digest", "") : "Loaded image: " + familiar_name(name);
    out += json{{"stream", msg + "\n"}}.dump() + "\n";
  });
  if (!st) return send_error(resp, st.error().code() ? 500 : 400, st.error().message());
  resp.send_json(200, out);
}

}  // namespace berth::daemon
