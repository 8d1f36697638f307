#!/bin/busybox sh
# shellcheck shell=dash
# /init of the test guest (tests/vm/run.sh packs it into the initramfs).
#
# Serial ports: ttyS0 is the console (kernel and these messages), ttyS1
# carries the job's output, ttyS2 the markers run.sh waits for:
#   berth-vm: ready
#   berth-vm: exit N
# The host's root arrives read-only over virtiofs (tag "hostroot"); the job
# runs chrooted into it, with the guest's own proc, sys, dev, a pure cgroup v2
# tree and tmpfs on /tmp and /run on top. The kernel command line names the
# job script (berth.job=/host/path/job.sh).
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /mnt/host
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

say() { echo "berth-vm: $*" > /dev/console; }
fail() {
  say "init failed: $*"
  poweroff -f
  sleep 60
}

mount -t proc proc /proc || fail "mount proc"
mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"

# Modules listed in dependency order by run.sh.
while read -r mod; do
  insmod "/lib/modules/$mod.ko" || fail "insmod $mod"
done < /modules.order

# Raw, so that the host reads the bytes the job wrote (no \n -> \r\n).
for t in /dev/ttyS1 /dev/ttyS2; do
  [ -c "$t" ] || fail "$t is missing"
  stty -F "$t" raw -echo 115200 || fail "stty $t"
done
mark() { echo "berth-vm: $*" > /dev/ttyS2; }

job='' dump_after='' keep=''
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    berth.job=*) job=${arg#berth.job=} ;;
    berth.dump_after=*) dump_after=${arg#berth.dump_after=} ;;
    berth.keep=*) keep=${arg#berth.keep=} ;;
  esac
done
[ -n "$job" ] || fail "no berth.job= on the kernel command line"

# The virtio-pci device may show up a little after the driver loads.
host=/mnt/host
i=0
until mount -t virtiofs -o ro hostroot "$host" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -lt 50 ] || fail "mount virtiofs hostroot"
  sleep 0.1
done
# Copied now: the cache that holds it may be under /tmp, hidden below.
cp "$host$job" /job.sh || fail "job script $job is not visible in the guest"

mount -t proc proc "$host/proc" || fail "mount proc in the host root"
mount -t sysfs sysfs "$host/sys" || fail "mount sysfs in the host root"
mount -t cgroup2 cgroup2 "$host/sys/fs/cgroup" || fail "mount cgroup2"
mount -t devtmpfs devtmpfs "$host/dev" || fail "mount devtmpfs in the host root"
mkdir -p "$host/dev/pts" "$host/dev/shm" 2>/dev/null
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$host/dev/pts" || fail "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs "$host/dev/shm" || fail "mount /dev/shm"
# The working directory, when under /tmp or /run, is kept visible above
# the guest's own tmpfs there.
if [ -n "$keep" ]; then
  mkdir -p /keep && mount --bind "$host$keep" /keep || fail "bind $keep"
fi
mount -t tmpfs -o mode=1777 tmpfs "$host/tmp" || fail "mount /tmp"
mount -t tmpfs -o mode=755 tmpfs "$host/run" || fail "mount /run"
if [ -n "$keep" ]; then
  mkdir -p "$host$keep" && mount --bind /keep "$host$keep" || fail "bind $keep back"
fi
cp /job.sh "$host/run/berth-vm-job.sh" || fail "copy the job script"

# Every controller the kernel offers, enabled for the guest's whole tree.
cg=$host/sys/fs/cgroup
for c in $(cat "$cg/cgroup.controllers"); do
  echo "+$c" > "$cg/cgroup.subtree_control" || fail "enable cgroup controller $c"
done
say "cgroup controllers: $(cat "$cg/cgroup.controllers")"

mark ready
say ready
# Through a fifo, so that the job's stdout is not a terminal (no colour
# codes), and so that a process the job left behind cannot hold the output
# open: once the job is done and the reader has drained what is there,
# everything else is killed.
# Shortly before run.sh gives up, show on the console what is stuck where.
if [ -n "$dump_after" ]; then
  (
    sleep "$dump_after"
    {
      echo "berth-vm: still running after $dump_after s; processes:"
      ps -o pid,ppid,stat,time,args
      for d in /proc/[0-9]*; do
        [ -s "$d/cmdline" ] || continue
        echo "berth-vm: stack of ${d#/proc/} ($(tr '\0' ' ' < "$d/cmdline" | cut -c1-80)):"
        cat "$d/stack" 2>/dev/null
      done
      echo "berth-vm: cgroups with processes:"
      find "$cg" -name cgroup.procs | while read -r f; do
        [ -s "$f" ] && echo "${f%/cgroup.procs}: $(tr '\n' ' ' < "$f") freeze=$(cat "${f%/cgroup.procs}/cgroup.freeze" 2>/dev/null)"
      done
    } > /dev/console 2>&1
    echo w > /proc/sysrq-trigger
  ) &
fi

mkfifo /tmp/out
{ cat /tmp/out > /dev/ttyS1; touch /tmp/drained; } &
chroot "$host" /bin/bash /run/berth-vm-job.sh < /dev/null > /tmp/out 2>&1
rc=$?
i=0
while [ ! -e /tmp/drained ] && [ "$i" -lt 30 ]; do
  sleep 0.1
  i=$((i + 1))
done
kill -9 -1 2>/dev/null
sync
mark "exit $rc"
say "exit $rc"
poweroff -f
sleep 60
