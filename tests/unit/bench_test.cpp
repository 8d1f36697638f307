// berth-bench's pure parts: the statistics every reported number goes
// through, the interleaved schedule, the JSON document's schema, the SVG
// plot, the trace breakdown and the small formats (launcher report, cpio,
// bundle config, mountinfo). Nothing here runs a container.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "bench/bundle.hpp"
#include "bench/exec_helper.hpp"
#include "bench/host.hpp"
#include "bench/interleave.hpp"
#include "bench/phases.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "bench/svg.hpp"
#include "bench/vm.hpp"

namespace {

using namespace berth::bench;
using nlohmann::json;

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

Measurement sample(double wall, double user, double sys, long rss) {
  Measurement m;
  m.wall_ms = wall;
  m.user_ms = user;
  m.sys_ms = sys;
  m.max_rss_kib = rss;
  m.exit_code = 0;
  return m;
}

// berth: wall 1..10 ms; crun: twice that; CPU and RSS likewise.
Results fake_results() {
  Results r;
  r.machine = Machine{"Linux 6.18.0 x86_64", "Test CPU", 2, 24u * 1024 * 1024, "2026-01-01T00:00:00Z"};
  r.load_start = "0.10 0.20 0.30";
  r.load_end = "0.40 0.50 0.60";
  r.cgroups = "hybrid (cgroup v1 controllers; cgroup v2 at /sys/fs/cgroup/unified with: hugetlb)";
  r.controllers_hidden = true;
  r.params.command_line = {"berth-bench", "--runs", "10"};
  r.params.runs = 10;
  r.params.warmup = 2;
  r.params.concurrency_levels = {1, 2};
  r.params.concurrency_containers = 4;
  r.params.trace_runs = 0;
  r.params.vm_runs = 3;
  r.params.timeout_s = 60;
  r.params.bundle = "built-in";
  r.params.workload = "/bin/true";
  r.params.cgroup_parent = "/berth-bench-1";
  r.runtimes = {{"berth", "/b/berth-runtime", "berth-runtime version 0.1.0"}, {"crun", "/usr/bin/crun", "crun version 1.8.1"}};
  r.skipped = {{"runc", "runc is not in PATH"}};
  Series b{"berth", {}, {}}, c{"crun", {}, {}};
  for (int i = 1; i <= 10; ++i) {
    b.samples.push_back(sample(i, i * 0.25, i * 0.25, 1000 + i));
    b.order.push_back(2 * (i - 1));
    c.samples.push_back(sample(2.0 * i, i * 0.5, i * 0.5, 2 * (1000 + i)));
    c.order.push_back(2 * (i - 1) + 1);
  }
  r.sequential = {b, c};
  for (int level : {1, 2})
    for (const char* rt : {"berth", "crun"}) {
      ConcurrencyRun cr;
      cr.runtime = rt;
      cr.level = level;
      cr.elapsed_ms = 100.0 / level;
      for (int i = 0; i < 4; ++i) cr.runs.push_back(sample(5, 1, 1, 1000));
      r.concurrency.push_back(cr);
    }
  r.vm.requested = true;
  r.vm.accel = "tcg";
  r.vm.accel_reason = "--vm-accel tcg";
  r.vm.kernel = "/var/cache/berth-vm/kernel/linux-image-6.1.0-41-cloud-amd64/vmlinuz";
  r.vm.kernel_package = "linux-image-6.1.0-41-cloud-amd64";
  r.vm.kernel_source = "cache";
  r.vm.qemu_version = "QEMU emulator version 7.2.0";
  r.vm.argv = {"qemu-system-x86_64", "-accel", "tcg"};
  r.vm.series.name = "vm";
  for (int i = 0; i < 3; ++i) {
    r.vm.series.samples.push_back(sample(2000 + 100 * i, 1500, 300, 200000));
    r.vm.series.order.push_back(i);
  }
  r.rss_floor_kib = 120;
  return r;
}

}  // namespace

