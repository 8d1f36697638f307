#include "bench/bench.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "bench/bundle.hpp"
#include "bench/vm.hpp"
#include "bench/workspace.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::bench {

namespace {

using json = nlohmann::json;

struct Runtime {
  std::string name;
  std::string binary;
  std::string root;
  std::vector<std::string> bundles;  // one per concurrency slot
  std::string stderr_log;
};

bool executable(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

std::string dirname_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

// "crun version 1.8.1" from a --version text; berth adds its commit.
std::string version_line(const std::string& text) {
  auto lines = split(std::string(trim(text)), '\n');
  if (lines.empty()) return "unknown";
  std::string v(trim(lines[0]));
  for (size_t i = 1; i < lines.size(); ++i)
    if (starts_with(lines[i], "commit: ") && starts_with(v, "berth")) v += cat(" (", trim(lines[i]), ")");
  return v;
}

std::vector<std::string> runtime_env(const std::vector<std::string>& extra) {
  auto env = environment_with(extra);
  bool keep_trace = false;
  for (const auto& e : extra)
    if (starts_with(e, "BERTH_TRACE=")) keep_trace = true;
  if (!keep_trace)
    env.erase(std::remove_if(env.begin(), env.end(), [](const std::string& e) { return starts_with(e, "BERTH_TRACE="); }),
              env.end());
  return env;
}

// The bundle's absolute path and config. Checked before anything is set up,
// so that a wrong --bundle fails at once and leaves nothing to clean up.
Result<std::pair<std::string, json>> open_bundle(const std::string& dir) {
  auto abs = absolute_path(dir);
  if (!abs) return std::move(abs).error().wrap("--bundle");
  auto config = load_config(*abs);
  if (!config) return std::move(config).error().wrap("--bundle");
  auto root = bench_config(*config, *abs, "").at("root").at("path").get<std::string>();
  struct stat st{};
  if (::stat(root.c_str(), &st) < 0) return sys_error("--bundle: root.path ", root);
  if (!S_ISDIR(st.st_mode)) return make_error("--bundle: root.path ", root, " is not a directory");
  return std::make_pair(*abs, std::move(*config));
}

class Driver {
 public:
  Driver(const Options& o, Workspace& w, Results& r) : o_(o), w_(w), r_(r) {}

  Status prepare();
  Status sanity_checks();
  Status sequential();
  Status concurrency();
  void trace_berth();
  void rss_floor();
  void vm();

 private:
  void say(const std::string& line) const {
    if (o_.progress) o_.progress(line);
  }
  Spawn spawn_for(const Runtime& rt, const std::string& id, int slot, const std::vector<std::string>& env) const {
    Spawn s;
    s.argv = {rt.binary, "--root", rt.root, "run", "--bundle", rt.bundles[static_cast<size_t>(slot)], id};
    s.env = env;
    s.stderr_path = rt.stderr_log;
    s.launcher = o_.launcher;
    return s;
  }
  Status check(const Runtime& rt, const Measurement& m, const std::string& id, const std::string& log) const;
  std::string next_id(const std::string& name, const std::string& kind) { return cat(name, "-", kind, counter_++); }

  const Options& o_;
  Workspace& w_;
  Results& r_;
  std::vector<Runtime> rts_;
  json base_config_;
  std::string base_bundle_;
  int counter_ = 0;
};

Status Driver::check(const Runtime& rt, const Measurement& m, const std::string& id, const std::string& log) const {
  std::string what = cat(rt.name, " run ", id);
  if (m.timed_out) return make_error(what, ": did not finish within ", o_.timeout_s, " s (killed)");
  if (m.exit_code != 0) {
    auto err = read_file(log);
    std::string tail = err ? std::string(trim(*err)) : std::string();
    if (tail.size() > 2000) tail = "..." + tail.substr(tail.size() - 2000);
    return make_error(what, ": exit status ", m.exit_code, tail.empty() ? "" : ": ", tail);
  }
  if (auto left = w_.containers_in(rt.name); !left.empty())
    return make_error(what, ": left ", join(left, ", "), " in its --root (run must delete its container)");
  return {};
}

Status Driver::prepare() {
  int slots = 1;
  for (int l : o_.concurrency) slots = std::max(slots, l);
  if (o_.bundle.empty()) {
    auto list = capture({o_.busybox, "--list"}, 30000);
    if (!list) return std::move(list).error().wrap("list busybox applets");
    base_bundle_ = w_.dir() + "/image";
    BERTH_TRY_CTX(write_busybox_rootfs(base_bundle_, o_.busybox, split(list->output, '\n')), "built-in bundle");
    base_config_ = builtin_config({"/bin/true"});
    r_.params.bundle = cat("built-in: busybox-static ", o_.busybox, ", tools/mkbundle.sh layout");
  } else {
    auto b = open_bundle(o_.bundle);
    if (!b) return std::move(b).error();
    base_bundle_ = std::move(b->first);
    base_config_ = std::move(b->second);
    r_.params.bundle = base_bundle_;
  }
  std::vector<std::string> args;
  if (base_config_.contains("process") && base_config_["process"].contains("args") &&
      base_config_["process"]["args"].is_array())
    for (const auto& a : base_config_["process"]["args"])
      if (a.is_string()) args.push_back(a.get<std::string>());
  r_.params.workload = args.empty() ? "?" : join(args, " ");

  for (const auto& info : r_.runtimes) {
    const std::string& name = info.name;
    const std::string& path = info.path;
    Runtime rt;
    rt.name = name;
    rt.binary = path;
    if (name == kBerth) {
      auto copy = w_.private_copy(path, "berth-runtime");
      if (!copy) return std::move(copy).error();
      rt.binary = *copy;
    }
    auto root = w_.state_root(name);
    if (!root) return std::move(root).error();
    rt.root = *root;
    auto b = w_.make_bundles(name, base_config_, base_bundle_, slots);
    if (!b) return std::move(b).error();
    rt.bundles = std::move(*b);
    rt.stderr_log = cat(w_.dir(), "/stderr-", name, ".log");
    w_.track_runtime(name, rt.binary);
    rts_.push_back(std::move(rt));
  }
  for (size_t i = 0; i < rts_.size(); ++i) {
    auto v = capture({rts_[i].binary, "--version"}, 30000);
    r_.runtimes[i].version = v && v->exit_code == 0 ? version_line(v->output) : "unknown (--version failed)";
  }
  return {};
}

Status Driver::sanity_checks() {
  auto env = runtime_env({});
  for (size_t i = 0; i < rts_.size();) {
    Runtime& rt = rts_[i];
    std::string id = next_id(rt.name, "check");
    auto m = run_measured(spawn_for(rt, id, 0, env), o_.timeout_s * 1000);
    if (!m) return std::move(m).error();
    Status st = check(rt, *m, id, rt.stderr_log);
    if (st) {
      ++i;
      continue;
    }
    if (rt.name == kBerth) return std::move(st).error().wrap("sanity check");
    say(cat("skipping ", rt.name, ": ", st.error().message()));
    r_.skipped.push_back(Skipped{rt.name, cat("failed its sanity run: ", st.error().message())});
    (void)w_.clean_runtimes();
    r_.runtimes.erase(r_.runtimes.begin() + static_cast<long>(i));
    rts_.erase(rts_.begin() + static_cast<long>(i));
  }
  return {};
}

Status Driver::sequential() {
  auto env = runtime_env({});
  auto schedule = interleave(rts_.size(), o_.warmup, o_.runs);
  r_.sequential.clear();
  for (const auto& rt : rts_) r_.sequential.push_back(Series{rt.name, {}, {}});
  size_t step = std::max<size_t>(1, schedule.size() / 10);
  say(cat("sequential: ", schedule.size(), " runs (", o_.warmup, " warm-up and ", o_.runs, " measured per runtime, ",
          "interleaved)"));
  for (size_t k = 0; k < schedule.size(); ++k) {
    const Slot& s = schedule[k];
    Runtime& rt = rts_[s.runtime];
    std::string id = next_id(rt.name, s.warmup ? "warm" : "");
    auto m = run_measured(spawn_for(rt, id, 0, env), o_.timeout_s * 1000);
    if (!m) return std::move(m).error();
    BERTH_TRY(check(rt, *m, id, rt.stderr_log));
    if (!s.warmup) {
      r_.sequential[s.runtime].samples.push_back(*m);
      r_.sequential[s.runtime].order.push_back(static_cast<int>(k));
    }
    if ((k + 1) % step == 0 || k + 1 == schedule.size()) say(cat("sequential: ", k + 1, "/", schedule.size()));
  }
  return {};
}

Status Driver::concurrency() {
  auto env = runtime_env({});
  for (size_t li = 0; li < o_.concurrency.size(); ++li) {
    int level = o_.concurrency[li];
    // The runtimes take turns, starting with a different one at each level.
    for (size_t j = 0; j < rts_.size(); ++j) {
      Runtime& rt = rts_[(li + j) % rts_.size()];
      std::vector<std::string> ids;
      for (int i = 0; i < o_.concurrency_containers; ++i) ids.push_back(next_id(rt.name, cat("c", level, "-")));
      auto b = run_batch(
          o_.concurrency_containers, level,
          [&](int i, int slot) {
            Spawn s = spawn_for(rt, ids[static_cast<size_t>(i)], slot, env);
            s.stderr_path = cat(w_.dir(), "/stderr-", rt.name, "-slot", slot, ".log");
            // Throughput needs no RSS: spawn directly, without the launcher's exec.
            s.launcher.clear();
            return s;
          },
          o_.timeout_s * 1000);
      if (!b) return std::move(b).error();
      for (size_t i = 0; i < b->runs.size(); ++i) {
        const Measurement& m = b->runs[i];
        if (m.timed_out || m.exit_code != 0)
          return make_error(rt.name, " run ", ids[i], " at concurrency ", level, ": ",
                            m.timed_out ? "timed out" : cat("exit status ", m.exit_code));
      }
      if (auto left = w_.containers_in(rt.name); !left.empty())
        return make_error(rt.name, " left ", join(left, ", "), " in its --root at concurrency ", level);
      ConcurrencyRun c;
      c.runtime = rt.name;
      c.level = level;
      c.elapsed_ms = b->elapsed_ms;
      c.runs = std::move(b->runs);
      say(cat("concurrency ", level, ": ", rt.name, " ", c.runs.size(), " containers in ", static_cast<int>(c.elapsed_ms),
              " ms"));
      r_.concurrency.push_back(std::move(c));
    }
  }
  return {};
}

void Driver::rss_floor() {
  // A command that does not exist: the launcher's forked child fails its
  // execve and exits, so its peak RSS is exactly the pre-exec part that every
  // measurement through the launcher includes.
  Spawn s;
  s.argv = {w_.dir() + "/no-such-program"};
  s.env = environment_with({});
  s.launcher = o_.launcher;
  long floor = -1;
  for (int i = 0; i < 5; ++i) {
    auto m = run_measured(s, 10000);
    if (!m || m->exit_code != 127) return;
    floor = floor < 0 ? m->max_rss_kib : std::min(floor, m->max_rss_kib);
  }
  r_.rss_floor_kib = floor;
}

void Driver::trace_berth() {
  const Runtime* berth = nullptr;
  for (const auto& rt : rts_)
    if (rt.name == kBerth) berth = &rt;
  if (!berth || o_.trace_runs <= 0) return;
  std::string file = w_.dir() + "/trace.jsonl";
  auto env = runtime_env({"BERTH_TRACE=" + file});
  std::vector<double> walls;
  say(cat("phases: ", o_.trace_runs, " berth runs with BERTH_TRACE"));
  for (int i = 0; i < o_.trace_runs; ++i) {
    std::string id = next_id(berth->name, "trace");
    auto m = run_measured(spawn_for(*berth, id, 0, env), o_.timeout_s * 1000);
    if (!m) {
      r_.phases_error = m.error().message();
      return;
    }
    if (auto st = check(*berth, *m, id, berth->stderr_log); !st) {
      r_.phases_error = st.error().message();
      return;
    }
    walls.push_back(m->wall_ms);
  }
  auto text = read_file(file);
  if (!text) {
    r_.phases_error = cat("berth-runtime wrote no trace (does this build support BERTH_TRACE?): ", text.error().message());
    return;
  }
  auto recs = parse_trace(*text);
  if (!recs) {
    r_.phases_error = recs.error().message();
    return;
  }
  if (recs->size() != walls.size()) {
    r_.phases_error = cat("berth-runtime wrote ", recs->size(), " trace records for ", walls.size(), " runs");
    return;
  }
  auto b = break_down(*recs, walls);
  if (!b) {
    r_.phases_error = b.error().message();
    return;
  }
  r_.phases = std::move(*b);
}

void Driver::vm() {
  VmResult& v = r_.vm;
  v.requested = true;
  v.series.name = "vm";
  auto fail = [&](const Error& e) { v.error = e.message(); };
  const char* tests_cache = std::getenv("BERTH_VM_CACHE");
  std::vector<std::string> caches = {tests_cache && *tests_cache ? tests_cache : "/var/cache/berth-vm", o_.vm_cache};
  say("vm: looking for the guest kernel");
  auto k = find_kernel(o_.kernel, caches, o_.vm_cache);
  if (!k) return fail(k.error());
  v.kernel = k->vmlinuz;
  v.kernel_package = k->package;
  v.kernel_source = k->source;
  std::string qemu = find_program(o_.qemu);
  if (!executable(qemu)) return fail(make_error(o_.qemu, " not found (apt install qemu-system-x86)"));
  if (auto ver = capture({qemu, "--version"}, 30000); ver && ver->exit_code == 0) v.qemu_version = version_line(ver->output);
  std::string vmdir = w_.dir() + "/vm";
  if (auto st = mkdir_all(vmdir, 0755); !st) return fail(st.error());
  VmConfig c;
  c.qemu = qemu;
  c.kernel = k->vmlinuz;
  c.initramfs = vmdir + "/initramfs.cpio";
  c.serial_log = vmdir + "/serial.log";
  if (auto st = write_initramfs(c.initramfs, o_.busybox); !st) return fail(st.error());

  // One boot; returns its measurement or why it did not work.
  auto boot = [&](const std::string& accel, int timeout_s) -> Result<Measurement> {
    c.accel = accel;
    ::unlink(c.serial_log.c_str());
    Spawn s;
    s.argv = qemu_argv(c);
    s.env = environment_with({});
    s.launcher = o_.launcher;
    s.stdout_path = vmdir + "/qemu.out";
    s.stderr_path = vmdir + "/qemu.out";
    auto m = run_measured(s, timeout_s * 1000);
    if (!m) return std::move(m).error();
    if (m->timed_out) return make_error("QEMU (", accel, ") did not power off within ", timeout_s, " s");
    auto log = read_file(c.serial_log);
    auto out = read_file(vmdir + "/qemu.out");
    std::string why = out ? std::string(trim(*out)) : "";
    if (m->exit_code != 0) return make_error("QEMU (", accel, ") exit status ", m->exit_code, why.empty() ? "" : ": ", why);
    if (!log || !vm_booted_ok(*log)) return make_error("the guest (", accel, ") did not report that /bin/true ran");
    return *m;
  };

  bool warmed = false;
  if (o_.vm_accel == "tcg") {
    v.accel = "tcg";
    v.accel_reason = "--vm-accel tcg";
  } else if (::access("/dev/kvm", R_OK | W_OK) < 0) {
    if (o_.vm_accel == "kvm") return fail(make_error("--vm-accel kvm: /dev/kvm is not usable"));
    v.accel = "tcg";
    v.accel_reason = "no usable /dev/kvm";
  } else {
    say("vm: trying a boot with KVM");
    auto probe = boot("kvm", o_.vm_accel == "kvm" ? o_.vm_timeout_s : 20);
    if (probe) {
      v.accel = "kvm";
      v.accel_reason = "a test boot with KVM completed";
      warmed = true;
    } else if (o_.vm_accel == "kvm") {
      return fail(probe.error());
    } else {
      v.accel = "tcg";
      v.accel_reason = cat("/dev/kvm is there but a test boot with it failed: ", probe.error().message());
    }
  }
  if (!warmed) {
    say(cat("vm: warm-up boot (", v.accel, ")"));
    if (auto m = boot(v.accel, o_.vm_timeout_s); !m) return fail(m.error());
  }
  c.accel = v.accel;
  v.argv = qemu_argv(c);
  for (int i = 0; i < o_.vm_runs; ++i) {
    auto m = boot(v.accel, o_.vm_timeout_s);
    if (!m) return fail(m.error());
    v.series.samples.push_back(*m);
    v.series.order.push_back(i);
    say(cat("vm: boot ", i + 1, "/", o_.vm_runs, ": ", static_cast<int>(m->wall_ms), " ms"));
  }
}

}  // namespace

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs = split(path ? path : "", ':');
  for (const char* d : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) dirs.push_back(d);
  for (const auto& d : dirs) {
    if (d.empty()) continue;
    std::string p = cat(d, "/", name);
    if (executable(p)) return p;
  }
  return "";
}

