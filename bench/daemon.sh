#!/usr/bin/env bash
# Daemon benchmark: `berth run --rm busybox true` end to end through berthd
# (client, API, berth-monitor, runtime) against `podman run --rm` of the same
# image with crun, in one hyperfine invocation; then berthd's idle resident
# size and one berth-monitor's while its container runs. See bench/README.md.
# crun refuses hosts with a hybrid cgroup layout ("cgroups in hybrid mode not
# supported"): there podman runs with runc instead, and the report says so.
#
#   bench/daemon.sh [--runs N]
#
# Prints a markdown report on stdout. Needs root. Everything it makes lives
# under a scratch directory and a cgroup parent of its own, removed at exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=50
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/daemon.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

"$repo/scripts/install-deps.sh" --bench >&2
[ -x "$repo/build/src/berthd" ] && [ -x "$repo/build/src/berth" ] || "$repo/scripts/build.sh" >&2
bin=$repo/build/src
image=$repo/build/tools/busybox-image

work=$(mktemp -d /var/tmp/berth-bench-daemon-XXXXXX)
sock=$work/berthd.sock
cgparent=/berth-bench-$$
berthd_pid=
pod=(podman --root "$work/podman/root" --runroot "$work/podman/runroot" --tmpdir "$work/podman/tmp"
  --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
berth=("$bin/berth" -H "unix://$sock")

cleanup() {
  if [ -n "$berthd_pid" ]; then
    for id in $("${berth[@]}" ps -a -q 2>/dev/null); do "${berth[@]}" rm -f "$id" >/dev/null 2>&1 || true; done
    kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null
  fi
  "${pod[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
  "${pod[@]}" system reset -f >/dev/null 2>&1 || true
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  find /sys/fs/cgroup -maxdepth 3 -type d -name "${cgparent#/}" 2>/dev/null |
    while read -r d; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# berthd in a network namespace of its own: its containers' networks never
# touch the host's (the runs use --network none, as podman's do).
unshare --net "$bin/berthd" -H "unix://$sock" --data-root "$work/data" --exec-root "$work/exec" \
  --builtin-image "$image" --cgroup-parent "$cgparent" >"$work/berthd.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do
  "${berth[@]}" version >/dev/null 2>&1 && break
  sleep 0.1
done
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/${3:-status}"; }
sleep 1
berthd_rss_start=$(kib "$berthd_pid" VmRSS)

# The same image for podman, from a file: no registry is asked.
skopeo copy -q "oci:$image:latest" "docker-archive:$work/busybox.tar:busybox:latest"
"${pod[@]}" load -q -i "$work/busybox.tar" >/dev/null
podman_flags="run --rm --network none --pull never --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 busybox true"
podman_runtime=crun
if ! ${pod[*]} --runtime crun $podman_flags >"$work/crun.err" 2>&1; then
  echo "podman with crun fails here ($(tail -1 "$work/crun.err")); using runc" >&2
  podman_runtime=runc
fi
podman_run="${pod[*]} --runtime $podman_runtime $podman_flags"

hyperfine --style basic --runs "$runs" --warmup 3 --export-json "$work/run.json" \
  -n "berth run --rm (berthd)" "${berth[*]} run --rm --network none busybox true" \
  -n "podman run --rm ($podman_runtime)" "$podman_run" >&2

sleep 1
berthd_rss_idle=$(kib "$berthd_pid" VmRSS)
"${berth[@]}" run -d --name bench-monitor busybox sleep 1000 >/dev/null
sleep 1
mon_pid=$(cat "$work"/data/containers/*/monitor.pid)
mon_rss=$(kib "$mon_pid" VmRSS)
mon_pss=$(kib "$mon_pid" Pss smaps_rollup)
"${berth[@]}" rm -f bench-monitor >/dev/null

read -r berth_mean berth_sd podman_mean podman_sd < <(jq -r \
  '[.results[0].mean, .results[0].stddev, .results[1].mean, .results[1].stddev] | map(. * 1000) | @tsv' "$work/run.json")
ratio=$(awk -v a="$berth_mean" -v b="$podman_mean" 'BEGIN { printf "%.2f", a / b }')

cat <<EOF
## berth run --rm against podman run --rm ($podman_runtime)

$(date -u +%Y-%m-%d), $(nproc) CPUs, kernel $(uname -r), $runs runs each after 3 warm-ups (hyperfine).

| command | mean (ms) | σ (ms) |
|---|---:|---:|
| \`berth run --rm --network none busybox true\` (berthd, berth-monitor, berth-runtime) | $(printf '%.1f' "$berth_mean") | $(printf '%.1f' "$berth_sd") |
| \`podman run --rm --network none busybox true\` (conmon, $podman_runtime) | $(printf '%.1f' "$podman_mean") | $(printf '%.1f' "$podman_sd") |

berth / podman: **$ratio×** (target ≤ 0.5).$([ "$podman_runtime" = crun ] || echo " crun refuses this host's hybrid cgroup layout, so podman ran runc.")

| resident size | KiB | target |
|---|---:|---:|
| berthd, idle after start-up | $berthd_rss_start | ≤ 10240 |
| berthd, idle after the runs above | $berthd_rss_idle | ≤ 10240 |
| berth-monitor of a running container (VmRSS) | $mon_rss | ≤ 1024 |
| berth-monitor of a running container (PSS) | $mon_pss | |
EOF
