#!/usr/bin/env bats
# containerd 1.6 from Debian, started by this file with a config, root,
# state, socket and log of its own (the CRI plugin disabled), and ctr as its
# client: `ctr run --runtime io.containerd.runc.v2 --runc-binary RUNTIME`
# makes containerd-shim-runc-v2 drive RUNTIME through go-runc exactly as it
# drives runc (`--root /run/containerd/runc/<ns> --log <bundle>/log.json
# --log-format json create --bundle B --pid-file P ID`, then start, exec
# --process, ps --format json, pause, resume, kill, delete). Every scenario
# runs with runc and with berth-runtime.

load callers

# ctr's namespace; it is also the cgroup parent ctr's default spec uses
# (cgroupsPath /<namespace>/<id>).
CTR_NS="test"

setup_file() {
  CALLERS_SKIP=$(callers_env_problem containerd ctr containerd-shim-runc-v2)
  export CALLERS_SKIP
  [ -z "$CALLERS_SKIP" ] || return 0
  CTR_DIR=$(mktemp -d "${TMPDIR:-/tmp}/berth-callers-containerd.XXXXXX")
  export CTR_DIR
  # Container ids carry this, so that they cannot meet another run's.
  CTR_TAG=$(tr A-Z a-z <<<"${CTR_DIR##*.}" | tr -dc a-z0-9)
  export CTR_TAG
  CTR_CG_SNAPSHOT=$CTR_DIR/cgroups.before
  export CTR_CG_SNAPSHOT
  callers_cgroup_snapshot "$CTR_CG_SNAPSHOT" "$CTR_NS"
  # The shims' state root (/run/containerd/runc/<ns>) and socket directory
  # (/run/containerd/s) are fixed paths in containerd 1.6.
  CTR_RUN_EXISTED=0
  [ -d /run/containerd ] && CTR_RUN_EXISTED=1
  export CTR_RUN_EXISTED

  if ! callers_make_image "$CTR_DIR/image"; then
    echo "image build failed:" >&2
    cat "$CTR_DIR/image/build.log" >&2
    return 1
  fi

  cat >"$CTR_DIR/config.toml" <<EOF
version = 2
root = "$CTR_DIR/root"
state = "$CTR_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$CTR_DIR/containerd.sock"

[ttrpc]
  address = "$CTR_DIR/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "debug"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$CTR_DIR/opt"
EOF
  containerd --config "$CTR_DIR/config.toml" </dev/null >"$CTR_DIR/containerd.log" 2>&1 3>&- &
  echo $! >"$CTR_DIR/containerd.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    c version >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! c version >/dev/null 2>&1; then
    echo "containerd did not come up; its log:" >&2
    cat "$CTR_DIR/containerd.log" >&2
    return 1
  fi
  c images import "$CTR_DIR/image/busybox.tar" >"$CTR_DIR/import.log" 2>&1 || {
    cat "$CTR_DIR/import.log" >&2
    return 1
  }
}

teardown_file() {
  [ -n "${CTR_DIR:-}" ] || return 0
  containerd_cleanup
}

setup() {
  [ -z "${CALLERS_SKIP:-}" ] || skip "$CALLERS_SKIP"
}

teardown() {
  [ -n "${CTR_DIR:-}" ] && [ -S "$CTR_DIR/containerd.sock" ] || return 0
  ctr_remove_all
}

# c ARG...: ctr against this file's containerd, in namespace $CTR_NS.
c() {
  timeout -k 5 "$CALLERS_TIMEOUT" ctr -a "$CTR_DIR/containerd.sock" -n "$CTR_NS" "$@"
}

# The runtime flags of `ctr run` for $RUNTIME.
runtime_flags() {
  RUNTIME_FLAGS=(--runtime io.containerd.runc.v2 --runc-binary "$RUNTIME")
}

# task_field ID COLUMN: PID (2) or STATUS (3) of task ID in `ctr task ls`.
task_field() {
  c task ls | awk -v id="$1" -v col="$2" '$1 == id { print $col }'
}

# wait_task_status ID STATUS: polls `ctr task ls` (10 s).
wait_task_status() {
  local got='' i
  for ((i = 0; i < 100; i++)); do
    got=$(task_field "$1" 3)
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  echo "# task $1: status \"$got\", expected \"$2\""
  return 1
}

# limit_flags: `ctr run` puts linux.resources.cpu.shares = 1024 into every
# spec (its --cpu-shares default). That needs the cpu controller, which this
# host's cgroup v2 hierarchy lacks (hybrid layout), and berth
# refuses a limit it cannot enforce; so here the scenarios ask for no shares
# (--cpu-shares 0), for both runtimes alike. The default is the subject of
# its own test below.
limit_flags() {
  callers_v2_has cpu || echo --cpu-shares 0
}

