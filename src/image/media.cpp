#include "image/media.hpp"

#include <nlohmann/json.hpp>

namespace berth::image {

using nlohmann::json;

namespace media {

bool is_index(std::string_view mt) { return mt == kOciIndex || mt == kDockerList; }
bool is_manifest(std::string_view mt) { return mt == kOciManifest || mt == kDockerManifest; }
bool is_layer(std::string_view mt) {
  return mt == kOciLayer || mt == kOciLayerGzip || mt == kOciLayerZstd || mt == kOciLayerNondistGzip ||
         mt == kDockerLayer || mt == kDockerLayerGzip || mt == kDockerForeignLayer;
}

std::string accept_header() {
  return cat(kOciIndex, ", ", kOciManifest, ", ", kDockerList, ", ", kDockerManifest);
}

}  // namespace media

Platform host_platform() { return {"linux", "amd64", ""}; }

namespace {

// Typed field access with errors that name the field.
Result<json> parse_doc(std::string_view text, std::string_view what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(what, ": not valid JSON");
  if (!j.is_object()) return make_error(what, ": not a JSON object");
  return j;
}

Result<std::string> get_string(const json& j, const char* key, std::string_view where, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return make_error(where, ".", key, ": missing");
    return std::string();
  }
  if (!it->is_string()) return make_error(where, ".", key, ": must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> get_strings(const json& j, const char* key, std::string_view where) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return make_error(where, ".", key, ": must be an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) return make_error(where, ".", key, ": must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> get_string_map(const json& j, const char* key, std::string_view where) {
  std::map<std::string, std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return make_error(where, ".", key, ": must be an object of strings");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return make_error(where, ".", key, ".", k, ": must be a string");
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

// The keys of an object used as a set ({"80/tcp": {}}).
Result<std::vector<std::string>> get_key_set(const json& j, const char* key, std::string_view where) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return make_error(where, ".", key, ": must be an object");
  for (const auto& [k, v] : it->items()) out.push_back(k);
  return out;
}

Result<Descriptor> descriptor_from(const json& j, std::string_view where) {
  if (!j.is_object()) return make_error(where, ": must be an object");
  Descriptor d;
  auto mt = get_string(j, "mediaType", where, true);
  if (!mt) return std::move(mt).error();
  d.media_type = std::move(*mt);
  auto dg = get_string(j, "digest", where, true);
  if (!dg) return std::move(dg).error();
  auto parsed = Digest::parse(*dg);
  if (!parsed) return std::move(parsed).error().wrap(cat(where, ".digest"));
  d.digest = std::move(*parsed);
  auto sz = j.find("size");
  if (sz == j.end() || !sz->is_number_integer() || sz->get<int64_t>() < 0)
    return make_error(where, ".size: must be a non-negative integer");
  d.size = sz->get<int64_t>();
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    Platform pl;
    auto os = get_string(*p, "os", cat(where, ".platform"), true);
    if (!os) return std::move(os).error();
    auto arch = get_string(*p, "architecture", cat(where, ".platform"), true);
    if (!arch) return std::move(arch).error();
    auto var = get_string(*p, "variant", cat(where, ".platform"), false);
    if (!var) return std::move(var).error();
    d.platform = Platform{std::move(*os), std::move(*arch), std::move(*var)};
  }
  auto ann = get_string_map(j, "annotations", where);
  if (!ann) return std::move(ann).error();
  d.annotations = std::move(*ann);
  auto urls = get_strings(j, "urls", where);
  if (!urls) return std::move(urls).error();
  d.urls = std::move(*urls);
  return d;
}

}  // namespace

Result<Descriptor> parse_descriptor(std::string_view json_text, std::string_view where) {
  auto j = parse_doc(json_text, where);
  if (!j) return std::move(j).error();
  return descriptor_from(*j, where);
}

Result<std::string> sniff_media_type(std::string_view json_text) {
  auto j = parse_doc(json_text, "manifest");
  if (!j) return std::move(j).error();
  auto mt = get_string(*j, "mediaType", "manifest", false);
  if (!mt) return std::move(mt).error();
  if (!mt->empty()) return *mt;
  if (j->contains("manifests")) return std::string(media::kOciIndex);
  if (j->contains("layers")) return std::string(media::kOciManifest);
  return make_error("manifest: no mediaType, and neither \"manifests\" nor \"layers\"");
}

Result<Manifest> parse_manifest(std::string_view json_text) {
  auto j = parse_doc(json_text, "manifest");
  if (!j) return std::move(j).error();
  auto mt = sniff_media_type(json_text);
  if (!mt) return std::move(mt).error();
  if (!media::is_manifest(*mt)) return make_error("manifest: unsupported media type \"", *mt, "\"");
  auto version = j->find("schemaVersion");
  if (version == j->end() || *version != 2) return make_error("manifest.schemaVersion: must be 2");
  Manifest m;
  m.media_type = *mt;
  auto cfg = j->find("config");
  if (cfg == j->end()) return make_error("manifest.config: missing");
  auto c = descriptor_from(*cfg, "manifest.config");
  if (!c) return std::move(c).error();
  m.config = std::move(*c);
  auto layers = j->find("layers");
  if (layers == j->end() || !layers->is_array()) return make_error("manifest.layers: must be an array");
  for (size_t i = 0; i < layers->size(); ++i) {
    std::string where = cat("manifest.layers[", i, "]");
    auto l = descriptor_from((*layers)[i], where);
    if (!l) return std::move(l).error();
    if (!media::is_layer(l->media_type))
      return make_error(where, ".mediaType: unsupported layer type \"", l->media_type, "\"");
    m.layers.push_back(std::move(*l));
  }
  return m;
}

