# Shared by podman.bats and containerd.bats: berth-runtime driven by its real
# callers (podman 4.3 + conmon, containerd 1.6 + containerd-shim-runc-v2 +
# ctr, all from Debian), exactly as they drive runc. Every scenario runs
# once with runc and once with berth-runtime, so a fault of the harness
# shows up as a runc failure too.
#
# The image is made here, from busybox-static, with umoci: an OCI layout,
# tarred into an oci-archive that `podman load` and `ctr images import` both
# take; no registry and no network are involved.
#
# Cleanup is scoped: every file works in one temporary directory of its
# own, and the only cgroups touched are those the callers create below the
# parents they use (podman's cgroupfs manager: /libpod_parent; containerd:
# /<namespace>). A snapshot of those subtrees is taken before the first test
# and whatever is new afterwards (left behind by a caller or a runtime) is
# emptied and removed; nothing that existed before is touched.

bats_require_minimum_version 1.5.0

CALLERS_SRC_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BERTH_RUNTIME:=$CALLERS_SRC_ROOT/build/src/berth-runtime}"
case $BERTH_RUNTIME in /*) ;; *) BERTH_RUNTIME=$PWD/$BERTH_RUNTIME ;; esac
export BERTH_RUNTIME
: "${RUNC_RUNTIME:=/usr/sbin/runc}"
export RUNC_RUNTIME
# Upper bound for one caller command; a hang fails the test (status 124)
# instead of blocking the suite.
: "${CALLERS_TIMEOUT:=60}"
# The name both callers know the test image by.
CALLERS_IMAGE=localhost/berth-e2e/busybox:latest

# A process that runs until stopped and exits 0 on SIGTERM (pid 1 of a pid
# namespace ignores signals it has no handler for).
LONG_RUNNING=(sh -c 'trap "exit 0" TERM; sleep 1000 & wait')

# callers_env_problem TOOL...: why these tests cannot run here, or nothing.
callers_env_problem() {
  if [ "$(id -u)" != 0 ]; then
    echo "needs root"
    return
  fi
  local tool
  for tool in jq timeout umoci tar "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "needs $tool (scripts/install-deps.sh installs it)"
      return
    fi
  done
  if [ ! -x "${BUSYBOX:-/bin/busybox}" ]; then
    echo "needs ${BUSYBOX:-/bin/busybox} (apt install busybox-static)"
    return
  fi
  if [ ! -x "$RUNC_RUNTIME" ]; then
    echo "needs runc at $RUNC_RUNTIME (apt install runc)"
    return
  fi
}

# use_runtime runc|berth: sets RUNTIME (the binary handed to the caller) and
# RT (the short name, used in container names).
use_runtime() {
  RT=$1
  case $1 in
    runc) RUNTIME=$RUNC_RUNTIME ;;
    berth) RUNTIME=$BERTH_RUNTIME ;;
    *) echo "use_runtime: unknown runtime $1" >&2; return 1 ;;
  esac
  if [ ! -x "$RUNTIME" ]; then
    echo "$RT: $RUNTIME is not an executable (build it: ninja -C build src/berth-runtime)" >&2
    return 1
  fi
}

# show LABEL: what the last `run` returned, for the log of a failing test.
show() {
  echo "# $1: status $status"
  echo "#   stdout: ${output:-}"
  [ -z "${stderr+x}" ] || echo "#   stderr: $stderr"
}

# capture CMD...: like `run --separate-stderr CMD...` (sets status, output,
# stderr), for commands expected to exit 127: bats' `run` warns about 127,
# taking it for "command not found", and `run -127` hides the output on a
# mismatch.
capture() {
  local err
  err=$(mktemp)
  status=0
  output=$("$@" 2>"$err") || status=$?
  stderr=$(cat "$err")
  rm -f "$err"
}

# callers_make_image DIR: builds the busybox image with umoci and leaves
#   DIR/oci            an OCI image layout, its one image tagged (annotation
#                      org.opencontainers.image.ref.name) $CALLERS_IMAGE
#   DIR/busybox.tar    the same layout as a tar: an oci-archive, which both
#                      `podman load -i` and `ctr images import` take and name
#                      after that annotation
# Output of the tools goes to DIR/build.log. (Not skopeo: as root it writes
# a cache to /var/lib/containers/cache, outside any directory of the test.)
callers_make_image() {
  local dir=$1 bb=${BUSYBOX:-/bin/busybox}
  mkdir -p "$dir"
  (
    set -e
    umoci init --layout "$dir/oci"
    umoci new --image "$dir/oci:$CALLERS_IMAGE"
    umoci unpack --image "$dir/oci:$CALLERS_IMAGE" "$dir/bundle"
    rootfs=$dir/bundle/rootfs
    mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp}
    chmod 1777 "$rootfs/tmp"
    cp "$bb" "$rootfs/bin/busybox"
    # One symlink per applet, where busybox itself would install it.
    for applet in $("$bb" --list-full); do
      [ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
      >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    umoci repack --image "$dir/oci:$CALLERS_IMAGE" "$dir/bundle"
    umoci config --image "$dir/oci:$CALLERS_IMAGE" --config.cmd sh \
      --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    # Drop the blobs of the intermediate versions.
    umoci gc --layout "$dir/oci"
    tar -C "$dir/oci" -cf "$dir/busybox.tar" .
    rm -rf "$dir/bundle"
  ) >"$dir/build.log" 2>&1
}

# The mount points of every cgroup hierarchy (v1 and v2).
callers_cgroup_mounts() {
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts
}

# callers_cgroup_list PARENT...: every cgroup directory at or below
# <hierarchy>/PARENT, in every hierarchy, children after their parents.
callers_cgroup_list() {
  local mnt parent
  for mnt in $(callers_cgroup_mounts); do
    for parent in "$@"; do
      [ -d "$mnt/$parent" ] && find "$mnt/$parent" -type d
    done
  done
  return 0
}

# callers_cgroup_snapshot FILE PARENT...: records the cgroups that exist now.
callers_cgroup_snapshot() {
  local file=$1
  shift
  callers_cgroup_list "$@" | sort >"$file"
}

# callers_cgroup_new FILE PARENT...: the cgroups that did not exist when
# FILE was recorded, deepest first.
callers_cgroup_new() {
  local file=$1
  shift
  callers_cgroup_list "$@" | sort | comm -13 "$file" - | awk '{ print length($0) " " $0 }' |
    sort -rn | cut -d' ' -f2-
}

# callers_cgroup_cleanup FILE PARENT...: removes the cgroups that appeared
# since the snapshot FILE (all of them made for this file's containers by
# the callers and runtimes under test). Any process still in one (a runtime
# that failed half-way) is thawed and killed first. Prints what could not be
# removed.
callers_cgroup_cleanup() {
  local file=$1 cg pid i
  shift
  [ -f "$file" ] || return 0
  for cg in $(callers_cgroup_new "$file" "$@"); do
    [ -d "$cg" ] || continue
    if [ -s "$cg/cgroup.procs" ]; then
      [ -e "$cg/freezer.state" ] && echo THAWED >"$cg/freezer.state" 2>/dev/null
      [ -e "$cg/cgroup.freeze" ] && echo 0 >"$cg/cgroup.freeze" 2>/dev/null
      while read -r pid; do
        kill -9 "$pid" 2>/dev/null
      done <"$cg/cgroup.procs"
      for ((i = 0; i < 50; i++)); do
        [ -s "$cg/cgroup.procs" ] || break
        sleep 0.1
      done
    fi
    rmdir "$cg" 2>/dev/null || echo "cgroup $cg could not be removed"
  done
  return 0
}

# callers_pids_with TEXT: pids of the processes whose command line contains
# TEXT (a path unique to this file: conmon, podman's cleanup processes,
# containerd and its shims all carry it).
callers_pids_with() {
  local p argv
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    # (a builtin: a fork per process would make this take seconds)
    { mapfile -d '' -t argv <"$p/cmdline"; } 2>/dev/null || continue
    [[ "${argv[*]}" == *"$1"* ]] && echo "${p#/proc/}"
  done
  return 0
}

# callers_alive PID: PID exists and has not exited (a zombie has).
callers_alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# callers_stop_pids_with TEXT [GRACE]: waits up to GRACE seconds (default 10)
# for the processes callers_pids_with TEXT finds to end by themselves, then
# sends them SIGTERM, then SIGKILL.
callers_stop_pids_with() {
  local text=$1 grace=${2:-10} i pids
  for ((i = 0; i < grace * 10; i++)); do
    pids=$(callers_pids_with "$text")
    [ -z "$pids" ] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    pids=$(callers_pids_with "$text")
    [ -z "$pids" ] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  sleep 0.2
  return 0
}

# callers_mounts_under DIR: mount points at or below DIR, deepest first.
callers_mounts_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# callers_unmount_under DIR: unmounts everything at or below DIR.
callers_unmount_under() {
  local m i
  for ((i = 0; i < 5; i++)); do
    [ -z "$(callers_mounts_under "$1")" ] && return 0
    for m in $(callers_mounts_under "$1"); do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
  done
  return 0
}

# callers_leftovers DIR SNAPSHOT PARENT...: prints everything of this file
# still on the machine: mounts below DIR, processes naming DIR, cgroups new
# since SNAPSHOT. Nothing printed = clean.
callers_leftovers() {
  local dir=$1 snap=$2 m p cg
  shift 2
  for m in $(callers_mounts_under "$dir"); do echo "mount $m"; done
  for p in $(callers_pids_with "$dir"); do
    echo "process $p: $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)"
  done
  if [ -f "$snap" ]; then
    for cg in $(callers_cgroup_new "$snap" "$@"); do echo "cgroup $cg"; done
  fi
  return 0
}

# callers_rmdir_if_new DIR EXISTED: removes DIR's empty directories (DIR
# included) if DIR did not exist before this file (EXISTED = 0). Runtime
# state roots such as /run/containerd and /run/berth are created on demand
# by the callers and runtimes.
callers_rmdir_if_new() {
  [ "$2" = 0 ] || return 0
  [ -d "$1" ] || return 0
  find "$1" -depth -type d -empty -delete 2>/dev/null
  return 0
}

# callers_v2_has CONTROLLER: the cgroup v2 hierarchy offers CONTROLLER.
callers_v2_has() {
  local mnt
  # The fields after " - " are the type and source; optional fields vary.
  mnt=$(awk '{for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break }}' \
    /proc/self/mountinfo | head -1)
  [ -n "$mnt" ] && grep -qw "$1" "$mnt/cgroup.controllers"
}