# start_detached ID [CTR-RUN-FLAGS...]: `ctr run -d` of LONG_RUNNING, running.
start_detached() {
  local id=$1
  shift
  # shellcheck disable=SC2046 # limit_flags yields separate words on purpose
  run --separate-stderr c run -d $(limit_flags) "${RUNTIME_FLAGS[@]}" "$@" "$CALLERS_IMAGE" "$id" "${LONG_RUNNING[@]}"
  show "ctr run -d $id"
  [ "$status" -eq 0 ] || return 1
  wait_task_status "$id" RUNNING
}

# ctr_remove_all: kills and deletes this file's tasks and containers.
ctr_remove_all() {
  local id i
  for id in $(c containers ls -q 2>/dev/null | grep -- "-$CTR_TAG\$"); do
    if [ -n "$(task_field "$id" 1 2>/dev/null)" ]; then
      [ "$(task_field "$id" 3)" = PAUSED ] && c task resume "$id" >/dev/null 2>&1
      c task kill -s SIGKILL "$id" >/dev/null 2>&1
      for ((i = 0; i < 50; i++)); do
        [ "$(task_field "$id" 3)" = RUNNING ] || break
        sleep 0.1
      done
      c task delete -f "$id" >/dev/null 2>&1
    fi
    c containers delete "$id" >/dev/null 2>&1
  done
  return 0
}

# shim_pids ID: the containerd-shim-runc-v2 of container ID of this file.
shim_pids() {
  callers_pids_with "-namespace $CTR_NS -id $1 -address $CTR_DIR/containerd.sock"
}

