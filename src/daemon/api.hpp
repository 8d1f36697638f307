// The Docker Engine API subset berthd serves: routing (with and without a
// "/v1.xx" prefix), the system endpoints (_ping, version, info) and images.
// Handlers answer errors as {"message": ...} with docker's status codes.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "daemon/containers.hpp"
#include "daemon/http.hpp"
#include "daemon/networks.hpp"
#include "image/snapshot.hpp"
#include "image/store.hpp"

namespace berth::daemon {

/// The API version berthd advertises, and the oldest path prefix it accepts.
inline constexpr std::string_view kApiVersion = "1.43";
inline constexpr std::string_view kMinApiVersion = "1.40";
inline constexpr std::string_view kMaxApiVersion = "1.47";

/// Strips a "/v1.xx" prefix. Returns nullopt for a version outside
/// [kMinApiVersion, kMaxApiVersion] (docker answers those with 400), and the
/// path unchanged when there is no prefix.
std::optional<std::string> strip_version(const std::string& path, std::string* version);

struct ApiConfig {
  std::string data_root;
  std::string exec_root;
  bool debug = false;
  /// Largest request body read into memory (JSON bodies).
  size_t max_body = 1024 * 1024;
  /// Largest image archive `POST /images/load` accepts.
  uint64_t max_load = 16ull << 30;
  /// The programs berthd runs: one berth-monitor per container, and the
  /// runtime for exec.
  std::string monitor_path;
  std::string runtime_path;
  /// berth-image, which pulls, loads and unpacks (image_helper.hpp).
  std::string image_helper_path;
  std::string cgroup_parent = "/berth";
  /// Bridge networks (off: every container gets a loopback-only namespace).
  bool networking = true;
  /// Size rotation of each container's json-file log.
  int64_t log_max_size = 10 * 1024 * 1024;
  int log_max_files = 2;
};

class Api {
 public:
  /// Opens (creating if needed) the stores under config.data_root.
  static Result<std::unique_ptr<Api>> create(ApiConfig config);

  /// Serves one request (the Server's Handler).
  void handle(Request& req, BodyReader& body, ResponseWriter& resp);

  /// The headers every response carries.
  static CommonHeaders common_headers();

  const image::ContentStore& store() const { return store_; }
  const image::ImageIndex& index() const { return index_; }
  ContainerManager& containers() { return *containers_; }

 private:
  Api(ApiConfig c, image::ContentStore s, image::ImageIndex i, image::SnapshotStore n)
      : config_(std::move(c)), store_(std::move(s)), index_(std::move(i)), snaps_(std::move(n)) {}

  void route(Request& req, BodyReader& body, ResponseWriter& resp);
  void ping(Request& req, ResponseWriter& resp);
  void version(ResponseWriter& resp);
  void info(ResponseWriter& resp);
  void images_list(Request& req, ResponseWriter& resp);
  void image_inspect(const std::string& name, ResponseWriter& resp);
  void image_pull(Request& req, ResponseWriter& resp);
  void image_tag(const std::string& name, Request& req, ResponseWriter& resp);
  void image_delete(const std::string& name, Request& req, ResponseWriter& resp);
  void image_load(Request& req, BodyReader& body, ResponseWriter& resp);

  ApiConfig config_;
  image::ContentStore store_;
  image::ImageIndex index_;
  image::SnapshotStore snaps_;
  // Before containers_: destroyed after it (containers refer to it).
  std::unique_ptr<NetworkManager> networks_;
  std::unique_ptr<ContainerManager> containers_;
  // Pulls and loads share it; a removal (which prunes blobs) takes it alone,
  // so it never removes a blob a pull in progress has just written.
  std::shared_mutex store_mu_;
};

}  // namespace berth::daemon
