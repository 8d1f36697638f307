#!/usr/bin/env bats
# berth-bench, a smoke run: a few containers with berth-runtime alone, no
# VM, checked through the JSON it writes (schema, sample counts, every
# number positive), the SVG, and that it leaves nothing behind. Then the
# errors for bad input. The full benchmark stays out of CI.
#
# berth-bench is $BERTH_BENCH, else the berth-bench next to $BERTH_RUNTIME
# (both live in build/src).

bats_require_minimum_version 1.5.0

BENCH_SRC_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BERTH_RUNTIME:=$BENCH_SRC_ROOT/build/src/berth-runtime}"
case $BERTH_RUNTIME in /*) ;; *) BERTH_RUNTIME=$PWD/$BERTH_RUNTIME ;; esac
: "${BERTH_BENCH:=$(dirname "$BERTH_RUNTIME")/berth-bench}"
case $BERTH_BENCH in /*) ;; *) BERTH_BENCH=$PWD/$BERTH_BENCH ;; esac

bench_env_problem() {
  [ "$(id -u)" = 0 ] || { echo "needs root (containers with namespaces and cgroups)"; return; }
  command -v jq >/dev/null 2>&1 || { echo "needs jq"; return; }
  [ -x "$BERTH_BENCH" ] || { echo "BERTH_BENCH=$BERTH_BENCH is not an executable (ninja -C build src/berth-bench)"; return; }
  [ -x "$BERTH_RUNTIME" ] || { echo "BERTH_RUNTIME=$BERTH_RUNTIME is not an executable"; return; }
  [ -x /bin/busybox ] || echo "needs /bin/busybox for the built-in bundle (apt install busybox-static)"
}

setup() {
  local why
  why=$(bench_env_problem)
  [ -z "$why" ] || skip "$why"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-e2e-bench.XXXXXX")
}

teardown() {
  [ -n "${WORK:-}" ] || return 0
  rm -rf "$WORK"
}

# bench ARG...: berth-bench with berth-runtime alone, its temporary
# directory in $WORK, under a time limit.
bench() {
  timeout -k 5 120 "$BERTH_BENCH" --berth "$BERTH_RUNTIME" --runtimes berth --workdir "$WORK" "$@"
}

# The cgroup parent a run used must be gone from every hierarchy.
assert_no_cgroup() {
  local parent=$1 mnt
  [[ $parent == /berth-bench-* ]]
  for mnt in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
    if [ -e "$mnt$parent" ]; then
      echo "left behind: $mnt$parent" >&2
      return 1
    fi
  done
}

# Only the files the test asked for remain in $WORK.
assert_work_holds() {
  local want=$1 have
  have=$(cd "$WORK" && ls -A | sort | tr '\n' ' ')
  echo "in $WORK: $have"
  [ "$have" = "$want" ]
}

@test "smoke run: JSON with every sample, positive numbers, SVG, nothing left behind" {
  run --separate-stderr bench --runs 6 --warmup 1 --concurrency 1,2 --concurrency-containers 4 \
    --trace-runs 3 --no-vm --json "$WORK/out.json" --svg "$WORK/out.svg"
  echo "status $status"
  echo "stdout: $output"
  echo "stderr: $stderr"
  [ "$status" -eq 0 ]
  [[ $output == *"wall time (ms)"* ]]
  [[ $output == *"berth phases"* ]]

  local j=$WORK/out.json
  jq -e '.schema == "berth-bench/1"' "$j"
  jq -e '.parameters.runs == 6 and .parameters.warmup == 1' "$j"
  jq -e '[.runtimes[].name] == ["berth"]' "$j"
  jq -e '.runtimes[0].version | startswith("berth-runtime")' "$j"
  jq -e '.sequential | keys == ["berth"]' "$j"
  jq -e '.sequential.berth.samples | length == 6' "$j"
  jq -e '.sequential.berth.samples | all(.wall_ms > 0 and .cpu_ms > 0 and .max_rss_kib > 0 and .exit_code == 0)' "$j"
  jq -e '.sequential.berth.samples | all((.cpu_ms - .user_ms - .sys_ms) | fabs < 0.001)' "$j"
  jq -e '.sequential.berth.samples | map(.order) == [1, 2, 3, 4, 5, 6]' "$j"
  jq -e '.sequential.berth.stats | [.wall_ms, .cpu_ms, .max_rss_kib] | all(.n == 6 and .p50 > 0 and .p50 <= .p90 and .p90 <= .p99 and .p99 <= .max)' "$j"
  jq -e '.ratios_to_berth == {}' "$j"
  jq -e '[.concurrency[] | [.runtime, .level, .containers]] == [["berth", 1, 4], ["berth", 2, 4]]' "$j"
  jq -e '.concurrency | all(.containers_per_s > 0 and .elapsed_ms > 0 and (.wall_ms | length) == 4)' "$j"
  jq -e '.phases.runs == 3 and (.phases.phases | length) > 0 and .phases.measured_wall_us > 0' "$j"
  jq -e '.phases.phases | any(.name == "clone" and .process == "runtime")' "$j"
  jq -e '.vm == null' "$j"
  jq -e '.machine.cpus > 0 and (.machine.kernel | length) > 0' "$j"
  jq -e '.cleanup.cgroups_left == []' "$j"

  local svg=$WORK/out.svg
  [ -s "$svg" ]
  head -c 200 "$svg" | grep -q '<svg '
  tail -c 10 "$svg" | grep -q '</svg>'
  [ "$(grep -c '<circle ' "$svg")" -eq 6 ]
  grep -q 'data-name="berth"' "$svg"
  grep -q 'log scale' "$svg"

  assert_no_cgroup "$(jq -r .parameters.cgroup_parent "$j")"
  assert_work_holds "out.json out.svg "
}

@test "a missing bundle: exit 1, the path named, nothing left behind" {
  run --separate-stderr bench --runs 1 --no-vm --bundle "$WORK/nosuch"
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *"$WORK/nosuch"* ]]
  [[ $stderr == *"No such file or directory"* ]]
  [ -z "$output" ]
  assert_work_holds ""
}

@test "a bundle without a valid config.json: exit 1" {
  mkdir "$WORK/bad"
  echo '{not json' >"$WORK/bad/config.json"
  run --separate-stderr bench --runs 1 --no-vm --bundle "$WORK/bad"
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *"config.json"* ]]
  rm -r "$WORK/bad"
  assert_work_holds ""
}

@test "an unknown runtime, a bad flag, a bad number: exit 1 with the reason" {
  run --separate-stderr "$BERTH_BENCH" --runtimes berth,docker --no-vm --workdir "$WORK"
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *'unknown runtime "docker"'* ]]

  run --separate-stderr "$BERTH_BENCH" --no-such-flag --workdir "$WORK"
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *"no-such-flag"* ]]

  run --separate-stderr "$BERTH_BENCH" --runs 0 --workdir "$WORK"
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *"--runs must be at least 1"* ]]

  run --separate-stderr "$BERTH_BENCH" --concurrency 1,zero --workdir "$WORK"
  [ "$status" -eq 1 ]
  [[ $stderr == *"--concurrency"* ]]

  run --separate-stderr "$BERTH_BENCH" --berth "$WORK/nosuch" --runtimes berth --no-vm --workdir "$WORK"
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *"$WORK/nosuch"* ]]
  assert_work_holds ""
}

@test "--help and --version" {
  run --separate-stderr "$BERTH_BENCH" --help
  [ "$status" -eq 0 ]
  [[ $output == *"--runtimes"* ]]
  [[ $output == *"--json"* ]]
  [[ $output == *"berth-bench(1)"* ]]
  run --separate-stderr "$BERTH_BENCH" --version
  [ "$status" -eq 0 ]
  [[ $output == "berth-bench version "* ]]
}
