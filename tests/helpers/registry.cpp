#include "registry.hpp"

#include <arpa/inet.h>
#include <crypt.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"

namespace berth::test {

namespace {

// Sends GET /v2/ and reads the status line; true once anything HTTP answers.
bool answers_http(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return false;
  std::string req = "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (!write_all(fd.get(), req, "request")) return false;
  char buf[16] = {};
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  return n > 0 && starts_with(buf, "HTTP/1.");
}

std::string must_read(const std::string& path) {
  auto r = read_file(path);
  if (!r) throw std::runtime_error(r.error().message());
  return *r;
}

void must_write(const std::string& path, const std::string& data) {
  if (auto r = write_file(path, data, true); !r) throw std::runtime_error(r.error().message());
}

}  // namespace

bool have_registry_tools() { return path_exists("/usr/bin/docker-registry") && path_exists("/usr/bin/skopeo"); }

int free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0)
    throw std::runtime_error("no free port on 127.0.0.1");
  return ntohs(addr.sin_port);
}

std::string htpasswd_line(const std::string& user, const std::string& password) {
  // libxcrypt's bcrypt ("$2b$"), which docker-registry's htpasswd reader
  // accepts; cost 5 keeps the tests fast.
  std::unique_ptr<char, decltype(&::free)> salt(crypt_gensalt_ra("$2b$", 5, nullptr, 0), ::free);
  if (!salt) throw std::runtime_error("crypt_gensalt: bcrypt unsupported");
  crypt_data data{};
  const char* hash = crypt_r(password.c_str(), salt.get(), &data);
  if (!hash || hash[0] == '*') throw std::runtime_error("crypt: bcrypt failed");
  return cat(user, ":", hash, "\n");
}

