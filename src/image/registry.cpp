#include "image/registry.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "common/fs.hpp"
#include "common/time.hpp"
#include "image/registry_auth.hpp"

namespace berth::image {

namespace {

// Registries refuse manifests above 4 MiB; anything bigger is not one.
constexpr size_t kMaxDocument = 4 << 20;
// Enough of an error body to read the registry's message.
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr long kConnectTimeoutS = 30;
// A transfer that moves no byte for this long is dropped.
constexpr long kStallTimeoutS = 60;
// Downloading progress is reported at most once per this many bytes.
constexpr int64_t kProgressStep = 64 << 10;

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using HeaderList = std::unique_ptr<curl_slist, SlistFree>;

// "host:port" of a URL, for error messages.
std::string url_host(std::string_view url) {
  if (auto p = url.find("://"); p != std::string_view::npos) url.remove_prefix(p + 3);
  return std::string(url.substr(0, url.find('/')));
}

struct Authorization {
  enum class Kind { None, Basic, Bearer };
  Kind kind = Kind::None;
  Credentials basic;
  std::string token;
};

// The final response of a request, after redirects.
struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // a 2xx body that was collected
  std::string error_body;                      // a non-2xx body, truncated

  bool ok() const { return status >= 200 && status < 300; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// What one request does with its body. A 2xx body goes to `consume` when it
// is set, else into Response::body up to `limit` bytes.
struct Request {
  std::string url;
  std::string accept;
  std::function<Status(const char*, size_t)> consume;
  size_t limit = kMaxDocument;
  const std::atomic<bool>* cancel = nullptr;

  // Filled while the transfer runs.
  Response resp;
  std::optional<Error> failed;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* req = static_cast<Request*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (starts_with(line, "HTTP/")) {
    // A new response (the first, or one after a redirect or a 401 retry):
    // only the last one's headers and body count.
    req->resp = Response{};
    auto sp = line.find(' ');
    if (sp != std::string_view::npos)
      req->resp.status = parse_int<long>(line.substr(sp + 1, 3)).value_or(0);
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req->resp.headers[name] = std::string(trim(line.substr(colon + 1)));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* req = static_cast<Request*>(user);
  size_t len = size * n;
  if (!req->resp.ok()) {
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, req->resp.error_body.size());
    req->resp.error_body.append(data, std::min(room, len));
    return len;
  }
  if (req->consume) {
    if (Status st = req->consume(data, len); !st) {
      req->failed = std::move(st).error();
      return 0;  // aborts the transfer
    }
    return len;
  }
  if (req->resp.body.size() + len > req->limit) {
    req->failed = make_error("response larger than ", req->limit, " bytes");
    return 0;
  }
  req->resp.body.append(data, len);
  return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* req = static_cast<Request*>(user);
  return req->cancel && req->cancel->load() ? 1 : 0;
}

// Turns a failed transfer into an error that names the host and, where the
// kernel gave one, keeps the errno (ECONNREFUSED, ECONNRESET...).
Error transfer_error(CURL* h, CURLcode rc, const char* errbuf, const std::string& url) {
  char* effective = nullptr;
  curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
  std::string host = url_host(effective ? effective : url);
  long os_errno = 0;
  curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  std::string detail = *errbuf ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      if (os_errno) return Error(static_cast<int>(os_errno), cat("connect to ", host));
      return make_error("connect to ", host, ": ", detail);
    case CURLE_COULDNT_RESOLVE_HOST:
      return make_error("resolve ", host, ": ", detail);
    case CURLE_OPERATION_TIMEDOUT:
      return make_error("connection to ", host, " timed out: ", detail);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return make_error("connection to ", host, " dropped: ", detail);
    case CURLE_ABORTED_BY_CALLBACK:
      return make_error("cancelled");
    default:
      return make_error(host, ": ", detail);
  }
}

// What a registry said when it refused: its own message, else the status.
Error http_error(const Response& r) {
  std::string msg = registry_error_message(r.error_body);
  if (msg.empty()) msg = cat("HTTP ", r.status);
  if (r.status == 401 && msg.find("unauthorized") == std::string::npos) msg = cat("unauthorized: ", msg);
  return make_error(msg);
}

// One connection to reuse (curl keeps it alive between requests); one per
// worker thread.
class Http {
 public:
  Http() : h_(curl_easy_init()) {}

