#!/usr/bin/env bats
# podman 4.3 (with conmon 2.1) from Debian driving the runtime given with
# --runtime, with the flags that work on these machines: storage, run
# root and libpod tmp dir of its own under a temporary directory, overlay,
# cgroupfs manager, events to a file, no network, and rlimits within this
# machine's hard limits (podman's default rlimits fail with EPERM here).
# Every scenario runs with runc and with berth-runtime.
#
# podman hands the runtime `--log-format=json --log <rundir>/oci-log` (as
# conmon --runtime-arg's) and reads its error back from that file only if
# the runtime's name is in containers.conf `[engine] runtime_supports_json`;
# otherwise it falls back to the runtime's stderr text. podman 4.3 matches
# the basename of the --runtime value against that list: of the path given
# (`--runtime /x/berth-runtime` needs "berth-runtime" listed), or the NAME of
# an `[engine.runtimes] NAME = [PATH]` entry used as `--runtime NAME`; a
# symlink named `runc` pointing at berth-runtime passes as well, through the
# default list. All three were tried here; none applies while podman itself
# runs with --log-level=debug (podman then leaves out the json flags). These
# tests use the first: CONTAINERS_CONF points at a containers.conf of this
# file's own listing runc and the basename of $BERTH_RUNTIME (with
# CONTAINERS_CONF set it is the only containers.conf podman reads). The
# tests check the mechanism, not only the message: conmon's command line
# carries the flags and the oci-log file holds one JSON object.

load callers

setup_file() {
  CALLERS_SKIP=$(callers_env_problem podman conmon script)
  export CALLERS_SKIP
  [ -z "$CALLERS_SKIP" ] || return 0
  PODMAN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/berth-callers-podman.XXXXXX")
  export PODMAN_DIR
  PODMAN_CG_SNAPSHOT=$PODMAN_DIR/cgroups.before
  export PODMAN_CG_SNAPSHOT
  callers_cgroup_snapshot "$PODMAN_CG_SNAPSHOT" libpod_parent
  # The runtimes' default state roots (podman passes no --root).
  PODMAN_BERTH_ROOT_EXISTED=0
  [ -d /run/berth ] && PODMAN_BERTH_ROOT_EXISTED=1
  PODMAN_RUNC_ROOT_EXISTED=0
  [ -d /run/runc ] && PODMAN_RUNC_ROOT_EXISTED=1
  # `podman load` writes containers/image's blob-info cache to
  # /var/lib/containers/cache whatever --root says (podman 4.3, as root).
  PODMAN_VARLIB_EXISTED=0
  [ -e /var/lib/containers ] && PODMAN_VARLIB_EXISTED=1
  export PODMAN_BERTH_ROOT_EXISTED PODMAN_RUNC_ROOT_EXISTED PODMAN_VARLIB_EXISTED

  mkdir -p "$PODMAN_DIR/net" "$PODMAN_DIR/tmp"
  cat >"$PODMAN_DIR/containers.conf" <<EOF
[engine]
runtime_supports_json = ["runc", "crun", "$(basename "$BERTH_RUNTIME")"]
EOF
  # podman's default pids limit (2048) needs the pids controller. This
  # host's cgroup v2 hierarchy has none (hybrid layout), and berth
  # refuses a limit it cannot enforce, so the scenarios here run with
  # podman's "no limit" (pids_limit = 0), for both runtimes alike; the
  # default limit is the subject of its own test below. Everything else,
  # the seccomp profile included, is podman's default.
  if callers_v2_has pids; then
    cp "$PODMAN_DIR/containers.conf" "$PODMAN_DIR/containers-main.conf"
  else
    printf '[containers]\npids_limit = 0\n[engine]\nruntime_supports_json = ["runc", "crun", "%s"]\n' \
      "$(basename "$BERTH_RUNTIME")" >"$PODMAN_DIR/containers-main.conf"
  fi
  cat >"$PODMAN_DIR/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PODMAN_DIR/root"
runroot = "$PODMAN_DIR/runroot"
EOF
  # No registry is ever asked: images are loaded from a file, runs use --pull never.
  printf 'unqualified-search-registries = []\n' >"$PODMAN_DIR/registries.conf"
  export CONTAINERS_CONF=$PODMAN_DIR/containers-main.conf
  export CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$PODMAN_DIR/registries.conf

  if ! callers_make_image "$PODMAN_DIR/image"; then
    echo "image build failed:" >&2
    cat "$PODMAN_DIR/image/build.log" >&2
    return 1
  fi
  RUNTIME=$RUNC_RUNTIME pod load -q -i "$PODMAN_DIR/image/busybox.tar" >"$PODMAN_DIR/load.log" 2>&1 || {
    cat "$PODMAN_DIR/load.log" >&2
    return 1
  }
}

teardown_file() {
  [ -n "${PODMAN_DIR:-}" ] || return 0
  podman_cleanup
}

setup() {
  [ -z "${CALLERS_SKIP:-}" ] || skip "$CALLERS_SKIP"
}

