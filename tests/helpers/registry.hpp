// A real registry for the image tests: Debian's docker-registry on
// 127.0.0.1, fed with skopeo from OCI layouts the tests write themselves.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace berth::test {

/// True when docker-registry and skopeo are installed.
bool have_registry_tools();

/// A docker-registry serving 127.0.0.1:<free port>, its storage in a
/// temporary directory. Stopped (SIGTERM to the process it started) and
/// removed on destruction.
class TestRegistry {
 public:
  /// `htpasswd`: lines "user:bcrypt-hash"; when given, the registry asks for
  /// HTTP Basic authentication.
  explicit TestRegistry(const std::string& htpasswd = "");
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  /// False when the registry did not come up; error() says why.
  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  /// "127.0.0.1:<port>"
  std::string host() const;
  int port() const { return port_; }
  /// The file holding a blob in the registry's storage.
  std::string blob_data_path(const std::string& digest) const;
  /// Stops the registry now; later connections are refused.
  void stop();

  /// skopeo copy of `layout:tag` to `<host>/<name>`; `all` copies every
  /// image of an index; `creds` is "user:password" for a registry with auth.
  RunResult push(const std::string& layout, const std::string& tag, const std::string& name, bool all = false,
                 const std::string& creds = "") const;

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

/// An htpasswd line with a bcrypt hash, as docker-registry's htpasswd auth
/// reads it.
std::string htpasswd_line(const std::string& user, const std::string& password);

/// A port on 127.0.0.1 that nothing listened on a moment ago.
int free_port();

/// A blob of an OCI layout.
struct OciBlob {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
};

/// Writes an OCI image layout: blobs, images and indexes, and index.json
/// naming them by tag.
class OciLayout {
 public:
  struct Layer {
    OciBlob blob;         // the gzipped tar
    std::string diff_id;  // digest of the tar
  };

  /// Creates `dir` with oci-layout and an empty blobs/sha256.
  explicit OciLayout(std::string dir);
  const std::string& dir() const { return dir_; }

  OciBlob add_blob(const std::string& data, const std::string& media_type);
  /// A gzip layer of the tree under `tree`, with root as owner and fixed
  /// mtimes, so the same tree always gives the same digest.
  Layer add_layer(const std::string& tree);
  /// An image config and manifest for linux/`arch` over `layers`; returns
  /// the manifest's descriptor.
  OciBlob add_image(const std::vector<Layer>& layers, const std::string& arch = "amd64");
  /// An image index over (manifest, architecture) pairs, all linux.
  OciBlob add_index(const std::vector<std::pair<OciBlob, std::string>>& manifests);
  /// Names `target` as `tag` in index.json.
  void tag(const std::string& tag, const OciBlob& target);
  /// The content of a blob of the layout.
  std::string read_blob(const std::string& digest) const;

 private:
  std::string dir_;
  std::vector<std::pair<std::string, OciBlob>> tags_;
};

/// A busybox-static image in two layers: /bin with busybox and its sh link;
/// /etc with passwd and group. `marker` goes into /etc/marker so that
/// images built with different markers have different digests.
OciBlob add_busybox_image(OciLayout& layout, const std::string& scratch, const std::string& arch = "amd64",
                          const std::string& marker = "");

}  // namespace berth::test