  Status perform(Request& req, const Authorization& auth) {
    CURL* h = h_.get();
    if (!h) return make_error("curl_easy_init failed");
    curl_easy_reset(h);
    req.resp = Response{};
    req.failed.reset();
    char errbuf[CURL_ERROR_SIZE] = "";
    HeaderList headers;
    if (!req.accept.empty()) headers.reset(curl_slist_append(nullptr, cat("Accept: ", req.accept).c_str()));

    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "berth");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    // Registries answer blob requests with a redirect to their storage.
    // libcurl sends credentials only to the host, port and scheme the
    // request started with (CURLOPT_UNRESTRICTED_AUTH stays off), so a
    // token never leaks to the storage host.
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutS);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, kStallTimeoutS);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &req);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &req);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &req);
    switch (auth.kind) {
      case Authorization::Kind::None:
        break;
      case Authorization::Kind::Basic:
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, auth.basic.username.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, auth.basic.password.c_str());
        break;
      case Authorization::Kind::Bearer:
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, auth.token.c_str());
        break;
    }
    CURLcode rc = curl_easy_perform(h);
    // The options point at locals; leave nothing dangling in the handle.
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    if (req.failed) return *req.failed;
    if (rc != CURLE_OK) return transfer_error(h, rc, errbuf, req.url);
    return {};
  }

 private:
  std::unique_ptr<CURL, CurlFree> h_;
};

// One pull's view of a registry: its base URL and the authorization every
// request carries, shared by the worker threads. A bearer token is fetched
// once and renewed when the registry answers 401 (it expired).
class Session {
 public:
  Session(const Reference& ref, const PullOptions& options, std::optional<Credentials> creds)
      : creds_(std::move(creds)) {
    std::string host = ref.registry_host();
    const auto& insecure = options.insecure_registries;
    plain_http_ = is_loopback_registry(host) ||
                  std::find(insecure.begin(), insecure.end(), ref.domain) != insecure.end() ||
                  std::find(insecure.begin(), insecure.end(), host) != insecure.end();
    base_ = cat(plain_http_ ? "http://" : "https://", host);
    scope_ = cat("repository:", ref.repository, ":pull");
  }

  /// The /v2/ probe: learns how the registry wants to be authenticated.
  Status probe(Http& http) {
    Request req{.url = base_ + "/v2/"};
    BERTH_TRY(http.perform(req, {}));
    if (req.resp.status != 401) return {};
    std::lock_guard lock(mu_);
    return authorize(http, req.resp);
  }

  /// GET `path` below the base URL with the session's authorization; on a
  /// 401 the token is renewed (once per expiry, whichever thread sees it
  /// first) and the request repeated.
  Status get(Http& http, const std::string& path, Request& req) {
    req.url = base_ + path;
    auto [auth, generation] = current();
    BERTH_TRY(http.perform(req, auth));
    if (req.resp.status != 401 || auth.kind == Authorization::Kind::Basic) return {};
    {
      std::lock_guard lock(mu_);
      if (generation_ == generation) BERTH_TRY(authorize(http, req.resp));
    }
    auth = current().first;
    return http.perform(req, auth);
  }

 private:
  std::pair<Authorization, uint64_t> current() {
    std::lock_guard lock(mu_);
    return {auth_, generation_};
  }

