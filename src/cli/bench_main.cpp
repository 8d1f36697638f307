// berth-bench: start-up of berth-runtime against runc, crun and a VM.
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>

#include "bench/bench.hpp"
#include "bench/exec_helper.hpp"
#include "bench/svg.hpp"
#include "cli/flags.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"
#include "version.hpp"

namespace {

using namespace berth;

const char* kDescription =
    "NAME:\n"
    "   berth-bench - start-up benchmark: berth-runtime vs runc, crun and a virtual machine\n\n"
    "USAGE:\n"
    "   berth-bench [options]\n\n"
    "DESCRIPTION:\n"
    "   Runs N containers (`RUNTIME --root R run --bundle B ID`, /bin/true in a busybox\n"
    "   bundle by default) with each runtime, interleaved after warm-up runs, and reports\n"
    "   p50/p90/p99/max of wall time, CPU time and peak RSS with the ratios berth/other;\n"
    "   then the same at 1, 2, 4, 8 containers at a time (containers per second), the\n"
    "   boot-to-exit time of a QEMU guest whose /init runs /bin/true, and berth's\n"
    "   per-phase breakdown (BERTH_TRACE). Needs root. Everything it creates (containers,\n"
    "   cgroups below /berth-bench-<pid>, its temporary directory, QEMU) is removed\n"
    "   before it exits.\n\n"
    "OPTIONS:\n";

void progress(std::string_view line) {
  std::string s = cat("berth-bench: ", line, "\n");
  (void)write_all(2, s, "stderr");
}

void on_signal(int) { bench::request_stop(); }

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking poll returns and the loop stops
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

int fail(const Error& e) {
  if (e.code() == EINTR && bench::stop_requested()) {
    progress("interrupted");
    return 130;
  }
  progress(e.message());
  return 1;
}

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  // Launcher mode first, before anything grows this process (exec_helper.hpp).
  if (argc > 1 && std::strcmp(argv[1], bench::kExecHelperFlag) == 0) return bench::exec_helper_main(argc, argv);
  bench::Options o;
  o.command_line.assign(argv, argv + argc);
  std::string runtimes = "berth,runc,crun", concurrency = "1,2,4,8", json_path, svg_path;
  bool no_vm = false, quiet = false, version = false;