# containerd_cleanup: tasks and containers deleted, containerd stopped
# (TERM, then KILL), its shims gone, mounts below the directory undone, the
# cgroups the runtimes made for these containers removed, the directory
# deleted.
containerd_cleanup() {
  [ -d "$CTR_DIR" ] || return 0
  local pid i
  if [ -S "$CTR_DIR/containerd.sock" ]; then
    ctr_remove_all
  fi
  pid=$(cat "$CTR_DIR/containerd.pid" 2>/dev/null)
  if [ -n "$pid" ] && callers_alive "$pid"; then
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do
      callers_alive "$pid" || break
      sleep 0.1
    done
    callers_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  # Shims (and anything else) still naming this directory.
  callers_stop_pids_with "$CTR_DIR" 5
  callers_unmount_under "$CTR_DIR"
  callers_cgroup_cleanup "$CTR_CG_SNAPSHOT" "$CTR_NS" >&2
  # The runtimes' state of this file's containers, if a delete failed.
  for pid in /run/containerd/runc/"$CTR_NS"/*-"$CTR_TAG"; do
    [ -e "$pid" ] && rm -rf "$pid"
  done
  callers_rmdir_if_new /run/containerd "$CTR_RUN_EXISTED"
  # (never rm -rf through a mount that would not go away)
  [ -z "$(callers_mounts_under "$CTR_DIR")" ] || return 0
  if [ "${1:-}" != keep-snapshot ]; then
    rm -rf "$CTR_DIR"
  else
    rm -rf "$CTR_DIR/root" "$CTR_DIR/state" "$CTR_DIR/opt" "$CTR_DIR/image"
  fi
}

# ---------------------------------------------------------------------------
# Scenarios, each called once per runtime.

scenario_run_rm() {
  use_runtime "$1"
  runtime_flags
  local id=rm-$RT-$CTR_TAG
  # shellcheck disable=SC2046
  run --separate-stderr c run --rm $(limit_flags) "${RUNTIME_FLAGS[@]}" "$CALLERS_IMAGE" "$id" echo hi
  show "ctr run --rm echo hi"
  [ "$status" -eq 0 ]
  [ "$output" = hi ]
  run c containers ls -q
  [[ $output != *"$id"* ]]
  run c task ls
  [[ $output != *"$id"* ]]
}

scenario_exec() {
  use_runtime "$1"
  runtime_flags
  local id=exec-$RT-$CTR_TAG
  start_detached "$id"
  run --separate-stderr c task exec --exec-id e1 "$id" echo from-exec
  show "ctr task exec --exec-id e1 echo from-exec"
  [ "$status" -eq 0 ]
  [ "$output" = from-exec ]
  run --separate-stderr c task exec --exec-id e2 "$id" sh -c 'exit 3'
  show "ctr task exec --exec-id e2 sh -c 'exit 3'"
  [ "$status" -eq 3 ]
  # The container still runs.
  [ "$(task_field "$id" 3)" = RUNNING ]
}

scenario_ps() {
  use_runtime "$1"
  runtime_flags
  local id=ps-$RT-$CTR_TAG pid
  start_detached "$id"
  pid=$(task_field "$id" 2)
  local i
  for ((i = 0; i < 50; i++)); do
    run --separate-stderr c task ps "$id"
    # (the init forks its `sleep` just after it starts)
    [ "$status" -ne 0 ] || [ "${#lines[@]}" -ge 3 ] && break
    sleep 0.1
  done
  show "ctr task ps"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == PID* ]]
  # The init and its `sleep` child, by host pid.
  [ "$(awk 'NR > 1 { print $1 }' <<<"$output" | grep -cx "$pid")" = 1 ]
  [ "${#lines[@]}" -ge 3 ]
}

scenario_pause_resume() {
  use_runtime "$1"
  runtime_flags
  local id=pause-$RT-$CTR_TAG
  start_detached "$id"
  run --separate-stderr c task pause "$id"
  show "ctr task pause"
  [ "$status" -eq 0 ]
  wait_task_status "$id" PAUSED
  run --separate-stderr c task resume "$id"
  show "ctr task resume"
  [ "$status" -eq 0 ]
  wait_task_status "$id" RUNNING
}

scenario_kill_delete() {
  use_runtime "$1"
  runtime_flags
  local id=kill-$RT-$CTR_TAG i
  start_detached "$id"
  run --separate-stderr c task kill "$id"
  show "ctr task kill (SIGTERM)"
  [ "$status" -eq 0 ]
  wait_task_status "$id" STOPPED
  run --separate-stderr c task delete "$id"
  show "ctr task delete"
  [ "$status" -eq 0 ]
  run c task ls
  [[ $output != *"$id"* ]]
  run --separate-stderr c container delete "$id"
  show "ctr container delete"
  [ "$status" -eq 0 ]
  run c containers ls -q
  [[ $output != *"$id"* ]]
  # The shim is gone, and so are the runtime's state and the cgroup.
  for ((i = 0; i < 50; i++)); do
    [ -z "$(shim_pids "$id")" ] && break
    sleep 0.1
  done
  [ -z "$(shim_pids "$id")" ]
  [ ! -e "/run/containerd/runc/$CTR_NS/$id" ]
  [ -z "$(callers_cgroup_list "$CTR_NS/$id")" ]
}

# ctr's defaults in full, cpu.shares = 1024 included: where the cgroup v2
# hierarchy has the cpu controller it runs; where it has not (this host),
# berth refuses it by field and controller instead of dropping the limit.
scenario_default_cpu_shares() {
  use_runtime "$1"
  runtime_flags
  local id=shares-$RT-$CTR_TAG
  run --separate-stderr c run --rm "${RUNTIME_FLAGS[@]}" "$CALLERS_IMAGE" "$id" echo hi
  show "ctr run --rm echo hi (default cpu shares)"
  if [ "$RT" = runc ] || callers_v2_has cpu; then
    [ "$status" -eq 0 ]
    [ "$output" = hi ]
  else
    [ "$status" -ne 0 ]
    [[ $stderr == *'linux.resources.cpu: cgroup v2 controller "cpu" is not available on this host'* ]]
    c containers delete "$id" >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------------------

@test "containerd [runc]: ctr run --rm echo hi prints hi" {
  scenario_run_rm runc
}

@test "containerd [berth]: ctr run --rm echo hi prints hi" {
  scenario_run_rm berth
}

@test "containerd [runc]: ctr run -d, task exec (output, exit status)" {
  scenario_exec runc
}

@test "containerd [berth]: ctr run -d, task exec (output, exit status)" {
  scenario_exec berth
}

@test "containerd [runc]: task ps lists the container's processes" {
  scenario_ps runc
}

@test "containerd [berth]: task ps lists the container's processes" {
  scenario_ps berth
}

@test "containerd [runc]: task pause / resume: PAUSED, then RUNNING" {
  scenario_pause_resume runc
}

@test "containerd [berth]: task pause / resume: PAUSED, then RUNNING" {
  scenario_pause_resume berth
}

@test "containerd [runc]: task kill, task delete, container delete: shim, state and cgroup gone" {
  scenario_kill_delete runc
}

@test "containerd [berth]: task kill, task delete, container delete: shim, state and cgroup gone" {
  scenario_kill_delete berth
}

@test "containerd [runc]: the default cpu shares run (runc uses the cgroup v1 cpu controller here)" {
  scenario_default_cpu_shares runc
}

@test "containerd [berth]: the default cpu shares: applied where cgroup v2 has cpu, refused by name where not" {
  scenario_default_cpu_shares berth
}

@test "containerd: cleanup stops containerd and its shims, leaves no mount, process, cgroup or directory" {
  containerd_cleanup keep-snapshot
  run callers_leftovers "$CTR_DIR" "$CTR_CG_SNAPSHOT" "$CTR_NS"
  show "leftovers"
  [ -z "$output" ]
  [ -z "$(ls -A "/run/containerd/runc/$CTR_NS" 2>/dev/null | grep -- "-$CTR_TAG\$")" ]
  [ "$CTR_RUN_EXISTED" = 1 ] || [ ! -e /run/containerd ]
  rm -rf "$CTR_DIR"
  [ ! -e "$CTR_DIR" ]
}