  // Answers the challenge of a 401 response. Called with mu_ held.
  Status authorize(Http& http, const Response& resp) {
    auto challenges = parse_www_authenticate(resp.header("www-authenticate"));
    auto find = [&](std::string_view scheme) {
      return std::find_if(challenges.begin(), challenges.end(), [&](const auto& c) { return c.scheme == scheme; });
    };
    if (auto bearer = find("bearer"); bearer != challenges.end()) {
      auto token = fetch_token(http, *bearer);
      if (!token) return std::move(token).error();
      auth_ = Authorization{.kind = Authorization::Kind::Bearer, .token = std::move(*token)};
    } else if (find("basic") != challenges.end()) {
      if (!creds_)
        return make_error("registry ", url_host(base_),
                          " requires a login, and the docker config has no credentials for it");
      auth_ = Authorization{.kind = Authorization::Kind::Basic, .basic = *creds_};
    } else {
      return make_error("registry ", url_host(base_), " requires authentication it does not describe (",
                        quote(resp.header("www-authenticate")), ")");
    }
    ++generation_;
    return {};
  }

  Result<std::string> fetch_token(Http& http, const AuthChallenge& ch) {
    std::string realm = ch.param("realm");
    if (realm.empty()) return make_error("bearer challenge without a realm");
    // Credentials go over TLS only, unless the registry itself is one the
    // user lets us reach in plain HTTP.
    if (!starts_with(realm, "https://") && !(plain_http_ && starts_with(realm, "http://")))
      return make_error("token realm ", quote(realm), " is not an https URL");
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    if (std::string service = ch.param("service"); !service.empty()) url += cat("service=", url_escape(service), "&");
    url += cat("scope=", url_escape(scope_));
    if (std::string scope = ch.param("scope"); !scope.empty() && scope != scope_)
      url += cat("&scope=", url_escape(scope));

    Request req{.url = url};
    Authorization auth;
    if (creds_) auth = Authorization{.kind = Authorization::Kind::Basic, .basic = *creds_};
    BERTH_TRY_CTX(http.perform(req, auth), cat("get token from ", url_host(realm)));
    if (!req.resp.ok()) return http_error(req.resp).wrap(cat("get token from ", url_host(realm)));
    return parse_token_response(req.resp.body);
  }

  std::string base_;
  std::string scope_;
  bool plain_http_ = false;
  std::optional<Credentials> creds_;
  std::mutex mu_;
  Authorization auth_;
  uint64_t generation_ = 0;
};

// Serialises progress callbacks from the worker threads.
class Reporter {
 public:
  explicit Reporter(const std::function<void(const PullProgress&)>& cb) : cb_(cb) {}
  void operator()(const Descriptor& d, PullProgress::Phase phase, int64_t done) {
    if (!cb_) return;
    std::lock_guard lock(mu_);
    cb_(PullProgress{d.digest, d.media_type, phase, done, d.size});
  }

 private:
  const std::function<void(const PullProgress&)>& cb_;
  std::mutex mu_;
};

// A manifest or index as fetched, with the digest of its exact bytes.
struct Document {
  std::string body;
  Digest digest;
  std::string media_type;
};

// Fetches a manifest or index by tag or digest. By digest, the bytes must
// hash to it (and have `size` bytes, when known); by tag, the digest is
// computed, and must agree with the Docker-Content-Digest the registry sent.
Result<Document> fetch_document(Http& http, Session& session, const std::string& repository, const std::string& ref,
                                const std::optional<Digest>& expected, int64_t size = -1) {
  Request req{.accept = media::accept_header()};
  BERTH_TRY(session.get(http, cat("/v2/", repository, "/manifests/", ref), req));
  if (!req.resp.ok()) return http_error(req.resp);
  Document doc{std::move(req.resp.body), {}, {}};
  doc.digest = Digest::of(doc.body);
  if (expected && doc.digest != *expected) return make_error("digest mismatch: got ", doc.digest.str());
  if (size >= 0 && static_cast<int64_t>(doc.body.size()) != size)
    return make_error("size mismatch: got ", doc.body.size(), " bytes, want ", size);
  auto mt = sniff_media_type(doc.body);
  if (!mt) return std::move(mt).error();
  if (!media::is_index(*mt) && !media::is_manifest(*mt)) return make_error("unsupported media type ", quote(*mt));
  doc.media_type = std::move(*mt);
  if (!expected) {
    std::string said = req.resp.header("docker-content-digest");
    auto parsed = Digest::parse(said);
    if (!said.empty() && parsed && *parsed != doc.digest)
      return make_error("registry says digest ", said, " but the content is ", doc.digest.str());
  }
  return doc;
}

