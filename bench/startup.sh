#!/usr/bin/env bash
# Start-up benchmark: berth-runtime, runc and crun run /bin/true in the same
# bundle, side by side. See bench/README.md.
#
#   bench/startup.sh [--runs N] [--warmup N] [--rounds N] [--rss-runs N]
#                    [--quick] [--wrap-each] [--out DIR] [--no-install]
#
# Prints a markdown report on stdout; hyperfine's progress goes to stderr.
set -euo pipefail

prog=bench/startup.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<EOF
usage: $prog [options]

Runs /bin/true in one busybox bundle (tools/mkbundle.sh) with berth-runtime,
runc and crun, in the same hyperfine invocation, and reports for each the
median, mean ± stddev and min wall time of \`RUNTIME run\`, the ratios
berth/crun and berth/runc, and the median peak RSS measured with GNU time
(\`/usr/bin/time -f %M\`). Needs root.

options:
  --runs N        timed runs per runtime, over all rounds (default 100; env RUNS)
  --warmup N      warm-up runs per runtime in each round (default 10; env WARMUP)
  --rounds N      hyperfine invocations, the command order rotated in each, the
                  runs split evenly between them (default 5; env ROUNDS)
  --rss-runs N    GNU time runs per runtime for the peak RSS (default 11; env RSS_RUNS)
  --quick         smoke run: --runs 10 --warmup 2 --rounds 2 --rss-runs 3
  --wrap-each     wrap every single run in its own
                  \`unshare -m --propagation private sh -c 'mount --bind ...; exec ...'\`
                  and time that wrapper alone too (default: the whole benchmark
                  runs in one private mount namespace, set up once)
  --out DIR       output directory (default bench/results/<date>-<time>; env OUT_DIR)
  --no-install    never apt-get install missing tools; fail instead
  -h, --help      this help

environment:
  BERTH_RUNTIME   the berth-runtime binary (default: build/src/berth-runtime of the repo)
  RUNC, CRUN      the runc and crun binaries (default: from PATH)

The output directory receives report.md (what stdout shows), hyperfine-round-K.json
(hyperfine --export-json, one per round), rss.tsv (every GNU time sample),
commands.txt (the exact command lines), cgroups.txt (what each runtime left
behind under the benchmark's cgroup parent) and machine.txt.
EOF
}

die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# ---------------------------------------------------------------- options
RUNS=${RUNS:-100}
WARMUP=${WARMUP:-10}
ROUNDS=${ROUNDS:-5}
RSS_RUNS=${RSS_RUNS:-11}
OUT_DIR=${OUT_DIR:-}
WRAP_EACH=${WRAP_EACH:-0}
NO_INSTALL=${NO_INSTALL:-0}
INNER=0

while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --warmup) WARMUP=${2:?--warmup needs a number}; shift 2 ;;
    --warmup=*) WARMUP=${1#*=}; shift ;;
    --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
    --rounds=*) ROUNDS=${1#*=}; shift ;;
    --rss-runs) RSS_RUNS=${2:?--rss-runs needs a number}; shift 2 ;;
    --rss-runs=*) RSS_RUNS=${1#*=}; shift ;;
    --quick) RUNS=10 WARMUP=2 ROUNDS=2 RSS_RUNS=3; shift ;;
    --wrap-each) WRAP_EACH=1; shift ;;
    --out) OUT_DIR=${2:?--out needs a directory}; shift 2 ;;
    --out=*) OUT_DIR=${1#*=}; shift ;;
    --no-install) NO_INSTALL=1; shift ;;
    --inner) INNER=1; shift ;;  # internal: the half that runs in the private mount namespace
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
for v in RUNS WARMUP ROUNDS RSS_RUNS; do
  is_uint "${!v}" || die "$v must be a whole number, not '${!v}'"
done
[ "$RUNS" -ge 1 ] && [ "$ROUNDS" -ge 1 ] && [ "$RSS_RUNS" -ge 1 ] || die "--runs, --rounds and --rss-runs must be at least 1"
[ "$ROUNDS" -le "$RUNS" ] || ROUNDS=$RUNS
# Paths end up inside shell command strings that hyperfine runs: keep them plain.
plain_path() { [[ $1 =~ ^[A-Za-z0-9_./+:@-]+$ ]] || die "path must not contain spaces, quotes or shell characters: '$1'"; }

cgroup_dirs() {  # every directory called $1 at the top of a cgroup hierarchy
  local d
  for d in /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1"; do
    [ -d "$d" ] && [ ! -L "${d%/*}" ] && echo "$d"
  done
  return 0
}

# Removes the cgroup parent this run created, in every hierarchy: rmdir only,
# deepest first, and only below /sys/fs/cgroup/[*/]$1, a name unique to this run.
remove_cgroups() {
  local name=$1 d sub rc=0
  [[ $name == berth-bench-* ]] || return 1
  for d in $(cgroup_dirs "$name"); do
    while IFS= read -r sub; do
      rmdir "$sub" 2>/dev/null && continue
      [ -d "$sub" ] || continue
      # Still busy: only a container this run started (interrupted half-way)
      # can be in a cgroup below the parent this run created.
      local pid
      for pid in $(cat "$sub/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      sleep 0.2
      rmdir "$sub" 2>/dev/null || { [ -d "$sub" ] && note "could not remove cgroup $sub" && rc=1; }
    done < <(find "$d" -depth -mindepth 0 -type d 2>/dev/null)
  done
  return $rc
}

# ===================================================== outer half (host namespace)
if [ "$INNER" = 0 ]; then
  [ "$(id -u)" = 0 ] || die "must run as root (the runtimes create namespaces and cgroups)"

  # --- tools
  missing=()
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v "${RUNC:-runc}" >/dev/null || missing+=(runc)
  command -v "${CRUN:-crun}" >/dev/null || missing+=(crun)
  command -v jq >/dev/null || missing+=(jq)
  # mkbundle.sh copies /bin/busybox into the rootfs alone: it must be static.
  if [ ! -x /bin/busybox ] || [[ $(ldd /bin/busybox 2>&1) != *"not a dynamic"* ]]; then
    missing+=(busybox-static)
  fi
  command -v unshare >/dev/null && command -v nsenter >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$NO_INSTALL" = 1 ] || ! command -v apt-get >/dev/null; then
      die "missing: ${missing[*]} (install with: apt-get install -y ${missing[*]})"
    fi
    note "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y "${missing[@]}" >&2; then
      apt-get update >&2 && apt-get install -y "${missing[@]}" >&2 ||
        die "could not install ${missing[*]}; install them by hand"
    fi
  fi
  /usr/bin/time -f %M true >/dev/null 2>&1 || die "/usr/bin/time is not GNU time (apt-get install time)"

  # --- runtimes
  BERTH_RUNTIME=${BERTH_RUNTIME:-$repo/build/src/berth-runtime}
  [ -x "$BERTH_RUNTIME" ] || die "berth-runtime not found at $BERTH_RUNTIME: build it (scripts/build.sh, or meson setup build && ninja -C build src/berth-runtime) or set BERTH_RUNTIME"
  BERTH_RUNTIME=$(realpath "$BERTH_RUNTIME")
  RUNC=$(command -v "${RUNC:-runc}")
  CRUN=$(command -v "${CRUN:-crun}")
  for p in "$BERTH_RUNTIME" "$RUNC" "$CRUN"; do plain_path "$p"; done

  # --- output directory
  OUT_DIR=${OUT_DIR:-$here/results/$(date +%Y-%m-%d-%H%M%S)}
  mkdir -p "$OUT_DIR" || die "cannot create output directory $OUT_DIR"
  OUT_DIR=$(realpath "$OUT_DIR")

  # --- per-run names: a temp dir (a tmpfs is mounted on it, inside the private
  # namespace only) and a cgroup parent name nobody else uses.
  CG_NAME=berth-bench-$$
  [ -z "$(cgroup_dirs "$CG_NAME")" ] || die "cgroup $CG_NAME already exists; not touching it"
  WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
  plain_path "$WORK"

  cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    remove_cgroups "$CG_NAME" || rc=1
    # The tmpfs lived in the inner mount namespace; here WORK is a plain directory.
    if ! findmnt -rn -o TARGET | grep -qxF "$WORK"; then rm -rf "$WORK"; fi
    exit $rc
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  export BERTH_RUNTIME RUNC CRUN OUT_DIR CG_NAME WORK RUNS WARMUP ROUNDS RSS_RUNS WRAP_EACH
  # Everything else happens in a private mount namespace: the host's mounts
  # are never changed, and the tmpfs and bind mount vanish with it.
  set +e
  unshare -m --propagation private -- bash "${BASH_SOURCE[0]}" --inner
  rc=$?
  set -e
  exit $rc
fi

# ================================================ inner half (private mount ns)
mount -t tmpfs -o size=256m,mode=0700 berth-bench "$WORK" || die "cannot mount a tmpfs on $WORK"
# A private copy: a rebuild of the build directory during the run cannot swap
# the binary under the benchmark.
BERTH_SRC=$BERTH_RUNTIME
cp "$BERTH_SRC" "$WORK/berth-runtime"
BERTH_RUNTIME=$WORK/berth-runtime
RT_NAMES=(berth-runtime runc crun)
declare -A RT_BIN=([berth-runtime]=$BERTH_RUNTIME [runc]=$RUNC [crun]=$CRUN)
declare -A RT_ID=([berth-runtime]=berth [runc]=runc [crun]=crun)
BUNDLE=$WORK/bundle
CTR=$WORK/counter
EMPTY=$WORK/empty
CONTROLLERS=/sys/fs/cgroup/unified/cgroup.controllers

# --- the bundle: tools/mkbundle.sh, then two edits every runtime needs here:
# crun 1.8.1 rejects ociVersion 1.2.0 ("unknown version specified"), and an
# absolute cgroupsPath keeps every cgroup under this run's own parent.
"$repo/tools/mkbundle.sh" "$BUNDLE" true >/dev/null
jq --arg cg "/$CG_NAME/c" '.ociVersion = "1.0.2" | .linux.cgroupsPath = $cg' \
  "$BUNDLE/config.json" > "$WORK/config.json"
mv "$WORK/config.json" "$BUNDLE/config.json"
cp "$BUNDLE/config.json" "$OUT_DIR/config.json"
echo 0 > "$CTR"
touch "$EMPTY"
for n in "${RT_NAMES[@]}"; do mkdir -p "$WORK/root-${RT_ID[$n]}"; done

# --- cgroup layout and crun's hybrid-mode workaround
fstype() { stat -f -c %T "$1" 2>/dev/null || echo none; }
if [ "$(fstype /sys/fs/cgroup)" = cgroup2fs ]; then
  CG_LAYOUT="unified (cgroup v2 only)"; WORKAROUND=0
elif [ "$(fstype /sys/fs/cgroup/unified)" = cgroup2fs ]; then
  CG_LAYOUT="hybrid (cgroup v1 controllers, cgroup v2 at /sys/fs/cgroup/unified with: $(cat $CONTROLLERS))"
  WORKAROUND=1
else
  CG_LAYOUT="legacy (cgroup v1 only)"; WORKAROUND=0
fi
BIND="mount --bind $EMPTY $CONTROLLERS"
[ "$WORKAROUND" = 1 ] || BIND=true
if [ "$WRAP_EACH" = 0 ] && [ "$WORKAROUND" = 1 ]; then
  $BIND || die "cannot bind-mount over $CONTROLLERS"
fi

# The command that runs one container, as a string for sh. $n is the shell's.
WRAP="unshare -m --propagation private sh -c"
run_cmd() {  # run_cmd NAME ID [PREFIX]: PREFIX (e.g. GNU time) goes before the runtime
  local name=$1 id=$2 prefix=${3:-}
  local inner="${prefix:+$prefix }${RT_BIN[$name]} --root $WORK/root-${RT_ID[$name]} run --bundle $BUNDLE $id"
  if [ "$WRAP_EACH" = 1 ]; then
    echo "$WRAP \"$BIND && exec $inner\""
  else
    echo "$inner"
  fi
}
bench_cmd() {
  local id="${RT_ID[$1]}-\$n"
  echo "read n < $CTR && exec $(run_cmd "$1" "$id")"
}
WRAPPER_NAME="wrapper only"
wrapper_cmd() { echo "read n < $CTR && exec $WRAP \"$BIND && exec /bin/true\""; }
PREPARE="read n < $CTR; echo \$((n + 1)) > $CTR"

: > "$OUT_DIR/cgroups.txt"
# Appends what is under the cgroup parent to cgroups.txt; prints a summary.
record_cgroups() {
  local dirs top leaves
  dirs=$(for d in $(cgroup_dirs "$CG_NAME"); do find "$d" -type d; done)
  { echo "## $1"; echo "${dirs:-(nothing under /$CG_NAME)}"; echo; } >> "$OUT_DIR/cgroups.txt"
  top=$(cgroup_dirs "$CG_NAME" | wc -l)
  leaves=$(grep -c "/$CG_NAME/." <<< "$dirs" || true)
  if [ "$top" = 0 ]; then echo "nothing"
  elif [ "$leaves" = 0 ]; then echo "the parent /$CG_NAME only, in $top $( [ "$top" = 1 ] && echo hierarchy || echo hierarchies)"
  else echo "the parent in $top hierarchies and $leaves cgroups below it"; fi
}
declare -A LEFT
# --- sanity: each runtime runs the bundle once, exits 0, leaves no container.
for name in "${RT_NAMES[@]}"; do
  id="check-${RT_ID[$name]}"
  rc=0
  out=$(sh -c "exec $(run_cmd "$name" "$id")" 2>&1 </dev/null) || rc=$?
  if [ "$rc" != 0 ]; then
    [ "$rc" -gt 128 ] && out="${out:+$out
}killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"
    die "$name failed to run the bundle (exit status $rc): $(run_cmd "$name" "$id")
$out"
  fi
  left=$(ls -A "$WORK/root-${RT_ID[$name]}")
  [ -z "$left" ] || die "$name run left state behind in its --root: $left (expected run to delete the container)"
  LEFT[$name]=$(record_cgroups "$name, after one \`run\`")
  remove_cgroups "$CG_NAME" || die "could not remove what $name left under /$CG_NAME"
done

# --- machine and versions
{
  echo "date: $(date -Is)"
  echo "kernel: $(uname -srm)"
  echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cgroups: $CG_LAYOUT"
  echo "hyperfine: $(hyperfine --version)"
  echo "berth-runtime: $BERTH_SRC (run from a copy: $BERTH_RUNTIME), sha256 $(sha256sum < "$BERTH_RUNTIME" | cut -c1-16)"
  if git -C "$repo" rev-parse >/dev/null 2>&1; then
    echo "repo (git describe): $(git -C "$repo" describe --always --dirty --abbrev=12 2>/dev/null)"
  fi
} > "$OUT_DIR/machine.txt"
{
  for name in "${RT_NAMES[@]}"; do
    if [ "$name" = berth-runtime ]; then echo "\$ $BERTH_SRC --version"; else echo "\$ ${RT_BIN[$name]} --version"; fi
    "${RT_BIN[$name]}" --version 2>&1 || true
  done
} > "$OUT_DIR/versions.txt"

# --- wall time: ROUNDS hyperfine invocations, all commands in each, the order
# rotated from one to the next.
names=("${RT_NAMES[@]}")
[ "$WRAP_EACH" = 1 ] && names+=("$WRAPPER_NAME")
per_round=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
shell_words() {  # prints its arguments as one line a shell reads back the same
  local a out=
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./+:@%=,-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
  done
  echo "${out% }"
}
: > "$OUT_DIR/commands.txt"
for ((r = 1; r <= ROUNDS; r++)); do
  args=(hyperfine --shell sh --warmup "$WARMUP" --runs "$per_round" --prepare "$PREPARE"
        --export-json "$OUT_DIR/hyperfine-round-$r.json")
  k=${#names[@]}
  for ((i = 0; i < k; i++)); do
    name=${names[$(( (i + r - 1) % k ))]}
    if [ "$name" = "$WRAPPER_NAME" ]; then cmd=$(wrapper_cmd); else cmd=$(bench_cmd "$name"); fi
    args+=(--command-name "$name" "$cmd")
  done
  shell_words "${args[@]}" >> "$OUT_DIR/commands.txt"
  note "round $r/$ROUNDS: $per_round runs + $WARMUP warm-up per runtime"
  "${args[@]}" >&2 || die "hyperfine failed in round $r (see above)"
done
for name in "${RT_NAMES[@]}"; do
  left=$(ls -A "$WORK/root-${RT_ID[$name]}")
  [ -z "$left" ] || die "$name left containers behind after the timed runs: $left"
done

# --- peak RSS: GNU time, RSS_RUNS runs per runtime, interleaved.
echo -e "runtime\trun\tmax_rss_kib" > "$OUT_DIR/rss.tsv"
for ((i = 1; i <= RSS_RUNS; i++)); do
  for name in "${RT_NAMES[@]}"; do
    f=$WORK/rss.$i
    cmd=$(run_cmd "$name" "rss-${RT_ID[$name]}-$i" "/usr/bin/time -f %M -o $f")
    [ "$i" = 1 ] && echo "$cmd" >> "$OUT_DIR/commands.txt"
    sh -c "exec $cmd" </dev/null >/dev/null 2>&1 || die "$name failed under GNU time: $cmd"
    echo -e "$name\t$i\t$(tail -n1 "$f")" >> "$OUT_DIR/rss.tsv"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT_DIR/machine.txt"
LEFT_ALL=$(record_cgroups "all runtimes, after the whole benchmark")
remove_cgroups "$CG_NAME" || die "could not remove the cgroups under /$CG_NAME"

# --- statistics over all rounds (times in seconds -> ms)
stats() {  # stats NAME -> "n median mean stddev min max user sys" in ms
  jq -rs --arg name "$1" '
    [.[].results[] | select(.command == $name)] as $r
    | ($r | map(.times) | add) as $t | ($t | length) as $n | ($t | sort) as $s
    | ($t | add / $n) as $mean
    | (if $n % 2 == 1 then $s[($n - 1) / 2] else ($s[$n / 2 - 1] + $s[$n / 2]) / 2 end) as $median
    | (if $n > 1 then (($t | map((. - $mean) * (. - $mean)) | add) / ($n - 1) | sqrt) else 0 end) as $sd
    | ($r | map(.user * (.times | length)) | add / $n) as $user
    | ($r | map(.system * (.times | length)) | add / $n) as $sys
    | [$n] + ([$median, $mean, $sd, $s[0], $s[-1], $user, $sys] | map(. * 1000))
    | @tsv' "$OUT_DIR"/hyperfine-round-*.json
}
round_ratios() {  # min and max over the rounds of median(A)/median(B)
  jq -rs --arg a "$1" --arg b "$2" '
    map([.results[] | {key: .command, value: .median}] | from_entries | .[$a] / .[$b])
    | [min, max] | @tsv' "$OUT_DIR"/hyperfine-round-*.json
}
rss_median() {
  awk -F'\t' -v n="$1" 'NR > 1 && $1 == n {print $3}' "$OUT_DIR/rss.tsv" | sort -n |
    awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
rss_range() {
  awk -F'\t' -v n="$1" 'NR > 1 && $1 == n {print $3}' "$OUT_DIR/rss.tsv" | sort -n | sed -n '1p;$p' | paste -sd- -
}

declare -A MED RSS
wrapper_med=0
if [ "$WRAP_EACH" = 1 ]; then
  read -r _ wrapper_med _ < <(stats "$WRAPPER_NAME")
fi

report() {
  local name n median mean sd min max user sys rss range
  echo "# berth start-up benchmark: \`run\` of /bin/true"
  echo
  echo '```'
  cat "$OUT_DIR/machine.txt"
  echo "runs per runtime: $(( per_round * ROUNDS )) timed ($ROUNDS rounds of $per_round, $WARMUP warm-up each); peak RSS: median of $RSS_RUNS"
  if [ "$WRAP_EACH" = 1 ]; then
    echo "mode: every run wrapped in its own unshare -m + bind mount (--wrap-each)"
  else
    echo -n "mode: one private mount namespace for the whole benchmark, set up once"
    if [ "$WORKAROUND" = 1 ]; then echo " (empty file bind-mounted over $CONTROLLERS, for crun)"; else echo; fi
  fi
  echo '```'
  echo
  local h="| runtime | median | mean ± σ | min | max | user + sys (mean) | peak RSS (median) | RSS range |"
  local s="|---|---:|---:|---:|---:|---:|---:|---:|"
  if [ "$WRAP_EACH" = 1 ]; then h="$h median − wrapper |"; s="$s---:|"; fi
  echo "$h"; echo "$s"
  for name in "${names[@]}"; do
    IFS=$'\t' read -r n median mean sd min max user sys < <(stats "$name")
    MED[$name]=$median
    if [ "$name" = "$WRAPPER_NAME" ]; then
      rss="–"; RSS[$name]=0; range="–"
    else
      RSS[$name]=$(rss_median "$name")
      rss=$(awk -v k="${RSS[$name]}" 'BEGIN {printf "%d KiB (%.2f MiB)", k, k / 1024}')
      range="$(rss_range "$name") KiB"
    fi
    printf '| %s | %.2f ms | %.2f ± %.2f ms | %.2f ms | %.2f ms | %.2f ms | %s | %s |' \
      "$name" "$median" "$mean" "$sd" "$min" "$max" "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" "$rss" "$range"
    if [ "$WRAP_EACH" = 1 ]; then
      if [ "$name" = "$WRAPPER_NAME" ]; then printf ' – |'; else
        printf ' %.2f ms |' "$(awk -v a="$median" -v b="$wrapper_med" 'BEGIN {print a - b}')"; fi
    fi
    echo
  done
  echo
  echo "| ratio | median wall time | peak RSS | median ratio per round (min–max) |"
  echo "|---|---:|---:|---:|"
  local other lo hi
  for other in crun runc; do
    read -r lo hi < <(round_ratios berth-runtime "$other")
    awk -v o="$other" -v a="${MED[berth-runtime]}" -v b="${MED[$other]}" -v w="$wrapper_med" \
        -v ra="${RSS[berth-runtime]}" -v rb="${RSS[$other]}" -v lo="$lo" -v hi="$hi" -v wrap="$WRAP_EACH" 'BEGIN {
      printf "| berth/%s | %.2f×", o, a / b
      if (wrap == 1) printf " (%.2f× without the wrapper)", (a - w) / (b - w)
      printf " | %.2f× | %.2f–%.2f |\n", ra / rb, lo, hi }'
  done
  echo
  awk -v a="${MED[berth-runtime]}" -v c="${MED[crun]}" -v r="${RSS[berth-runtime]}" 'BEGIN {
    printf "Targets: berth median ≤ crun median: %s (%.2f vs %.2f ms); berth peak RSS ≤ 3 MiB: %s (%.2f MiB)\n",
      (a <= c ? "met" : "NOT met"), a, c, (r <= 3072 ? "met" : "NOT met"), r / 1024 }'
  echo
  echo "Clean-up: every \`run\` deleted its container (each --root was empty afterwards)."
  echo "Left under the benchmark's cgroup parent /$CG_NAME by one \`run\`:"
  for name in "${RT_NAMES[@]}"; do echo "${name}: ${LEFT[$name]};"; done
  echo "after the whole benchmark: $LEFT_ALL. The script removed them (rmdir, deepest first, below /$CG_NAME only)."
  echo
  echo "Versions:"
  echo
  echo '```'
  cat "$OUT_DIR/versions.txt"
  echo '```'
  echo
  echo "Commands (hyperfine, one line per round; then GNU time, one per runtime):"
  echo
  echo '```'
  cat "$OUT_DIR/commands.txt"
  echo '```'
  echo
  echo "Raw data: $OUT_DIR (hyperfine-round-*.json, rss.tsv, cgroups.txt, config.json)"
}
report | tee "$OUT_DIR/report.md"
