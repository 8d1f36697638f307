#!/usr/bin/env bash
# Runs one command inside a small QEMU guest whose kernel has a pure cgroup v2
# tree, and passes its output (stdout and stderr, as one stream) and exit
# status back.
#
#   tests/vm/run.sh [--timeout SECONDS] [--env NAME=VALUE]... [--] COMMAND [ARG...]
#
# The guest (software emulation, -M pc, 512 MiB, 2 CPUs) runs Debian's
# linux-image-cloud-amd64 kernel, downloaded once with apt-get download and
# extracted into the cache, and a busybox initramfs (tests/vm/init.sh) built
# there too (the kernel is reused until the cache is removed). The host's root
# filesystem (without its submounts) is shared read-only over virtiofs, the
# cloud kernel having no 9p, and the command runs chrooted into it, in the
# host's current directory, with the guest's own /proc, /sys, /dev, cgroup2 on
# /sys/fs/cgroup (every controller enabled in the root's subtree_control) and
# tmpfs on /tmp and /run. The command sees
# BERTH_VM_GUEST=1 and TMPDIR=/tmp; BERTH_RUNTIME is passed on when set.
#
# The guest suite and, as a check of the suite itself, the same against runc:
#   BERTH_RUNTIME=$PWD/build/src/berth-runtime tests/vm/run.sh build/tests/vm/vm-tests
#   BERTH_RUNTIME=/usr/sbin/runc tests/vm/run.sh build/tests/vm/vm-tests
#
# Exit status: the command's; 124 when the whole run, preparation included,
# took longer than --timeout (default 540 s, inside CI's 10 minutes); 125 when
# the guest did not come up after a retry (the serial console log is printed)
# or could not be prepared.
#
# Environment: BERTH_VM_CACHE (default /var/cache/berth-vm), BERTH_VM_BOOT_TIMEOUT
# (seconds until the guest must be ready, default 60), BERTH_VM_KEEP=1 keeps the
# run directory (logs) for a look afterwards.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
boot_timeout=${BERTH_VM_BOOT_TIMEOUT:-60}
timeout=540
envs=()

die() {
  echo "vm: $*" >&2
  exit 125
}
usage() {
  echo "usage: $0 [--timeout SECONDS] [--env NAME=VALUE]... [--] COMMAND [ARG...]" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
    --env=*) envs+=("${1#*=}"); shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