std::string default_berth_path(const std::string& self_exe) {
  std::string dir = dirname_of(self_exe);
  for (const auto& p : {dir + "/berth-runtime", dirname_of(dir) + "/sbin/berth-runtime"})
    if (executable(p)) return p;
  return find_program("berth-runtime");
}

Result<std::vector<int>> parse_levels(const std::string& s) {
  std::vector<int> out;
  if (s.empty() || s == "none") return out;
  for (const auto& part : split(s, ',')) {
    auto v = parse_int<int>(trim(part));
    if (!v || *v < 1 || *v > 256) return make_error("--concurrency: ", quote(part), " is not a number from 1 to 256");
    if (std::find(out.begin(), out.end(), *v) != out.end()) return make_error("--concurrency: ", *v, " given twice");
    out.push_back(*v);
  }
  return out;
}

Status validate(const Options& o) {
  if (o.runs < 1) return make_error("--runs must be at least 1");
  if (o.warmup < 0) return make_error("--warmup must not be negative");
  if (o.concurrency_containers < 1 && !o.concurrency.empty()) return make_error("--concurrency-containers must be at least 1");
  if (o.trace_runs < 0) return make_error("--trace-runs must not be negative");
  if (o.timeout_s < 1) return make_error("--timeout must be at least 1 second");
  if (o.vm && o.vm_runs < 1) return make_error("--vm-runs must be at least 1 (or use --no-vm)");
  if (o.vm_timeout_s < 1) return make_error("--vm-timeout must be at least 1 second");
  if (o.vm_accel != "auto" && o.vm_accel != "kvm" && o.vm_accel != "tcg")
    return make_error("--vm-accel must be auto, kvm or tcg, not ", quote(o.vm_accel));
  if (o.runtimes.empty()) return make_error("--runtimes names no runtime");
  std::set<std::string> seen;
  for (const auto& n : o.runtimes) {
    if (n != "berth" && n != "runc" && n != "crun")
      return make_error("--runtimes: unknown runtime ", quote(n), " (berth, runc, crun)");
    if (!seen.insert(n).second) return make_error("--runtimes: ", n, " given twice");
  }
  if (!seen.count("berth")) return make_error("--runtimes must include berth: every ratio is to berth");
  return {};
}