TEST_SUITE("bench") {

TEST_CASE("percentile: nearest rank, always a measured sample") {
  std::vector<double> v = {7, 1, 10, 3, 9, 2, 8, 4, 6, 5};  // 1..10, unsorted
  CHECK(*percentile(v, 0) == 1);
  CHECK(*percentile(v, 10) == 1);
  CHECK(*percentile(v, 11) == 2);
  CHECK(*percentile(v, 50) == 5);  // lower middle of an even count
  CHECK(*percentile(v, 90) == 9);  // rank ceil(9.0) = 9, not 10 by rounding error
  CHECK(*percentile(v, 99) == 10);
  CHECK(*percentile(v, 100) == 10);
  CHECK(*percentile({4.5}, 50) == 4.5);
  CHECK(*percentile({3, 1, 2}, 50) == 2);

  std::vector<double> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  CHECK(*percentile(hundred, 50) == 50);
  CHECK(*percentile(hundred, 90) == 90);
  CHECK(*percentile(hundred, 99) == 99);
}

TEST_CASE("percentile: errors") {
  CHECK_FALSE(percentile({}, 50));
  CHECK_FALSE(percentile({1, NAN}, 50));
  CHECK_FALSE(percentile({1, 2}, -1));
  CHECK_FALSE(percentile({1, 2}, 100.5));
  CHECK_FALSE(percentile({1, 2}, NAN));
  CHECK(percentile({}, 50).error().message().find("no samples") != std::string::npos);
}

TEST_CASE("summarize") {
  auto s = summarize({5, 1, 4, 2, 3});
  REQUIRE(s);
  CHECK(s->n == 5);
  CHECK(s->min == 1);
  CHECK(s->p25 == 2);
  CHECK(s->p50 == 3);
  CHECK(s->p75 == 4);
  CHECK(s->p90 == 5);
  CHECK(s->p99 == 5);
  CHECK(s->max == 5);
  CHECK(s->mean == doctest::Approx(3));
  CHECK_FALSE(summarize({}));
}

TEST_CASE("ratio: berth / other, nothing for a missing denominator") {
  CHECK(*ratio(8, 10) == doctest::Approx(0.8));
  CHECK(*ratio(30, 10) == doctest::Approx(3));
  CHECK(*ratio(0, 10) == 0);
  CHECK_FALSE(ratio(1, 0));
  CHECK_FALSE(ratio(1, -2));
  CHECK_FALSE(ratio(1, NAN));
  CHECK_FALSE(ratio(NAN, 1));
}

TEST_CASE("interleave: warm-up rounds, then measured rounds, A B C A B C") {
  auto s = interleave(3, 2, 3);
  REQUIRE(s.size() == 15);
  std::vector<size_t> order;
  for (const auto& x : s) order.push_back(x.runtime);
  CHECK(order == std::vector<size_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2});
  for (size_t i = 0; i < 6; ++i) CHECK(s[i].warmup);
  for (size_t i = 6; i < 15; ++i) CHECK_FALSE(s[i].warmup);
  CHECK(s[0].iteration == 0);
  CHECK(s[5].iteration == 1);
  CHECK(s[6].iteration == 0);
  CHECK(s[14].iteration == 2);
  // Every runtime gets the same number of measured runs.
  for (size_t rt = 0; rt < 3; ++rt)
    CHECK(std::count_if(s.begin(), s.end(), [&](const Slot& x) { return x.runtime == rt && !x.warmup; }) == 3);
}

TEST_CASE("interleave: edge cases") {
  CHECK(interleave(0, 5, 5).empty());
  CHECK(interleave(2, 0, 0).empty());
  CHECK(interleave(2, -1, 1).size() == 2);
  auto one = interleave(1, 1, 2);
  REQUIRE(one.size() == 3);
  CHECK(one[0].warmup);
  CHECK_FALSE(one[2].warmup);
}

TEST_CASE("select_runtimes keeps the requested order and says why one is missing") {
  auto sel = select_runtimes({"berth", "runc", "crun"}, [](const std::string& n, std::string* why) -> std::optional<std::string> {
    if (n == "runc") {
      *why = "runc is not in PATH";
      return std::nullopt;
    }
    return "/x/" + n;
  });
  REQUIRE(sel.found.size() == 2);
  CHECK(sel.found[0] == std::make_pair(std::string("berth"), std::string("/x/berth")));
  CHECK(sel.found[1].first == "crun");
  REQUIRE(sel.skipped.size() == 1);
  CHECK(sel.skipped[0].name == "runc");
  CHECK(sel.skipped[0].reason == "runc is not in PATH");
}