[[ "$timeout" =~ ^[0-9]+$ ]] || usage
# One budget for everything, a first kernel download included.
deadline=$((SECONDS + timeout))
[ -n "${BERTH_RUNTIME:-}" ] && envs=("BERTH_RUNTIME=$BERTH_RUNTIME" "${envs[@]}")
for e in "${envs[@]}"; do
  [[ "$e" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants NAME=VALUE, not '$e'"
done

[ "$(id -u)" -eq 0 ] || die "needs root (virtiofsd shares the host root with the guest)"
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is missing (apt install qemu-system-x86)"
virtiofsd=/usr/lib/qemu/virtiofsd
[ -x "$virtiofsd" ] || die "$virtiofsd is missing (apt install qemu-system-x86)"
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox is missing (apt install busybox-static)"
case "$PWD$cache" in *[[:space:]]*) die "the cache and the current directory must not contain spaces" ;; esac

mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)
# Only the host's root filesystem is shared (its submounts are not: they
# could not be made read-only with it), so the cache, the current directory,
# the command and $BERTH_RUNTIME must all live on it. The guest mounts its
# own /tmp, /run, /dev, /proc and /sys over the host's, so the last three
# must not be there either (the guest copies its job script before that).
cmd=$(command -v "$1") || die "$1: command not found"
rootdev=$(stat -c %d /)
# A working directory under /tmp or /run (a clone made there) is carried over
# the guest's own /tmp and /run by a bind mount; what runs must be inside it.
keep=
case "$(readlink -f "$PWD")/" in /tmp/* | /run/*) keep=$(readlink -f "$PWD") ;; esac
for p in "$cache" "$PWD" "$cmd" ${BERTH_RUNTIME:+"$BERTH_RUNTIME"}; do
  [ -e "$p" ] || die "$p does not exist"
  [ "$(stat -L -c %d "$p")" = "$rootdev" ] || die "$p is not on the host's root filesystem, which is all the guest sees"
  [ "$p" = "$cache" ] && continue
  real=$(readlink -f "$p")
  [ -n "$keep" ] && case "$real/" in "$keep"/*) continue ;; esac
  case "$real/" in
    /tmp/* | /run/* | /dev/* | /proc/* | /sys/*) die "$p is hidden in the guest, which mounts its own /tmp, /run, /dev, /proc and /sys" ;;
  esac
done

# --- kernel -------------------------------------------------------------------
# $cache/kernel/<package>/ holds vmlinuz, config, the modules the guest needs
# (*.ko) and modules.order (the order to load them in). Once there, it is used
# without asking apt again.

# virtio-pci and virtiofs, with what they depend on; built-in ones are skipped.
wanted_modules="virtio_pci virtiofs"

fetch_kernel() {
  local meta=linux-image-cloud-amd64 pkg dl
  pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
  if [ -z "$pkg" ]; then
    timeout $((deadline - SECONDS)) apt-get update -q >/dev/null 2>&1
    pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
  fi
  [ -n "$pkg" ] || { echo "vm: cannot resolve $meta to a kernel package" >&2; return 1; }
  echo "vm: downloading $pkg (once; kept in $cache/kernel)" >&2
  dl=$(mktemp -d "$cache/download.XXXXXX") || return 1
  # apt drops to _apt for downloads and warns when that user cannot write here.
  id _apt >/dev/null 2>&1 && chown _apt "$dl"
  if ! (cd "$dl" && timeout $((deadline - SECONDS)) apt-get download -q "$pkg" >/dev/null 2>"$dl/apt.log"); then
    cat "$dl/apt.log" >&2
    rm -rf "$dl"
    return 1
  fi
  local deb
  deb=$(ls "$dl"/*.deb 2>/dev/null | head -1)
  if [ -z "$deb" ] || ! dpkg -x "$deb" "$dl/x"; then
    rm -rf "$dl"
    return 1
  fi
  local out=$dl/kernel moddir order=
  mkdir -p "$out"
  if ! cp "$dl"/x/boot/vmlinuz-* "$out/vmlinuz" || ! cp "$dl"/x/boot/config-* "$out/config"; then
    rm -rf "$dl"
    return 1
  fi
  moddir=$(ls -d "$dl"/x/lib/modules/* | head -1)
  add_module() {  # add_module NAME: its dependencies first
    local name=$1 file dep
    case " $order " in *" $name "*) return 0 ;; esac
    grep -qE "/$name\.ko$" "$moddir/modules.builtin" 2>/dev/null && return 0
    file=$(find "$moddir/kernel" -name "$name.ko" | head -1)
    [ -n "$file" ] || { echo "vm: module $name is neither built in nor in $pkg" >&2; return 1; }
    for dep in $(tr '\0' '\n' < "$file" | sed -n 's/^depends=//p' | tr ',' ' '); do
      add_module "$dep" || return 1
    done
    cp "$file" "$out/" && order="$order $name"
  }
  local m
  for m in $wanted_modules; do add_module "$m" || { rm -rf "$dl"; return 1; }; done
  # shellcheck disable=SC2086  # one module name a line
  printf '%s\n' $order > "$out/modules.order"
  mkdir -p "$cache/kernel"
  rm -rf "${cache:?}/kernel/$pkg"
  mv "$out" "$cache/kernel/$pkg" && rm -rf "$dl"
}

# --- initramfs ----------------------------------------------------------------

build_initramfs() {  # build_initramfs KERNELDIR -> prints the image's path
  local kdir=$1 key img tmp
  key=$(cat "$here/init.sh" "$busybox" "$kdir/modules.order" "$kdir"/*.ko | sha256sum | cut -c1-16)
  img=$cache/initramfs-$key.cpio.gz
  if [ ! -s "$img" ]; then
    tmp=$(mktemp -d "$cache/initramfs.XXXXXX") || return 1
    mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/lib/modules"
    cp "$busybox" "$tmp/root/bin/busybox" &&
      install -m 755 "$here/init.sh" "$tmp/root/init" &&
      cp "$kdir"/*.ko "$tmp/root/lib/modules/" &&
      cp "$kdir/modules.order" "$tmp/root/modules.order" &&
      mknod -m 600 "$tmp/root/dev/console" c 5 1 &&
      (cd "$tmp/root" && find . | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null | gzip -6) > "$tmp/img" &&
      rm -f "$cache"/initramfs-*.cpio.gz &&
      mv "$tmp/img" "$img"
    local st=$?
    rm -rf "$tmp"
    [ "$st" -eq 0 ] || return 1
  fi
  echo "$img"
}

exec 9>"$cache/lock"
flock 9
kdir=$(ls -d "$cache"/kernel/*/ 2>/dev/null | sort -V | tail -1)
kdir=${kdir%/}
if [ -z "$kdir" ] || [ ! -s "$kdir/vmlinuz" ]; then
  fetch_kernel || die "cannot fetch the guest kernel"
  kdir=$(ls -d "$cache"/kernel/*/ | sort -V | tail -1)
  kdir=${kdir%/}
fi
initrd=$(build_initramfs "$kdir") || die "cannot build the initramfs"
exec 9>&-

# --- one run ------------------------------------------------------------------

run_dir=$(mktemp -d "$cache/run.XXXXXX") || die "mktemp"
view=$run_dir/view  # the read-only bind of / is made only in virtiofsd's mount namespace
mkdir "$view"
qemu_pid='' vfs_pid='' tail_pid=''

stop() {
  local pid
  for pid in $tail_pid $qemu_pid $vfs_pid; do
    kill "$pid" 2>/dev/null
  done
  for pid in $tail_pid $qemu_pid $vfs_pid; do
    wait "$pid" 2>/dev/null
  done
  tail_pid='' qemu_pid='' vfs_pid=''
}
cleanup() {
  stop
  if [ "${BERTH_VM_KEEP:-}" = 1 ]; then
    echo "vm: run directory kept: $run_dir" >&2
    return
  fi
  # Never rm -r here: $view is where / is bound inside virtiofsd's namespace.
  rmdir "$view" 2>/dev/null
  rm -f "$run_dir"/job.sh "$run_dir"/*.log "$run_dir"/*.out "$run_dir"/*.ctl "$run_dir"/*.sock
  rmdir "$run_dir" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

{
  echo "# written by tests/vm/run.sh, run by bash in the guest (printf %q quoting)"
  echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp LC_ALL=C.UTF-8 BERTH_VM_GUEST=1"
  for e in "${envs[@]}"; do
    printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
  done
  printf 'cd %q || exit 125\n' "$PWD"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} > "$run_dir/job.sh"

# boot ATTEMPT: 0 once the guest said "ready", 1 if it did not.
boot() {
  local n=$1 sock=$run_dir/vfs$1.sock
  console=$run_dir/console$n.log out=$run_dir/job$n.out ctl=$run_dir/guest$n.ctl
  : > "$console"
  : > "$out"
  : > "$ctl"
  # A private mount namespace keeps the read-only bind of / away from the
  # host's mount table; it goes away with virtiofsd.
  unshare -m --propagation private sh -c '
    mount --bind / "$1" && mount -o remount,bind,ro "$1" &&
    exec "$2" --socket-path="$3" -o source="$1" -o cache=auto -o no_posix_lock --rlimit-nofile=0' \
    sh "$view" "$virtiofsd" "$sock" > "$run_dir/virtiofsd$n.log" 2>&1 &
  vfs_pid=$!
  for _ in $(seq 100); do
    [ -S "$sock" ] && break
    kill -0 "$vfs_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -S "$sock" ]; then
    echo "vm: virtiofsd did not start:" >&2
    cat "$run_dir/virtiofsd$n.log" >&2
    return 1
  fi
  # The guest shows its processes on the console shortly before the deadline.
  local dump_after=$((deadline - SECONDS - 20))
  [ "$dump_after" -ge 10 ] || dump_after=10
  "$qemu" -M pc,memory-backend=mem -accel tcg -m 512M -smp 2 -nographic -no-reboot -monitor none -nic none \
    -object memory-backend-memfd,id=mem,size=512M,share=on \
    -chardev socket,id=vfs,path="$sock" -device vhost-user-fs-pci,chardev=vfs,tag=hostroot \
    -kernel "$kdir/vmlinuz" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 berth.job=$run_dir/job.sh berth.dump_after=$dump_after${keep:+ berth.keep=$keep}" \
    -serial file:"$console" -serial file:"$out" -serial file:"$ctl" \
    < /dev/null > "$run_dir/qemu$n.log" 2>&1 &
  qemu_pid=$!
  local start=$SECONDS
  while [ $((SECONDS - start)) -lt "$boot_timeout" ] && [ "$SECONDS" -lt "$deadline" ]; do
    grep -q '^berth-vm: ready' "$ctl" && return 0
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.2
  done
  grep -q '^berth-vm: ready' "$ctl" && return 0
  return 1
}

started=$SECONDS
ready=0
for attempt in 1 2; do
  if boot "$attempt"; then
    ready=1
    break
  fi
  echo "vm: the guest did not come up (attempt $attempt)" >&2
  stop
done
if [ "$ready" -ne 1 ]; then
  for attempt in 1 2; do
    [ -e "$run_dir/console$attempt.log" ] || continue
    echo "vm: ---- serial console, attempt $attempt ----" >&2
    cat "$run_dir/console$attempt.log" >&2
    [ -s "$run_dir/qemu$attempt.log" ] && { echo "vm: ---- qemu ----" >&2; cat "$run_dir/qemu$attempt.log" >&2; }
    [ -s "$run_dir/virtiofsd$attempt.log" ] && { echo "vm: ---- virtiofsd ----" >&2; cat "$run_dir/virtiofsd$attempt.log" >&2; }
  done
  echo "vm: the guest did not boot after a retry" >&2
  exit 125
fi
echo "vm: guest ready after $((SECONDS - started)) s (attempt $attempt)" >&2

tail -s 0.2 -c +1 -f --pid="$qemu_pid" "$out" &
tail_pid=$!
while kill -0 "$qemu_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
  sleep 0.5
done
timed_out=0
if kill -0 "$qemu_pid" 2>/dev/null; then
  timed_out=1
  kill "$qemu_pid" 2>/dev/null
fi
wait "$qemu_pid" 2>/dev/null
qemu_pid=
wait "$tail_pid" 2>/dev/null
tail_pid=

status=$(sed -n 's/^berth-vm: exit \([0-9][0-9]*\).*/\1/p' "$ctl" | tail -1)
if [ "$timed_out" -eq 1 ] || [ -z "$status" ]; then
  if [ "$timed_out" -eq 1 ]; then
    echo "vm: the run took longer than $timeout s: guest stopped" >&2
  else
    echo "vm: the guest stopped without reporting an exit status" >&2
  fi
  echo "vm: ---- serial console (last 200 lines) ----" >&2
  tail -200 "$console" >&2
  [ "$timed_out" -eq 1 ] && exit 124
  exit 125
fi
echo "vm: guest run took $((SECONDS - started)) s, exit status $status" >&2
exit "$status"