Result<Results> run_benchmark(const Options& o) {
  BERTH_TRY(validate(o));
  if (::geteuid() != 0) return make_error("berth-bench must run as root (the runtimes create namespaces and cgroups)");
  if (!o.bundle.empty()) BERTH_TRY(open_bundle(o.bundle));
  Results r;
  r.params.command_line = o.command_line;
  r.params.runs = o.runs;
  r.params.warmup = o.warmup;
  r.params.concurrency_levels = o.concurrency;
  r.params.concurrency_containers = o.concurrency.empty() ? 0 : o.concurrency_containers;
  r.params.trace_runs = o.trace_runs;
  r.params.vm_runs = o.vm ? o.vm_runs : 0;
  r.params.timeout_s = o.timeout_s;

  auto sel = select_runtimes(o.runtimes, [&](const std::string& name, std::string* why) -> std::optional<std::string> {
    std::string given = name == "berth" ? o.berth : name == "runc" ? o.runc : o.crun;
    std::string p = !given.empty() ? given : name == "berth" ? "" : find_program(name);
    if (name == "berth" && p.empty()) {
      *why = "berth-runtime not found: give --berth PATH";
      return std::nullopt;
    }
    if (p.empty() || !executable(p)) {
      *why = p.empty() ? cat(name, " is not in PATH") : cat(p, " is not an executable file");
      return std::nullopt;
    }
    auto abs = absolute_path(p);
    return abs ? *abs : p;
  });
  for (const auto& s : sel.skipped) {
    if (s.name == kBerth || o.runtimes_given) return make_error(s.name, ": ", s.reason);
    if (o.progress) o.progress(cat("skipping ", s.name, ": ", s.reason));
  }
  r.skipped = sel.skipped;
  for (const auto& [name, path] : sel.found) r.runtimes.push_back(RuntimeInfo{name, path, ""});

  WorkspaceOptions wo;
  wo.parent_dir = o.workdir;
  auto ws = Workspace::create(wo);
  if (!ws) return std::move(ws).error().wrap("set up the benchmark");
  Workspace& w = **ws;
  r.cgroups = w.cgroups().describe();
  r.controllers_hidden = w.controllers_hidden();
  r.params.cgroup_parent = "/" + w.cgroup_name();
  r.machine = read_machine();
  r.load_start = load_average();

  Driver d(o, w, r);
  BERTH_TRY_CTX(d.prepare(), "prepare");
  d.rss_floor();
  BERTH_TRY(d.sanity_checks());
  BERTH_TRY(d.sequential());
  BERTH_TRY(d.concurrency());
  d.trace_berth();
  if (stop_requested()) return Error(EINTR, "interrupted");
  if (o.vm) d.vm();
  if (stop_requested()) return Error(EINTR, "interrupted");
  r.load_end = load_average();
  r.cgroups_left = w.clean_runtimes();
  if (r.controllers_hidden)
    r.notes.push_back("cgroup v2's cgroup.controllers was hidden (an empty file bound over it, in berth-bench's private "
                      "mount namespace only) for every runtime, so that crun accepts the hybrid layout");
  return r;
}

}  // namespace berth::bench
