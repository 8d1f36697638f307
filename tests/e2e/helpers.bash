# Shared setup for the berth-runtime end-to-end tests.
#
# Every test gets its own scratch directory ($WORK), its own state root
# ($ROOT, passed as --root so /run/berth is never touched) and its own cgroup
# parent ($CG_DIR, "/$CG_NAME" inside the cgroup v2 hierarchy) below which
# each container gets "/$CG_NAME/<id>". teardown deletes every container
# under $ROOT, kills whatever is still in $CG_DIR (only processes the test
# started can be there), removes the cgroups and the scratch directory.
#
# The busybox root filesystem is made once per file (setup_file) with
# tools/mkbundle.sh; a test's bundles share it through an absolute
# root.path, so each bundle is only a config.json.

bats_require_minimum_version 1.5.0

E2E_SRC_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BERTH_RUNTIME:=$E2E_SRC_ROOT/build/src/berth-runtime}"
case $BERTH_RUNTIME in /*) ;; *) BERTH_RUNTIME=$PWD/$BERTH_RUNTIME ;; esac
export BERTH_RUNTIME
# Upper bound for one runtime invocation; a hang fails the test with status
# 124 instead of blocking the suite.
: "${BERTH_E2E_TIMEOUT:=60}"

# Prints why the tests cannot run here, or nothing.
e2e_env_problem() {
  if [ "$(id -u)" != 0 ]; then
    echo "needs root (containers with namespaces and cgroups)"
    return
  fi
  local tool
  for tool in jq timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "needs $tool"
      return
    fi
  done
  if [ ! -x "${BUSYBOX:-/bin/busybox}" ]; then
    echo "needs ${BUSYBOX:-/bin/busybox} for tools/mkbundle.sh (apt install busybox-static)"
    return
  fi
  if [ ! -x "$BERTH_RUNTIME" ]; then
    echo "BERTH_RUNTIME=$BERTH_RUNTIME is not an executable (build it with ninja -C build src/berth-runtime)"
    return
  fi
  local cg
  cg=$(e2e_cgroup2_mount)
  if [ -z "$cg" ]; then
    echo "no cgroup2 hierarchy mounted"
    return
  fi
  if ! mkdir "$cg/berth-e2e-probe-$$" 2>/dev/null; then
    echo "cannot create a cgroup under $cg"
    return
  fi
  rmdir "$cg/berth-e2e-probe-$$"
}

# Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup on a pure v2
# host, /sys/fs/cgroup/unified on a hybrid one).
e2e_cgroup2_mount() {
  awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

setup_file() {
  E2E_SKIP=$(e2e_env_problem)
  export E2E_SKIP
  [ -z "$E2E_SKIP" ] || return 0
  E2E_BASE=$(mktemp -d "${TMPDIR:-/tmp}/berth-e2e-base.XXXXXX")
  export E2E_BASE
  if ! "$E2E_SRC_ROOT/tools/mkbundle.sh" "$E2E_BASE/bundle" >/dev/null 2>"$E2E_BASE/mkbundle.err"; then
    E2E_SKIP="tools/mkbundle.sh failed: $(cat "$E2E_BASE/mkbundle.err")"
  fi
}

teardown_file() {
  if [ -n "${E2E_BASE:-}" ]; then
    rm -rf "$E2E_BASE"
  fi
}

setup() {
  [ -z "${E2E_SKIP:-}" ] || skip "$E2E_SKIP"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-e2e.XXXXXX")
  ROOT="$WORK/root"
  mkdir "$ROOT"
  CG_MOUNT=$(e2e_cgroup2_mount)
  CG_NAME="berth-e2e-$$-$BATS_TEST_NUMBER"
  CG_DIR="$CG_MOUNT/$CG_NAME"
  mkdir "$CG_DIR"
}

teardown() {
  [ -n "${WORK:-}" ] || return 0
  local dir leftover=''
  for dir in "$ROOT"/*; do
    [ -d "$dir" ] || continue
    timeout 30 "$BERTH_RUNTIME" --root "$ROOT" delete --force "${dir##*/}" </dev/null >/dev/null 2>&1 || true
  done
  if [ -n "${CG_DIR:-}" ] && [ -d "$CG_DIR" ]; then
    e2e_kill_cgroup "$CG_DIR"
    # Children first; only directories, the interface files go with them.
    find "$CG_DIR" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rmdir "$CG_DIR" 2>/dev/null || leftover="cgroup $CG_DIR could not be removed"
  fi
  rm -rf "$WORK"
  if [ -n "$leftover" ]; then
    echo "teardown: $leftover" >&2
    return 1
  fi
}