// Streams one blob into the store. The writer checks digest and size on
// commit; bytes beyond the descriptor's size stop the transfer at once.
Status fetch_blob(Http& http, Session& session, const std::string& repository, const ContentStore& store,
                  const Descriptor& d, Reporter& report, const std::atomic<bool>& cancel) {
  auto writer = store.writer(d.digest, d.size);
  if (!writer) return std::move(writer).error();
  int64_t reported = 0;
  Request req{.consume =
                  [&](const char* data, size_t len) -> Status {
                    if (writer->written() + len > static_cast<uint64_t>(d.size))
                      return make_error("more than the ", d.size, " bytes the manifest gives");
                    BERTH_TRY(writer->write(data, len));
                    auto done = static_cast<int64_t>(writer->written());
                    if (done - reported >= kProgressStep || done == d.size) {
                      reported = done;
                      report(d, PullProgress::Phase::Downloading, done);
                    }
                    return {};
                  },
              .cancel = &cancel};
  std::string what = cat("fetch blob ", d.digest.str());
  BERTH_TRY_CTX(session.get(http, cat("/v2/", repository, "/blobs/", d.digest.str()), req), what);
  if (!req.resp.ok()) return http_error(req.resp).wrap(what);
  report(d, PullProgress::Phase::Verifying, static_cast<int64_t>(writer->written()));
  BERTH_TRY(writer->commit());
  report(d, PullProgress::Phase::Done, d.size);
  return {};
}