TEST_CASE("parse_levels and validate: clear errors for bad input") {
  CHECK(*parse_levels("1,2,4,8") == std::vector<int>{1, 2, 4, 8});
  CHECK(parse_levels("none")->empty());
  CHECK(parse_levels("")->empty());
  CHECK(*parse_levels(" 3 ") == std::vector<int>{3});
  CHECK_FALSE(parse_levels("0"));
  CHECK_FALSE(parse_levels("1,x"));
  CHECK_FALSE(parse_levels("1,,2"));
  CHECK_FALSE(parse_levels("257"));
  CHECK(parse_levels("2,2").error().message() == "--concurrency: 2 given twice");

  Options o;
  CHECK(validate(o));
  auto bad = [](auto edit) {
    Options x;
    edit(x);
    auto st = validate(x);
    REQUIRE_FALSE(st);
    return st.error().message();
  };
  CHECK(bad([](Options& x) { x.runs = 0; }) == "--runs must be at least 1");
  CHECK(bad([](Options& x) { x.warmup = -1; }) == "--warmup must not be negative");
  CHECK(bad([](Options& x) { x.runtimes = {"berth", "docker"}; }).find("unknown runtime \"docker\"") !=
        std::string::npos);
  CHECK(bad([](Options& x) { x.runtimes = {"berth", "crun", "crun"}; }) == "--runtimes: crun given twice");
  CHECK(bad([](Options& x) { x.runtimes = {"crun"}; }).find("must include berth") != std::string::npos);
  CHECK(bad([](Options& x) { x.runtimes.clear(); }) == "--runtimes names no runtime");
  CHECK(bad([](Options& x) { x.vm_accel = "hvf"; }).find("auto, kvm or tcg") != std::string::npos);
  CHECK(bad([](Options& x) { x.vm_runs = 0; }).find("--vm-runs") != std::string::npos);
  Options novm;
  novm.vm = false;
  novm.vm_runs = 0;
  CHECK(validate(novm));
}

TEST_CASE("series_stats: wall, CPU = user + sys, peak RSS") {
  Results r = fake_results();
  auto st = series_stats(r.sequential[0]);
  REQUIRE(st);
  CHECK(st->wall.p50 == 5);
  CHECK(st->wall.p90 == 9);
  CHECK(st->wall.p99 == 10);
  CHECK(st->wall.max == 10);
  CHECK(st->cpu.p50 == doctest::Approx(2.5));
  CHECK(st->rss.p50 == 1005);
  CHECK_FALSE(series_stats(Series{"empty", {}, {}}));
}