TestRegistry::TestRegistry(const std::string& htpasswd) : dir_("berth-registry") {
  port_ = free_port();
  std::string config = cat("version: 0.1\n",
                           "log:\n  level: warn\n",
                           "storage:\n  filesystem:\n    rootdirectory: ", dir_ / "data", "\n",
                           "  delete:\n    enabled: true\n",
                           "http:\n  addr: 127.0.0.1:", port_, "\n  secret: berth-test\n");
  if (!htpasswd.empty()) {
    must_write(dir_ / "htpasswd", htpasswd);
    config += cat("auth:\n  htpasswd:\n    realm: berth-test\n    path: ", dir_ / "htpasswd", "\n");
  }
  must_write(dir_ / "config.yml", config);

  std::string log = dir_ / "registry.log";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0) ::_exit(127);
    // The registry goes when the test does, even if it dies without
    // running destructors.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::string cfg = dir_ / "config.yml";
    ::execl("/usr/bin/docker-registry", "docker-registry", "serve", cfg.c_str(), nullptr);
    ::_exit(127);
  }
  pid_ = pid;
  for (int i = 0; i < 200; ++i) {
    if (answers_http(port_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = cat("docker-registry exited: ", slurp(log));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  error_ = cat("docker-registry did not answer on port ", port_, ": ", slurp(log));
}

TestRegistry::~TestRegistry() { stop(); }

void TestRegistry::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string TestRegistry::host() const { return cat("127.0.0.1:", port_); }

std::string TestRegistry::blob_data_path(const std::string& digest) const {
  std::string hex = digest.substr(digest.find(':') + 1);
  return cat(dir_ / "data", "/docker/registry/v2/blobs/sha256/", hex.substr(0, 2), "/", hex, "/data");
}

RunResult TestRegistry::push(const std::string& layout, const std::string& tag, const std::string& name, bool all,
                             const std::string& creds) const {
  std::vector<std::string> argv{"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"};
  if (all) argv.push_back("--all");
  if (!creds.empty()) argv.push_back("--dest-creds=" + creds);
  argv.push_back(cat("oci:", layout, ":", tag));
  argv.push_back(cat("docker://", host(), "/", name));
  return run(argv, "", 120);
}

OciLayout::OciLayout(std::string dir) : dir_(std::move(dir)) {
  if (!mkdir_all(dir_ + "/blobs/sha256", 0755)) throw std::runtime_error("mkdir " + dir_);
  must_write(dir_ + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  must_write(dir_ + "/index.json", R"({"schemaVersion":2,"manifests":[]})");
}

OciBlob OciLayout::add_blob(const std::string& data, const std::string& media_type) {
  std::string hex = sha256_hex(data);
  must_write(cat(dir_, "/blobs/sha256/", hex), data);
  return OciBlob{media_type, "sha256:" + hex, static_cast<int64_t>(data.size())};
}

std::string OciLayout::read_blob(const std::string& digest) const {
  return must_read(cat(dir_, "/blobs/sha256/", digest.substr(digest.find(':') + 1)));
}

OciLayout::Layer OciLayout::add_layer(const std::string& tree) {
  TempDir scratch("berth-layer");
  std::string tar = scratch / "layer.tar";
  auto r = run({"tar", "-C", tree, "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                "-cf", tar, "."});
  if (r.status != 0) throw std::runtime_error("tar: " + r.err);
  r = run({"gzip", "-n", "-k", tar});
  if (r.status != 0) throw std::runtime_error("gzip: " + r.err);
  Layer layer;
  layer.diff_id = "sha256:" + sha256_hex(must_read(tar));
  layer.blob = add_blob(must_read(tar + ".gz"), "application/vnd.oci.image.layer.v1.tar+gzip");
  return layer;
}

OciBlob OciLayout::add_image(const std::vector<Layer>& layers, const std::string& arch) {
  json config = {{"architecture", arch},
                 {"os", "linux"},
                 {"config", {{"Cmd", {"/bin/sh"}}, {"Env", {"PATH=/bin"}}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
  json manifest = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"}};
  json layer_descs = json::array();
  for (const auto& l : layers) {
    config["rootfs"]["diff_ids"].push_back(l.diff_id);
    layer_descs.push_back({{"mediaType", l.blob.media_type}, {"digest", l.blob.digest}, {"size", l.blob.size}});
  }
  OciBlob cfg = add_blob(config.dump(), "application/vnd.oci.image.config.v1+json");
  manifest["config"] = {{"mediaType", cfg.media_type}, {"digest", cfg.digest}, {"size", cfg.size}};
  manifest["layers"] = layer_descs;
  return add_blob(manifest.dump(), "application/vnd.oci.image.manifest.v1+json");
}

OciBlob OciLayout::add_index(const std::vector<std::pair<OciBlob, std::string>>& manifests) {
  json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}};
  index["manifests"] = json::array();
  for (const auto& [m, arch] : manifests)
    index["manifests"].push_back({{"mediaType", m.media_type},
                                  {"digest", m.digest},
                                  {"size", m.size},
                                  {"platform", {{"os", "linux"}, {"architecture", arch}}}});
  return add_blob(index.dump(), "application/vnd.oci.image.index.v1+json");
}

void OciLayout::tag(const std::string& tag, const OciBlob& target) {
  tags_.emplace_back(tag, target);
  json index = {{"schemaVersion", 2}, {"manifests", json::array()}};
  for (const auto& [name, d] : tags_)
    index["manifests"].push_back({{"mediaType", d.media_type},
                                  {"digest", d.digest},
                                  {"size", d.size},
                                  {"annotations", {{"org.opencontainers.image.ref.name", name}}}});
  must_write(dir_ + "/index.json", index.dump());
}

OciBlob add_busybox_image(OciLayout& layout, const std::string& scratch, const std::string& arch,
                          const std::string& marker) {
  std::string bin_tree = scratch + "/bin-layer";
  std::string etc_tree = scratch + "/etc-layer";
  if (!mkdir_all(bin_tree + "/bin", 0755) || !mkdir_all(etc_tree + "/etc", 0755))
    throw std::runtime_error("mkdir " + scratch);
  if (!path_exists(bin_tree + "/bin/busybox")) {
    std::string busybox = must_read("/bin/busybox");
    if (!write_file(bin_tree + "/bin/busybox", busybox, true, 0755)) throw std::runtime_error("copy busybox");
    ::symlink("busybox", (bin_tree + "/bin/sh").c_str());
  }
  must_write(etc_tree + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  must_write(etc_tree + "/etc/group", "root:x:0:\n");
  must_write(etc_tree + "/etc/marker", marker + "\n");
  auto bin = layout.add_layer(bin_tree);
  auto etc = layout.add_layer(etc_tree);
  return layout.add_image({bin, etc}, arch);
}

}  // namespace berth::test