teardown() {
  # (podman would recreate a storage the cleanup test removed)
  [ -n "${PODMAN_DIR:-}" ] && [ -d "$PODMAN_DIR/root" ] || return 0
  # Containers of a failed test; podman uses each container's own runtime.
  RUNTIME=$RUNC_RUNTIME pod rm -a -f -t 0 >/dev/null 2>&1 || true
}

# pod ARG...: podman with this file's storage and settings, the runtime
# $RUNTIME.
pod() {
  timeout -k 5 "$CALLERS_TIMEOUT" podman \
    --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --tmpdir "$PODMAN_DIR/tmp" \
    --network-config-dir "$PODMAN_DIR/net" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file --runtime "$RUNTIME" "$@"
}

# Flags of every `podman run` here.
RUN_FLAGS=(--network none --pull never --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

# podman_cleanup: every container removed, podman's storage unmounted and
# deleted, podman's processes (conmon, `podman container cleanup`) gone,
# the cgroups podman and the runtimes made removed, the directory deleted.
podman_cleanup() {
  [ -d "$PODMAN_DIR" ] || return 0
  if [ -d "$PODMAN_DIR/root" ]; then
    RUNTIME=$RUNC_RUNTIME pod rm -a -f -t 0 >/dev/null 2>&1
    callers_stop_pids_with "$PODMAN_DIR" 10
    RUNTIME=$RUNC_RUNTIME pod system reset -f >/dev/null 2>&1
  fi
  callers_stop_pids_with "$PODMAN_DIR" 5
  callers_unmount_under "$PODMAN_DIR"
  callers_cgroup_cleanup "$PODMAN_CG_SNAPSHOT" libpod_parent >&2
  # berth caches compiled seccomp programs under its root.
  [ "$PODMAN_BERTH_ROOT_EXISTED" = 1 ] || rm -rf /run/berth/@seccomp
  callers_rmdir_if_new /run/berth "$PODMAN_BERTH_ROOT_EXISTED"
  callers_rmdir_if_new /run/runc "$PODMAN_RUNC_ROOT_EXISTED"
  if [ "$PODMAN_VARLIB_EXISTED" = 0 ]; then
    rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
    callers_rmdir_if_new /var/lib/containers 0
  fi
  # (never rm -rf through a mount that would not go away)
  [ -z "$(callers_mounts_under "$PODMAN_DIR")" ] || return 0
  if [ "${1:-}" != keep-snapshot ]; then
    rm -rf "$PODMAN_DIR"
  else
    rm -rf "$PODMAN_DIR/root" "$PODMAN_DIR/runroot" "$PODMAN_DIR/tmp" "$PODMAN_DIR/net" "$PODMAN_DIR/image"
  fi
}

# ---------------------------------------------------------------------------
# Scenarios, each called once per runtime.

scenario_run_rm() {
  use_runtime "$1"
  run --separate-stderr pod run --rm "${RUN_FLAGS[@]}" "$CALLERS_IMAGE" echo hi
  show "podman run --rm echo hi"
  [ "$status" -eq 0 ]
  [ "$output" = hi ]
  run --separate-stderr pod ps -a -q
  show "podman ps -a -q"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

scenario_detached_exec_stop_rm() {
  use_runtime "$1"
  local name=d-$RT
  run --separate-stderr pod run -d --name "$name" "${RUN_FLAGS[@]}" "$CALLERS_IMAGE" "${LONG_RUNNING[@]}"
  show "podman run -d"
  [ "$status" -eq 0 ]
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  run --separate-stderr pod inspect -f '{{.State.Status}}' "$name"
  show "podman inspect"
  [ "$output" = running ]
  # conmon got the json log flags for this runtime (runtime_supports_json).
  local conmon
  conmon=$(pod inspect -f '{{.State.ConmonPid}}' "$name")
  [[ $(tr '\0' ' ' <"/proc/$conmon/cmdline") == *"--runtime-arg --log-format=json --runtime-arg --log"* ]]

  run --separate-stderr pod exec "$name" echo from-exec
  show "podman exec echo from-exec"
  [ "$status" -eq 0 ]
  [ "$output" = from-exec ]
  run --separate-stderr pod exec "$name" sh -c 'exit 3'
  show "podman exec sh -c 'exit 3'"
  [ "$status" -eq 3 ]

  run --separate-stderr pod stop -t 10 "$name"
  show "podman stop"
  [ "$status" -eq 0 ]
  [ "$output" = "$name" ]
  run --separate-stderr pod inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$name"
  show "podman inspect"
  [ "$output" = "exited 0" ]

  run --separate-stderr pod rm "$name"
  show "podman rm"
  [ "$status" -eq 0 ]
  run --separate-stderr pod ps -a -q
  [ -z "$output" ]
}

scenario_tty() {
  use_runtime "$1"
  # script(1) gives podman a real terminal, as a user at a shell would.
  # timeout --foreground: script runs $SHELL -c, and a shell that forks
  # (dash, CI's /bin/sh) leaves plain timeout in a background process group
  # of that terminal, where podman's tcsetattr(raw) stops it with SIGTTOU.
  local cmd
  cmd=$(printf '%q ' timeout --foreground -k 5 "$CALLERS_TIMEOUT" podman \
    --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --tmpdir "$PODMAN_DIR/tmp" \
    --network-config-dir "$PODMAN_DIR/net" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file --runtime "$RUNTIME" \
    run --rm -t "${RUN_FLAGS[@]}" "$CALLERS_IMAGE" \
    sh -c 'test -t 0 && test -t 1 && test -t 2 && tty && echo tty-ok')
  unset stderr
  SHELL=/bin/sh run script -qec "$cmd" /dev/null </dev/null
  show "script -qec 'podman run --rm -t ...'"
  [ "$status" -eq 0 ]
  # A pty of the container's own devpts, and the terminal's \r\n line ends.
  [[ $output == *"/dev/pts/"* ]]
  [[ $output == *$'tty-ok\r'* ]]
}

scenario_exit_code() {
  use_runtime "$1"
  run --separate-stderr pod run --rm "${RUN_FLAGS[@]}" "$CALLERS_IMAGE" sh -c 'exit 7'
  show "podman run --rm sh -c 'exit 7'"
  [ "$status" -eq 7 ]
}

scenario_json_error() {
  use_runtime "$1"
  local name=e-$RT
  capture pod run --name "$name" "${RUN_FLAGS[@]}" "$CALLERS_IMAGE" nosuchcmd
  show "podman run nosuchcmd"
  # 127: podman classified the runtime's message as "command not found".
  [ "$status" -eq 127 ]
  [[ $stderr == *'executable file not found in $PATH'* ]]
  # The message came through --log-format json: one JSON object, level error.
  local id log
  id=$(pod inspect -f '{{.ID}}' "$name")
  log=$PODMAN_DIR/runroot/overlay-containers/$id/userdata/oci-log
  echo "# oci-log: $(cat "$log" 2>&1)"
  [ -s "$log" ]
  [ "$(jq -s length "$log")" = 1 ]
  [ "$(jq -r .level "$log")" = error ]
  [[ $(jq -r .msg "$log") == *'executable file not found in $PATH'* ]]
  pod rm -f "$name" >/dev/null
}

# podman's defaults in full, the pids limit of 2048 included: where the
# cgroup v2 hierarchy has the pids controller it runs; where it has not
# (this host), berth refuses it, naming the field and the controller,
# rather than run the container without the limit it was asked for.
scenario_default_pids_limit() {
  use_runtime "$1"
  export CONTAINERS_CONF=$PODMAN_DIR/containers.conf
  capture pod run --rm "${RUN_FLAGS[@]}" "$CALLERS_IMAGE" echo hi
  show "podman run --rm echo hi (default pids limit)"
  if [ "$RT" = runc ] || callers_v2_has pids; then
    [ "$status" -eq 0 ]
    [ "$output" = hi ]
  else
    [ "$status" -ne 0 ]
    [[ $stderr == *'linux.resources.pids: cgroup v2 controller "pids" is not available on this host'* ]]
  fi
}

# ---------------------------------------------------------------------------

@test "podman [runc]: run --rm echo hi prints hi" {
  scenario_run_rm runc
}

@test "podman [berth]: run --rm echo hi prints hi" {
  scenario_run_rm berth
}

@test "podman [runc]: run -d, exec (output, exit status), stop, rm" {
  scenario_detached_exec_stop_rm runc
}

@test "podman [berth]: run -d, exec (output, exit status), stop, rm" {
  scenario_detached_exec_stop_rm berth
}

@test "podman [runc]: run -t from a terminal: stdio on a pty" {
  scenario_tty runc
}

@test "podman [berth]: run -t from a terminal: stdio on a pty" {
  scenario_tty berth
}

@test "podman [runc]: run --rm sh -c 'exit 7' exits 7" {
  scenario_exit_code runc
}

@test "podman [berth]: run --rm sh -c 'exit 7' exits 7" {
  scenario_exit_code berth
}

@test "podman [runc]: missing executable: the runtime's error through --log-format json, exit 127" {
  scenario_json_error runc
}

@test "podman [berth]: missing executable: the runtime's error through --log-format json, exit 127" {
  scenario_json_error berth
}

@test "podman [runc]: the default pids limit runs (runc uses the cgroup v1 pids controller here)" {
  scenario_default_pids_limit runc
}

@test "podman [berth]: the default pids limit: enforced where cgroup v2 has pids, refused by name where not" {
  scenario_default_pids_limit berth
}

@test "podman: cleanup leaves no container, mount, process, cgroup or directory behind" {
  podman_cleanup keep-snapshot
  unset stderr
  run callers_leftovers "$PODMAN_DIR" "$PODMAN_CG_SNAPSHOT" libpod_parent
  show "leftovers"
  [ -z "$output" ]
  [ "$PODMAN_VARLIB_EXISTED" = 1 ] || [ ! -e /var/lib/containers ]
  [ "$PODMAN_BERTH_ROOT_EXISTED" = 1 ] || [ ! -e /run/berth ]
  rm -rf "$PODMAN_DIR"
  [ ! -e "$PODMAN_DIR" ]
}