  cli::FlagSet f;
  f.add_int("runs", 'n', &o.runs, "N", "measured runs per runtime (default 100)");
  f.add_int("warmup", 'w', &o.warmup, "N", "warm-up runs per runtime before them, not reported (default 10)");
  f.add_string("runtimes", 0, &runtimes, "LIST",
               "runtimes to compare, comma-separated, berth first in each round (default \"berth,runc,crun\"; "
               "without this flag a missing runc or crun is skipped, with it it is an error)");
  f.add_string("berth", 0, &o.berth, "PATH",
               "berth-runtime binary (default: next to berth-bench, else ../sbin of its prefix, else PATH)");
  f.add_string("runc", 0, &o.runc, "PATH", "runc binary (default: from PATH)");
  f.add_string("crun", 0, &o.crun, "PATH", "crun binary (default: from PATH)");
  f.add_string("bundle", 'b', &o.bundle, "DIR",
               "OCI bundle to run (default: a built-in busybox bundle running /bin/true)");
  f.add_string("busybox", 0, &o.busybox, "PATH",
               "static busybox for the built-in bundle and the VM's initramfs (default \"/bin/busybox\")");
  f.add_string("concurrency", 'c', &concurrency, "LIST",
               "containers at a time for the throughput test, comma-separated; \"none\" skips it (default \"1,2,4,8\")");
  f.add_int("concurrency-containers", 0, &o.concurrency_containers, "N",
            "containers per level and runtime in the throughput test (default 40)");
  f.add_int("trace-runs", 0, &o.trace_runs, "N",
            "berth runs with BERTH_TRACE for the per-phase breakdown; 0 skips it (default 30)");
  f.add_int("timeout", 't', &o.timeout_s, "SECONDS", "limit for one container run (default 60)");
  f.add_bool("no-vm", 0, &no_vm, "skip the virtual-machine baseline");
  f.add_int("vm-runs", 0, &o.vm_runs, "N", "measured VM boots, after one warm-up boot (default 5)");
  f.add_string("vm-accel", 0, &o.vm_accel, "auto|kvm|tcg",
               "QEMU accelerator; auto tries a KVM boot first and falls back to TCG (default \"auto\")");
  f.add_string("qemu", 0, &o.qemu, "PATH", "QEMU binary (default \"qemu-system-x86_64\")");
  f.add_string("kernel", 0, &o.kernel, "FILE",
               "guest kernel (default: from tests/vm's cache $BERTH_VM_CACHE or /var/cache/berth-vm, else --vm-cache, "
               "else downloaded with apt-get download linux-image-cloud-amd64)");
  f.add_string("vm-cache", 0, &o.vm_cache, "DIR", "where a downloaded kernel is kept (default \"/var/cache/berth-bench\")");
  f.add_int("vm-timeout", 0, &o.vm_timeout_s, "SECONDS", "limit for one VM boot (default 300)");
  f.add_string("workdir", 0, &o.workdir, "DIR", "where the temporary directory goes (default \"/tmp\")");
  f.add_string("json", 'j', &json_path, "FILE", "write every sample and the statistics as JSON to FILE");
  f.add_string("svg", 's', &svg_path, "FILE", "write the plot (SVG) to FILE");
  f.add_bool("quiet", 'q', &quiet, "no progress lines on stderr");
  f.add_bool("version", 'v', &version, "print the version");

  bool help = false;
  auto pos = f.parse(std::vector<std::string>(argv + 1, argv + argc), false, &help);
  if (!pos) return fail(pos.error());
  if (help) {
    std::string out = cat(kDescription, f.usage(), "\nSee berth-bench(1).\n");
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (version) {
    std::string out = cat("berth-bench version ", kBerthVersion, "\ncommit: ", kBerthCommit, "\n");
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (!pos->empty()) return fail(make_error("unexpected argument ", quote((*pos)[0]), " (see --help)"));
  o.runtimes.clear();
  for (const auto& r : split(runtimes, ','))
    if (auto t = trim(r); !t.empty()) o.runtimes.emplace_back(t);
  o.runtimes_given = runtimes != "berth,runc,crun";
  for (const auto& a : o.command_line)
    if (a == "--runtimes" || starts_with(a, "--runtimes=") || a == "-runtimes" || starts_with(a, "-runtimes="))
      o.runtimes_given = true;
  auto levels = bench::parse_levels(concurrency);
  if (!levels) return fail(levels.error());
  o.concurrency = *levels;
  o.vm = !no_vm;
  if (o.berth.empty()) o.berth = bench::default_berth_path(self_exe());
  if (!quiet) o.progress = progress;
  if (auto st = bench::validate(o); !st) return fail(st.error());

  install_handlers();
  auto r = bench::run_benchmark(o);
  if (!r) return fail(r.error());

  std::string table = bench::render_table(*r);
  std::fputs(table.c_str(), stdout);
  std::fflush(stdout);
  int rc = 0;
  if (!json_path.empty()) {
    std::string text = bench::to_json(*r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (auto st = write_file(json_path, text, true); !st) rc = fail(st.error().wrap("--json"));
    else progress(cat("wrote ", json_path));
  }
  if (!svg_path.empty()) {
    if (auto st = write_file(svg_path, bench::render_svg(*r), true); !st) rc = fail(st.error().wrap("--svg"));
    else progress(cat("wrote ", svg_path));
  }
  if (r->vm.requested && !r->vm.error.empty()) rc = 1;
  if (!r->cgroups_left.empty()) rc = 1;
  return rc;
}