// Fetches the blobs the store lacks, `parallel` at a time. The first error
// cancels the transfers still running and is the one returned.
Status fetch_blobs(Http& http, Session& session, const std::string& repository, const ContentStore& store,
                   const std::vector<Descriptor>& blobs, int parallel, Reporter& report) {
  std::vector<const Descriptor*> todo;
  std::set<Digest> seen;
  for (const auto& d : blobs) {
    if (!seen.insert(d.digest).second) continue;
    if (store.has(d.digest)) {
      report(d, PullProgress::Phase::Exists, d.size);
    } else {
      todo.push_back(&d);
      report(d, PullProgress::Phase::Waiting, 0);
    }
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> cancel{false};
  std::mutex error_mu;
  std::optional<Error> first_error;
  auto work = [&](Http& conn) {
    for (size_t i = next++; i < todo.size() && !cancel; i = next++) {
      Status st = fetch_blob(conn, session, repository, store, *todo[i], report, cancel);
      if (!st) {
        std::lock_guard lock(error_mu);
        if (!first_error) first_error = std::move(st).error();
        cancel = true;
      }
    }
  };

  size_t workers = std::clamp<size_t>(static_cast<size_t>(std::max(parallel, 1)), 1, std::max<size_t>(todo.size(), 1));
  std::vector<std::jthread> threads;
  for (size_t i = 1; i < workers; ++i) {
    try {
      threads.emplace_back([&] {
        Http conn;
        work(conn);
      });
    } catch (const std::system_error&) {
      break;  // fewer threads: the calling thread does the rest
    }
  }
  work(http);
  threads.clear();  // joins
  if (first_error) return *first_error;
  return {};
}

Result<std::optional<Credentials>> load_credentials(const PullOptions& options, const std::string& domain) {
  std::string path = options.docker_config.empty() ? default_docker_config_path() : options.docker_config;
  if (path.empty() || !path_exists(path)) return std::optional<Credentials>{};
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  auto creds = find_credentials(*text, domain);
  if (!creds) return std::move(creds).error().wrap(path);
  return creds;
}

// After a failed pull: removes the blobs it stored that no named image
// reaches, so that the store is as it was. A pull running at the same time
// that found such a blob already there would lose it: pulls of images that
// share layers are run one after another.
void forget_fresh_blobs(const ContentStore& store, const ImageIndex& index, const std::vector<Digest>& fresh) {
  std::set<Digest> keep;
  if (auto images = index.list())
    for (const auto& img : *images)
      if (auto reach = reachable_blobs(store, img.target))
        for (const auto& d : *reach) keep.insert(d.digest);
  for (const auto& d : fresh)
    if (!keep.count(d)) (void)store.remove(d);
}

Result<PullResult> pull_unwrapped(const Reference& ref, const ContentStore& store, const ImageIndex& index,
                                  const PullOptions& options) {
  curl_init_once();
  auto creds = load_credentials(options, ref.domain);
  if (!creds) return std::move(creds).error();
  Session session(ref, options, std::move(*creds));
  Http http;
  BERTH_TRY(session.probe(http));

  auto top = fetch_document(http, session, ref.repository, ref.manifest_ref(), ref.digest);
  if (!top) return std::move(top).error();
  PullResult result;
  result.target = Descriptor{.media_type = top->media_type,
                             .digest = top->digest,
                             .size = static_cast<int64_t>(top->body.size())};

  Document chosen;
  if (media::is_index(top->media_type)) {
    auto idx = parse_index(top->body);
    if (!idx) return std::move(idx).error().wrap(cat("index ", top->digest.str()));
    auto desc = select_platform(*idx, options.platform);
    if (!desc) return std::move(desc).error();
    std::string what = cat("fetch manifest ", desc->digest.str());
    auto doc = fetch_document(http, session, ref.repository, desc->digest.str(), desc->digest, desc->size);
    if (!doc) return std::move(doc).error().wrap(what);
    if (!media::is_manifest(doc->media_type))
      return make_error(what, ": ", quote(doc->media_type), " is not an image manifest");
    chosen = std::move(*doc);
    result.manifest = *desc;
    result.manifest.media_type = chosen.media_type;
  } else {
    chosen = *top;
    result.manifest = result.target;
  }

  auto manifest = parse_manifest(chosen.body);
  if (!manifest) return std::move(manifest).error().wrap(cat("manifest ", chosen.digest.str()));
  std::vector<Descriptor> blobs{manifest->config};
  blobs.insert(blobs.end(), manifest->layers.begin(), manifest->layers.end());
  Reporter report(options.progress);
  std::vector<Digest> fresh;
  for (const auto& b : blobs)
    if (!store.has(b.digest)) fresh.push_back(b.digest);
  if (auto st = fetch_blobs(http, session, ref.repository, store, blobs, options.parallel, report); !st) {
    forget_fresh_blobs(store, index, fresh);
    return std::move(st).error();
  }

  // The documents go in last, so a manifest in the store always has its
  // config and layers beside it.
  BERTH_TRY(store.put(chosen.body, chosen.digest));
  if (top->digest != chosen.digest) BERTH_TRY(store.put(top->body, top->digest));
  BERTH_TRY(index.put(ImageRecord{ref.str(), result.target, rfc3339_now()}));
  return result;
}

}  // namespace

Result<PullResult> pull(const Reference& ref, const ContentStore& store, const ImageIndex& index,
                        const PullOptions& options) {
  auto r = pull_unwrapped(ref, store, index, options);
  if (!r) return std::move(r).error().wrap(cat("pull ", ref.familiar()));
  return r;
}

}  // namespace berth::image
