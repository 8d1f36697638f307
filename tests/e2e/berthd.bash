# Shared by the bats files that drive berthd (daemon, containers, networks,
# the berth CLI): a berthd of this build on a socket, data root and exec root
# under a scratch directory, with a cgroup parent of the test's own, in a
# network namespace of the test's own (its bridges, veths and nftables rules
# never touch the host's); Debian's docker-registry for pulls, in that
# namespace too. Teardown removes what the test made: the
# containers (through berthd), the berthd and registry processes (by PID;
# monitors of containers a test left behind, by the PIDs in their state),
# mounts under the scratch directory, the cgroup parent, the directory.

bats_require_minimum_version 1.5.0

SRC_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BERTH_RUNTIME:=$SRC_ROOT/build/src/berth-runtime}"
case $BERTH_RUNTIME in /*) ;; *) BERTH_RUNTIME=$PWD/$BERTH_RUNTIME ;; esac
BIN_DIR=$(dirname "$BERTH_RUNTIME")
BERTHD=$BIN_DIR/berthd
BERTH=$BIN_DIR/berth
BUILTIN=$(dirname "$BIN_DIR")/tools/busybox-image
DOCKER_BIN=${DOCKER_BIN:-/usr/local/bin/docker}
: "${BERTH_E2E_TIMEOUT:=60}"

berthd_setup() {
  [ "$(id -u)" = 0 ] || skip "needs root (the socket is owned by root)"
  [ -x "$BERTHD" ] || skip "no berthd at $BERTHD (ninja src/berthd)"
  [ -d "$BUILTIN" ] || skip "no built-in image at $BUILTIN (ninja tools/busybox-image)"
  local tool
  for tool in jq curl python3; do
    command -v "$tool" >/dev/null || skip "needs $tool"
  done
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-daemon.XXXXXX")
  SOCK=$WORK/berthd.sock
  CGROUP_PARENT=/berth-test-e2e-$$-${BATS_TEST_NUMBER:-0}
  BERTHD_PID=
  REGISTRY_PID=
  # The test's network namespace, kept by a bind mount on $NETNS.
  NETNS=$WORK/netns
  touch "$NETNS"
  unshare --net="$NETNS" true || skip "cannot make a network namespace"
  innet ip link set lo up
}

# Runs a command in the test's network namespace.
innet() {
  nsenter --net="$NETNS" "$@"
}

# Containers berthd still knows of, force-removed through its API.
remove_all_containers() {
  local ids id
  ids=$(curl -s --max-time 20 --unix-socket "$SOCK" 'http://berth/containers/json?all=1' 2>/dev/null | jq -r '.[].Id' 2>/dev/null) || return 0
  for id in $ids; do
    curl -s --max-time 40 --unix-socket "$SOCK" -X DELETE "http://berth/containers/$id?force=1" >/dev/null 2>&1 || true
  done
}

berthd_teardown() {
  [ -n "${WORK:-}" ] || return 0
  if [ -n "$BERTHD_PID" ] && kill -0 "$BERTHD_PID" 2>/dev/null; then
    remove_all_containers
  fi
  local pid f
  for pid in $BERTHD_PID $REGISTRY_PID; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $BERTHD_PID $REGISTRY_PID; do
    wait "$pid" 2>/dev/null || true
  done
  # Monitors whose berthd is gone (a test that killed it): their container
  # goes with them (the monitor is the container's subreaper and parent).
  for f in "$WORK"/data/containers/*/monitor.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if [ -n "$pid" ] && grep -q berth-monitor "/proc/$pid/cmdline" 2>/dev/null; then
      "$BERTH_RUNTIME" --root "$WORK/exec/runtime" delete --force "$(basename "$(dirname "$f")")" 2>/dev/null || true
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  local m
  findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  remove_cgroup_parent
  rm -rf "$WORK"
}

# The test's cgroup parent, in every hierarchy it was made in (deepest first).
remove_cgroup_parent() {
  local d
  find /sys/fs/cgroup -maxdepth 3 -type d -name "$(basename "$CGROUP_PARENT")" 2>/dev/null |
    while read -r d; do
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
}