TEST_CASE("JSON output: schema berth-bench/1 with every raw sample") {
  Results r = fake_results();
  json j = to_json(r);
  CHECK(j["schema"] == "berth-bench/1");
  for (const char* key : {"command", "machine", "parameters", "runtimes", "skipped", "sequential", "ratios_to_berth",
                          "concurrency", "vm", "phases", "targets", "cleanup", "notes", "rss_floor_kib"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["command"] == json({"berth-bench", "--runs", "10"}));
  for (const char* key : {"kernel", "cpu_model", "cpus", "memory_kib", "date", "load_average_start", "load_average_end",
                          "cgroups", "cgroup_controllers_hidden"})
    CHECK_MESSAGE(j["machine"].contains(key), key);
  CHECK(j["parameters"]["runs"] == 10);
  CHECK(j["parameters"]["warmup"] == 2);
  CHECK(j["parameters"]["concurrency_levels"] == json({1, 2}));
  CHECK(j["runtimes"].size() == 2);
  CHECK(j["runtimes"][0]["name"] == "berth");
  CHECK(j["runtimes"][1]["version"] == "crun version 1.8.1");
  CHECK(j["skipped"][0]["name"] == "runc");

  for (const char* rt : {"berth", "crun"}) {
    const json& s = j["sequential"][rt];
    REQUIRE(s["samples"].is_array());
    CHECK(s["samples"].size() == 10);
    for (const auto& x : s["samples"]) {
      for (const char* key : {"wall_ms", "user_ms", "sys_ms", "cpu_ms", "max_rss_kib", "exit_code", "order"})
        CHECK_MESSAGE(x.contains(key), key);
      CHECK(x["cpu_ms"].get<double>() == doctest::Approx(x["user_ms"].get<double>() + x["sys_ms"].get<double>()));
    }
    for (const char* metric : {"wall_ms", "cpu_ms", "max_rss_kib"})
      for (const char* key : {"n", "min", "p25", "p50", "p75", "p90", "p99", "max", "mean"})
        CHECK_MESSAGE(s["stats"][metric].contains(key), metric, ".", key);
  }
  CHECK(j["sequential"]["berth"]["stats"]["wall_ms"]["p50"] == 5.0);
  CHECK(j["sequential"]["crun"]["stats"]["wall_ms"]["p90"] == 18.0);

  // Ratios are berth / other.
  CHECK_FALSE(j["ratios_to_berth"].contains("berth"));
  CHECK(j["ratios_to_berth"]["crun"]["wall_ms"]["p50"].get<double>() == doctest::Approx(0.5));
  CHECK(j["ratios_to_berth"]["crun"]["cpu_ms"]["p99"].get<double>() == doctest::Approx(0.5));
  CHECK(j["ratios_to_berth"]["crun"]["max_rss_kib"]["p50"].get<double>() == doctest::Approx(0.5));
  CHECK(j["ratios_to_berth"]["vm"]["wall_ms"]["p50"].get<double>() == doctest::Approx(5.0 / 2100));

  REQUIRE(j["concurrency"].size() == 4);
  const json& c = j["concurrency"][2];
  CHECK(c["runtime"] == "berth");
  CHECK(c["level"] == 2);
  CHECK(c["containers"] == 4);
  CHECK(c["containers_per_s"].get<double>() == doctest::Approx(80));
  CHECK(c["wall_ms"].size() == 4);

  CHECK(j["vm"]["accel"] == "tcg");
  CHECK(j["vm"]["samples"].size() == 3);
  CHECK(j["vm"]["error"].is_null());
  CHECK(j["vm"]["kernel_package"] == "linux-image-6.1.0-41-cloud-amd64");
  CHECK(j["phases"].is_null());

  REQUIRE(j["targets"].size() == 3);
  for (const auto& t : j["targets"]) {
    CHECK(t["met"] == true);
    CHECK(t["ratio"].get<double>() == doctest::Approx(0.5));
  }
  CHECK(j["cleanup"]["cgroups_left"].empty());
  // It survives a round trip through text.
  CHECK(json::parse(j.dump()) == j);
}

TEST_CASE("JSON output: a missed target, no crun, no VM") {
  Results r = fake_results();
  std::swap(r.sequential[0].samples, r.sequential[1].samples);  // berth now the slow one
  json j = to_json(r);
  for (const auto& t : j["targets"]) CHECK(t["met"] == false);

  r.sequential.pop_back();
  r.runtimes.pop_back();
  r.vm = VmResult{};
  j = to_json(r);
  CHECK_FALSE(j.contains("targets"));
  CHECK(j["ratios_to_berth"].empty());
  CHECK(j["vm"].is_null());
  std::string table = render_table(r);
  CHECK(table.find("crun was not measured") != std::string::npos);
}

TEST_CASE("table: percentiles and ratios to berth") {
  Results r = fake_results();
  std::string t = render_table(r);
  CHECK(t.find("wall time (ms)") != std::string::npos);
  CHECK(t.find("p99") != std::string::npos);
  CHECK(t.find("vm (qemu, tcg)") != std::string::npos);
  CHECK(t.find("median wall time <= 0.8 x crun: met") != std::string::npos);
  CHECK(t.find("skipped runc: runc is not in PATH") != std::string::npos);
  CHECK(t.find("containers per second") != std::string::npos);
}

TEST_CASE("SVG: one group per series, a dot per sample, log axis, caption") {
  Results r = fake_results();
  std::string svg = render_svg(r);
  CHECK(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0) == 0);
  CHECK(svg.size() > 1000);
  CHECK(svg.find("</svg>\n") == svg.size() - 7);
  CHECK(count(svg, "<g class=\"series\"") == 3);
  CHECK(svg.find("data-name=\"berth\"") != std::string::npos);
  CHECK(svg.find("data-name=\"crun\"") != std::string::npos);
  CHECK(svg.find("data-name=\"VM (QEMU tcg)\"") != std::string::npos);
  CHECK(count(svg, "<circle ") == 10 + 10 + 3);
  CHECK(count(svg, "<g") == count(svg, "</g>"));
  // Decades from 1 ms (berth's fastest) to 10 s (the VM's slowest).
  for (const char* tick : {">1 ms<", ">10 ms<", ">100 ms<", ">1 s<", ">10 s<"}) CHECK_MESSAGE(svg.find(tick) != std::string::npos, tick);
  CHECK(svg.find("log scale") != std::string::npos);
  CHECK(svg.find("Linux 6.18.0 x86_64") != std::string::npos);
  CHECK(svg.find("crun version 1.8.1") != std::string::npos);
  CHECK(svg.find("software emulation (TCG)") != std::string::npos);
  CHECK(svg.find("linux-image-6.1.0-41-cloud-amd64") != std::string::npos);
}