# Kills every process in the cgroup subtree DIR (all of them were started by
# this test: the subtree is the test's own) and waits until it is empty.
e2e_kill_cgroup() {
  local dir=$1 i pid
  if [ -e "$dir/cgroup.kill" ]; then
    echo 1 >"$dir/cgroup.kill" 2>/dev/null || true
  else
    find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
      kill -9 "$pid" 2>/dev/null || true
    done
  fi
  for ((i = 0; i < 100; i++)); do
    grep -q '^populated 0' "$dir/cgroup.events" 2>/dev/null && return 0
    sleep 0.1
  done
}

# berth ARG...: the runtime with this test's state root.
berth() {
  timeout -k 5 "$BERTH_E2E_TIMEOUT" "$BERTH_RUNTIME" --root "$ROOT" "$@"
}

# berth_raw ARG...: the runtime with exactly these arguments (the test
# passes --root itself, in the position a caller puts it).
berth_raw() {
  timeout -k 5 "$BERTH_E2E_TIMEOUT" "$BERTH_RUNTIME" "$@"
}

# berth_detached ARG... / berth_raw_detached ARG...: for commands that leave
# a container process behind (create, run -d). The container inherits the
# runtime's stdio; if that were bats' output pipe, `run` would wait for the
# container to exit. So the runtime gets stdio on files, and their contents
# are replayed on this function's stdout/stderr when it returns.
berth_detached() {
  berth_raw_detached --root "$ROOT" "$@"
}

berth_raw_detached() {
  local io rc=0
  io=$(mktemp "$WORK/io.XXXXXX")
  timeout -k 5 "$BERTH_E2E_TIMEOUT" "$BERTH_RUNTIME" "$@" </dev/null >"$io.out" 2>"$io.err" 3>&- || rc=$?
  cat "$io.out"
  cat "$io.err" >&2
  return "$rc"
}

# make_bundle ID ARG...: writes $WORK/bundles/ID/config.json, running ARG...
# in the cgroup /$CG_NAME/ID, on the shared busybox rootfs; sets $BUNDLE.
make_bundle() {
  local id=$1
  shift
  BUNDLE="$WORK/bundles/$id"
  mkdir -p "$BUNDLE"
  # Each argument as a JSON string (jq's --args would take "-c" as its own flag).
  local a args=
  for a in "$@"; do
    args+="${args:+,}$(printf '%s' "$a" | jq -Rs .)"
  done
  jq --arg rootfs "$E2E_BASE/bundle/rootfs" --arg cg "/$CG_NAME/$id" --argjson args "[$args]" \
    '.root.path = $rootfs | .linux.cgroupsPath = $cg | .process.args = $args' \
    "$E2E_BASE/bundle/config.json" >"$BUNDLE/config.json"
}

# edit_config BUNDLE JQ-FILTER [JQ-ARGS...]: rewrites BUNDLE/config.json.
edit_config() {
  local bundle=$1 filter=$2
  shift 2
  jq "$@" "$filter" "$bundle/config.json" >"$bundle/config.json.new"
  mv "$bundle/config.json.new" "$bundle/config.json"
}

# A process that runs until killed and exits 0 on SIGTERM (pid 1 of a pid
# namespace ignores signals it has no handler for, so plain `sleep` would
# not stop on SIGTERM).
LONG_RUNNING=(sh -c 'trap "exit 0" TERM; sleep 1000 & wait')

# create_container ID: a bundle running LONG_RUNNING and `create` of it
# (go-runc's shape), asserting success.
create_container() {
  make_bundle "$1" "${LONG_RUNNING[@]}"
  run --separate-stderr berth_detached create --bundle "$BUNDLE" --pid-file "$WORK/$1.pid" "$1"
  if [ "$status" -ne 0 ]; then
    echo "create $1 failed ($status): $stderr" >&2
    return 1
  fi
}

# start_container ID: create + start, asserting success.
start_container() {
  create_container "$1" || return 1
  run --separate-stderr berth start "$1"
  if [ "$status" -ne 0 ]; then
    echo "start $1 failed ($status): $stderr" >&2
    return 1
  fi
}

# state_field ID JQ-PATH: one field of `state ID`.
state_field() {
  berth state "$1" | jq -r "$2"
}

# wait_for_status ID STATUS: polls `state` until it reports STATUS (30 s).
wait_for_status() {
  local id=$1 want=$2 got='' i
  for ((i = 0; i < 300; i++)); do
    got=$(berth state "$id" 2>/dev/null | jq -r .status 2>/dev/null)
    [ "$got" = "$want" ] && return 0
    sleep 0.1
  done
  echo "container $id: status is \"$got\", expected \"$want\"" >&2
  return 1
}

# RFC 3339 timestamp, with optional fraction (Go's RFC3339Nano).
RFC3339_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