Result<Index> parse_index(std::string_view json_text) {
  auto j = parse_doc(json_text, "index");
  if (!j) return std::move(j).error();
  auto mt = sniff_media_type(json_text);
  if (!mt) return std::move(mt).error().wrap("index");
  if (!media::is_index(*mt)) return make_error("index: unsupported media type \"", *mt, "\"");
  Index idx;
  idx.media_type = *mt;
  auto ms = j->find("manifests");
  if (ms == j->end() || !ms->is_array()) return make_error("index.manifests: must be an array");
  for (size_t i = 0; i < ms->size(); ++i) {
    auto d = descriptor_from((*ms)[i], cat("index.manifests[", i, "]"));
    if (!d) return std::move(d).error();
    idx.manifests.push_back(std::move(*d));
  }
  return idx;
}

Result<ImageConfig> parse_image_config(std::string_view json_text) {
  auto j = parse_doc(json_text, "image config");
  if (!j) return std::move(j).error();
  ImageConfig ic;
  auto os = get_string(*j, "os", "image config", true);
  if (!os) return std::move(os).error();
  auto arch = get_string(*j, "architecture", "image config", true);
  if (!arch) return std::move(arch).error();
  auto var = get_string(*j, "variant", "image config", false);
  if (!var) return std::move(var).error();
  ic.platform = {std::move(*os), std::move(*arch), std::move(*var)};
  auto created = get_string(*j, "created", "image config", false);
  if (!created) return std::move(created).error();
  ic.created = std::move(*created);

  auto rootfs = j->find("rootfs");
  if (rootfs == j->end() || !rootfs->is_object()) return make_error("image config.rootfs: missing");
  auto ids = get_strings(*rootfs, "diff_ids", "image config.rootfs");
  if (!ids) return std::move(ids).error();
  for (size_t i = 0; i < ids->size(); ++i) {
    auto d = Digest::parse((*ids)[i]);
    if (!d) return std::move(d).error().wrap(cat("image config.rootfs.diff_ids[", i, "]"));
    ic.diff_ids.push_back(std::move(*d));
  }

  auto c = j->find("config");
  if (c == j->end() || c->is_null()) return ic;
  if (!c->is_object()) return make_error("image config.config: must be an object");
  constexpr std::string_view w = "image config.config";
  RunConfig& rc = ic.config;
  auto user = get_string(*c, "User", w, false);
  if (!user) return std::move(user).error();
  rc.user = std::move(*user);
  auto env = get_strings(*c, "Env", w);
  if (!env) return std::move(env).error();
  rc.env = std::move(*env);
  rc.has_entrypoint = c->contains("Entrypoint") && !(*c)["Entrypoint"].is_null();
  auto ep = get_strings(*c, "Entrypoint", w);
  if (!ep) return std::move(ep).error();
  rc.entrypoint = std::move(*ep);
  rc.has_cmd = c->contains("Cmd") && !(*c)["Cmd"].is_null();
  auto cmd = get_strings(*c, "Cmd", w);
  if (!cmd) return std::move(cmd).error();
  rc.cmd = std::move(*cmd);
  auto wd = get_string(*c, "WorkingDir", w, false);
  if (!wd) return std::move(wd).error();
  rc.working_dir = std::move(*wd);
  auto ports = get_key_set(*c, "ExposedPorts", w);
  if (!ports) return std::move(ports).error();
  rc.exposed_ports = std::move(*ports);
  auto vols = get_key_set(*c, "Volumes", w);
  if (!vols) return std::move(vols).error();
  rc.volumes = std::move(*vols);
  auto labels = get_string_map(*c, "Labels", w);
  if (!labels) return std::move(labels).error();
  rc.labels = std::move(*labels);
  auto sig = get_string(*c, "StopSignal", w, false);
  if (!sig) return std::move(sig).error();
  rc.stop_signal = std::move(*sig);
  return ic;
}

Result<Descriptor> select_platform(const Index& index, const Platform& want) {
  // arm64 without a variant means v8, as the registries' clients assume.
  auto norm_variant = [](const Platform& p) {
    if (p.architecture == "arm64" && p.variant.empty()) return std::string("v8");
    return p.variant;
  };
  const Descriptor* fallback = nullptr;
  std::string have;
  for (const auto& d : index.manifests) {
    if (!media::is_manifest(d.media_type)) continue;  // attestations, nested indexes
    if (!d.platform) continue;
    const Platform& p = *d.platform;
    if (p.os == "unknown") continue;  // attestation manifests
    have += cat(have.empty() ? "" : ", ", p.os, "/", p.architecture, p.variant.empty() ? "" : "/", p.variant);
    if (p.os != want.os || p.architecture != want.architecture) continue;
    if (norm_variant(p) == norm_variant(want)) return d;
    if (want.variant.empty() && !fallback) fallback = &d;
  }
  if (fallback) return *fallback;
  // An index of one manifest with no platform at all (some OCI layouts).
  if (index.manifests.size() == 1 && !index.manifests[0].platform && media::is_manifest(index.manifests[0].media_type))
    return index.manifests[0];
  return make_error("no manifest for platform ", want.os, "/", want.architecture,
                    want.variant.empty() ? "" : "/", want.variant, " (the index has: ", have.empty() ? "none" : have,
                    ")");
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> out;
  for (const auto& d : diff_ids) {
    if (out.empty())
      out.push_back(d);
    else
      out.push_back(Digest::of(cat(out.back().str(), " ", d.str())));
  }
  return out;
}

}  // namespace berth::image
