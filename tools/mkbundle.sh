#!/bin/sh
# Makes an OCI bundle with a busybox-static root filesystem.
#
#   tools/mkbundle.sh DIR [ARG...]
#
# DIR/rootfs gets /bin/busybox and a link for each of its applets, and a
# minimal /etc; DIR/config.json runs ARG... (default: a greeting) without a
# terminal, in new pid, network, ipc, uts, mount and cgroup namespaces, with a
# read-only root. The same bundle serves the demo, the benchmarks and the
# end-to-end tests.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [ARG...]" >&2
  exit 2
fi
dir=$1
shift
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "$0: $busybox not found (apt install busybox-static)" >&2
  exit 1
fi

rm -rf "$dir"
mkdir -p "$dir/rootfs"
cd "$dir/rootfs"
mkdir -p bin dev etc proc sys tmp root
chmod 1777 tmp
cp "$busybox" bin/busybox
for applet in $(bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > etc/passwd
printf 'root:x:0:\n' > etc/group
printf 'berth\n' > etc/hostname
cd ..

if [ $# -eq 0 ]; then
  set -- sh -c 'echo "Hello from berth: a busybox container in its own namespaces (pid $$, host $(hostname))"'
fi
# JSON string array of the arguments.
args=
for a in "$@"; do
  esc=$(printf '%s' "$a" | sed 's/\\/\\\\/g; s/"/\\"/g')
  args="$args${args:+, }\"$esc\""
done

cat > config.json <<JSON
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": [$args],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "berth",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
JSON