TEST_CASE("SVG: log scale puts equal ratios at equal distances, and text is escaped") {
  std::string svg = render_svg("a<b & \"c\"", {"x'y"}, {{"s", {1, 10, 100}}});
  CHECK(svg.find("a&lt;b &amp; &quot;c&quot;") != std::string::npos);
  CHECK(svg.find("x&apos;y") != std::string::npos);
  std::vector<double> cx;
  for (size_t at = svg.find("<circle cx=\""); at != std::string::npos; at = svg.find("<circle cx=\"", at + 1))
    cx.push_back(std::stod(svg.substr(at + 12)));
  REQUIRE(cx.size() == 3);
  CHECK(cx[1] - cx[0] == doctest::Approx(cx[2] - cx[1]).epsilon(0.01));
  CHECK(cx[0] < cx[1]);

  std::string empty = render_svg("t", {}, {{"none", {}}});
  CHECK(empty.find("no samples") != std::string::npos);
  CHECK(xml_escape("\x01ok\n") == " ok\n");
}

TEST_CASE("trace: parse berth-runtime's records and take medians per phase") {
  std::string text;
  for (int i = 1; i <= 3; ++i) {
    json rec = {{"id", "c" + std::to_string(i)},
                {"command", "run"},
                {"pid", 100 + i},
                {"wall_us", 10000 * i},
                {"phases",
                 {{{"name", "parse"}, {"process", "runtime"}, {"start_us", 100}, {"wall_us", 200 * i}, {"cpu_us", 150}},
                  {{"name", "mounts"}, {"process", "init"}, {"start_us", 500}, {"wall_us", 1000}, {"cpu_us", 900}},
                  {{"name", "clone"}, {"process", "runtime"}, {"start_us", 400}, {"wall_us", 300}, {"cpu_us", 50}},
                  {{"name", "clone"}, {"process", "runtime"}, {"start_us", 2000}, {"wall_us", 100}, {"cpu_us", 10}}}}};
    text += rec.dump() + "\n\n";
  }
  auto recs = parse_trace(text);
  REQUIRE(recs);
  REQUIRE(recs->size() == 3);
  CHECK((*recs)[1].id == "c2");
  CHECK((*recs)[2].phases.size() == 4);

  auto b = break_down(*recs, {12.0, 22.0, 32.0});
  REQUIRE(b);
  CHECK(b->runs == 3);
  CHECK(b->measured_wall_us == 22000);
  CHECK(b->traced_wall_us == 20000);
  CHECK(b->outside_main_us == 2000);
  CHECK(b->before_first_phase_us == 100);
  REQUIRE(b->phases.size() == 3);
  CHECK(b->phases[0].name == "parse");  // ordered by start
  CHECK(b->phases[0].wall_us == 400);
  CHECK(b->phases[1].name == "clone");
  CHECK(b->phases[1].wall_us == 400);  // both clone phases of a run, summed
  CHECK(b->phases[1].cpu_us == 60);
  CHECK(b->phases[2].process == "init");
  CHECK(b->init_cpu_in_phases_us == 900);

  CHECK_FALSE(parse_trace("{\"id\":1}\n"));
  CHECK_FALSE(parse_trace("not json\n"));
  CHECK_FALSE(break_down({}, {}));
  CHECK_FALSE(break_down(*recs, {1.0}));
}

TEST_CASE("launcher report line") {
  long long wall = 0, user = 0, sys = 0;
  long rss = 0;
  int code = 0, late = 0;
  CHECK(parse_helper_report("1500000 700 800 1432 0 0\n", &wall, &user, &sys, &rss, &code, &late));
  CHECK(wall == 1500000);
  CHECK(user == 700);
  CHECK(sys == 800);
  CHECK(rss == 1432);
  CHECK(code == 0);
  CHECK(late == 0);
  CHECK_FALSE(parse_helper_report("1 2 3 4 5 6", &wall, &user, &sys, &rss, &code, &late));
  CHECK_FALSE(parse_helper_report("1 2 3\n", &wall, &user, &sys, &rss, &code, &late));
  CHECK_FALSE(parse_helper_report("", &wall, &user, &sys, &rss, &code, &late));
}