# Starts berthd on $SOCK (extra arguments are passed on) and waits until it
# answers _ping.
start_berthd() {
  # A second one would find the socket answering and hide the first from
  # teardown: a test restarts berthd only after killing it.
  if [ -n "$BERTHD_PID" ] && kill -0 "$BERTHD_PID" 2>/dev/null; then
    echo "start_berthd: berthd $BERTHD_PID is still running" >&2
    return 1
  fi
  nsenter --net="$NETNS" "$BERTHD" -H "unix://$SOCK" --data-root "$WORK/data" --exec-root "$WORK/exec" \
    --builtin-image "$BUILTIN" --cgroup-parent "$CGROUP_PARENT" "$@" >>"$WORK/berthd.log" 2>&1 &
  BERTHD_PID=$!
  local i
  for i in $(seq 100); do
    if curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$BERTHD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "berthd did not come up:" >&2
  cat "$WORK/berthd.log" >&2
  return 1
}

docker() {
  timeout --foreground -k 5 "$BERTH_E2E_TIMEOUT" "$DOCKER_BIN" -H "unix://$SOCK" "$@"
}

# curl against berthd; prints the body, then the status code on a last line.
api() {
  timeout --foreground -k 5 "$BERTH_E2E_TIMEOUT" curl -s --unix-socket "$SOCK" -w '\n%{http_code}' "$@"
}

# Starts Debian's docker-registry on a free 127.0.0.1 port ($REG) and pushes
# the built-in image to it as app:v1.
start_registry() {
  command -v docker-registry >/dev/null || skip "needs docker-registry"
  command -v skopeo >/dev/null || skip "needs skopeo"
  local port
  port=$(innet python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  REG=127.0.0.1:$port
  cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: $REG
EOF
  nsenter --net="$NETNS" docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  local i
  for i in $(seq 100); do
    innet curl -sf "http://$REG/v2/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  innet skopeo copy --dest-tls-verify=false "oci:$BUILTIN:latest" "docker://$REG/app:v1" >/dev/null
}

# The image ID docker should show for the built-in image: its config digest.
builtin_id() {
  local manifest
  manifest=$(jq -r '.manifests[0].digest' "$BUILTIN/index.json")
  jq -r '.config.digest' "$BUILTIN/blobs/sha256/${manifest#sha256:}"
}

# Nothing of a container is left: no mount under $WORK, no monitor, no
# cgroup below the test's parent, no runtime state.
assert_no_leftovers() {
  local mounts
  mounts=$(findmnt -rn -o TARGET | grep "^$WORK/data/containers/" || true)
  [ -z "$mounts" ] || { echo "mounts left: $mounts" >&2; return 1; }
  local left
  left=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path "*$(basename "$CGROUP_PARENT")/*" 2>/dev/null || true)
  [ -z "$left" ] || { echo "cgroups left: $left" >&2; return 1; }
  left=$(ls "$WORK/exec/runtime" 2>/dev/null || true)
  [ -z "$left" ] || { echo "runtime state left: $left" >&2; return 1; }
  left=$(ls "$WORK/data/containers" 2>/dev/null || true)
  [ -z "$left" ] || { echo "container directories left: $left" >&2; return 1; }
  # The network side: veths, namespaces, published ports, address leases.
  left=$(innet ip -br link show type veth 2>/dev/null || true)
  [ -z "$left" ] || { echo "veths left: $left" >&2; return 1; }
  left=$(ls "$WORK/exec/netns" 2>/dev/null || true)
  [ -z "$left" ] || { echo "network namespaces left: $left" >&2; return 1; }
  left=$(innet nft list table ip berth 2>/dev/null | grep 'berth ports' || true)
  [ -z "$left" ] || { echo "nftables rules left: $left" >&2; return 1; }
  left=$(cat "$WORK"/data/networks/ipam/*.json 2>/dev/null | jq -s 'map(.leases | length) | add // 0')
  [ "${left:-0}" = 0 ] || { echo "address leases left: $left" >&2; return 1; }
  local b
  for b in $(innet ip -br link show type bridge 2>/dev/null | awk '$1 ~ /^br-/ { print substr($1, 4) }'); do
    ls "$WORK/data/networks/$b"*.json >/dev/null 2>&1 || { echo "bridge of a removed network left: br-$b" >&2; return 1; }
  done
}

# Polls (up to 10 s) until `docker inspect -f FORMAT NAME` prints WANT.
wait_inspect() {
  local name=$1 format=$2 want=$3 i out=
  for i in $(seq 100); do
    out=$(docker inspect -f "$format" "$name" 2>/dev/null) && [ "$out" = "$want" ] && return 0
    sleep 0.1
  done
  echo "inspect $name $format: got '$out', want '$want'" >&2
  return 1
}