TEST_CASE("cpio newc: headers, 4-byte alignment, trailer") {
  std::string a = cpio_newc({{"init", 0100755, "abc", 0, 0}, {"dev/console", 020600, "", 5, 1}});
  CHECK(a.size() % 4 == 0);
  CHECK(a.rfind("070701", 0) == 0);
  CHECK(count(a, "070701") == 3);
  CHECK(a.find("TRAILER!!!") != std::string::npos);
  // First header: ino 1, mode 0100755, filesize 3, namesize 5 ("init\0").
  CHECK(a.substr(6, 8) == "00000001");
  CHECK(a.substr(14, 8) == "000081ED");
  CHECK(a.substr(54, 8) == "00000003");
  CHECK(a.substr(94, 8) == "00000005");
  CHECK(a.substr(110, 4) == "init");
  // Header 110 + name 5 = 115, padded to 116; data 3 padded to 4.
  CHECK(a.substr(116, 3) == "abc");
  CHECK(a.substr(120, 6) == "070701");
  // The console's device numbers 5:1 go into rdevmajor and rdevminor.
  CHECK(a.substr(120 + 78, 16) == "0000000500000001");

  std::string init = vm_init_script();
  CHECK(init.rfind("#!/bin/busybox sh\n", 0) == 0);
  CHECK(init.find("/bin/true") != std::string::npos);
  CHECK(init.find("poweroff -f") != std::string::npos);
  CHECK(vm_booted_ok(std::string("noise\n") + kVmMarker + "\n"));
  CHECK_FALSE(vm_booted_ok("berth-bench-vm: /bin/true exited 1\n"));
}

TEST_CASE("qemu command line: the accelerator asked for, no reboot, serial to a file") {
  VmConfig c{"/usr/bin/qemu-system-x86_64", "tcg", "/k/vmlinuz", "/w/initramfs.cpio", "/w/serial.log", 256, 1};
  auto argv = qemu_argv(c);
  auto has = [&](const std::string& a, const std::string& b) {
    for (size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == a && argv[i + 1] == b) return true;
    return false;
  };
  CHECK(argv[0] == "/usr/bin/qemu-system-x86_64");
  CHECK(has("-accel", "tcg"));
  CHECK(has("-M", "pc"));
  CHECK(has("-kernel", "/k/vmlinuz"));
  CHECK(has("-initrd", "/w/initramfs.cpio"));
  CHECK(has("-serial", "file:/w/serial.log"));
  CHECK(std::find(argv.begin(), argv.end(), "-no-reboot") != argv.end());
}

TEST_CASE("bench_config: absolute root, own cgroup, ociVersion crun accepts") {
  json base = builtin_config({"/bin/true"});
  CHECK(base["process"]["args"] == json({"/bin/true"}));
  CHECK(base["root"]["readonly"] == true);
  std::set<std::string> ns;
  for (const auto& n : base["linux"]["namespaces"]) ns.insert(n["type"].get<std::string>());
  CHECK(ns == std::set<std::string>{"pid", "network", "ipc", "uts", "mount", "cgroup"});

  json c = bench_config(base, "/w/image", "/berth-bench-7/berth-0");
  CHECK(c["root"]["path"] == "/w/image/rootfs");
  CHECK(c["linux"]["cgroupsPath"] == "/berth-bench-7/berth-0");
  CHECK(c["ociVersion"] == "1.0.2");
  CHECK(c["mounts"] == base["mounts"]);

  json abs = {{"root", {{"path", "/srv/rootfs/"}}}};
  json d = bench_config(abs, "/elsewhere", "/p/c");
  CHECK(d["root"]["path"] == "/srv/rootfs");
  CHECK(d["linux"]["cgroupsPath"] == "/p/c");
}

TEST_CASE("cgroup mounts from mountinfo") {
  std::string mi =
      "24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
      "30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:5 - cgroup2 cgroup2 rw\n"
      "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:6 - cgroup cgroup rw,cpu,cpuacct\n"
      "32 25 0:28 / /sys/fs/cgroup/with\\040space rw shared:7 - cgroup cgroup rw,pids\n"
      "33 25 0:29 / /proc rw shared:8 - proc proc rw\n";
  auto m = cgroup_mounts_from(mi);
  REQUIRE(m.size() == 3);
  CHECK(m[0] == std::make_pair(std::string("/sys/fs/cgroup/unified"), std::string("cgroup2")));
  CHECK(m[1].first == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(m[2].first == "/sys/fs/cgroup/with space");

  Cgroups c;
  c.layout = Cgroups::Layout::hybrid;
  c.v2_mount = "/sys/fs/cgroup/unified";
  c.v2_controllers = "hugetlb";
  CHECK(c.describe().find("hybrid") == 0);
  CHECK(remove_cgroup_trees({"/nonexistent"}, "../x").empty());
}

}  // TEST_SUITE
