#!/usr/bin/env bash
# Pull benchmark: a multi-layer image of about 100 MiB from a local
# docker-registry (127.0.0.1), pulled and unpacked by berth (berth-image
# pull: fetch, verify, unpack into snapshots) against skopeo copy followed by
# umoci unpack, in one hyperfine invocation. See bench/README.md.
#
#   bench/pull.sh [--runs N] [--size-mib N] [--layers N]
#
# Prints a markdown report on stdout. Needs root (unpacking keeps owners).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=10 size=100 layers=4
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --size-mib) size=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/pull.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

"$repo/scripts/install-deps.sh" --bench >&2
[ -x "$repo/build/src/berth-image" ] || "$repo/scripts/build.sh" >&2
berth_image=$repo/build/src/berth-image

work=$(mktemp -d /var/tmp/berth-bench-pull-XXXXXX)
reg_pid=
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A registry on a free port of 127.0.0.1.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
log:
  level: error
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done

# The image: busybox, then N layers of files whose content compresses about
# as real software does (half random, half text).
per=$((size / layers))
mkdir -p "$work/layout/blobs/sha256"
echo '{"imageLayoutVersion": "1.0.0"}' >"$work/layout/oci-layout"
blob() {  # blob FILE -> prints "digest size"
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$work/layout/blobs/sha256/$d"
  echo "$d $s"
}
layer_json= diff_json=
for i in $(seq 0 "$layers"); do
  t=$work/tree$i
  mkdir -p "$t"
  if [ "$i" -eq 0 ]; then
    mkdir -p "$t/bin" && cp /bin/busybox "$t/bin/busybox" && ln -s busybox "$t/bin/sh"
  else
    mkdir -p "$t/opt/layer$i"
    for f in $(seq 1 $((per * 2))); do
      { head -c 262144 /dev/urandom; seq 1 40000 | head -c 262144; } >"$t/opt/layer$i/file$f"
    done
  fi
  tar --sort=name --owner=0 --group=0 --numeric-owner -C "$t" -cf "$work/l.tar" .
  diff_json="$diff_json${diff_json:+,}\"sha256:$(sha256sum "$work/l.tar" | cut -d' ' -f1)\""
  gzip -6n "$work/l.tar"
  read -r d s < <(blob "$work/l.tar.gz")
  layer_json="$layer_json${layer_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$s}"
  rm -rf "$t"
done
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$diff_json" >"$work/config.json"
read -r cd cs < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$cd" "$cs" "$layer_json" >"$work/manifest.json"
read -r md ms < <(blob "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$md" "$ms" >"$work/layout/index.json"
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:latest" "docker://127.0.0.1:$port/bench/big:latest" >&2
compressed=$(du -sm "$work/layout/blobs" | cut -f1)

ref=127.0.0.1:$port/bench/big:latest
skopeo_cmd="skopeo copy -q --src-tls-verify=false docker://$ref oci:$work/skopeo/layout:latest && umoci unpack --image $work/skopeo/layout:latest $work/skopeo/bundle"
# Each side once, outside the timing, so that a failure shows its message.
mkdir -p "$work/skopeo"
sh -c "$skopeo_cmd" >&2
"$berth_image" --root "$work/berth" pull "$ref" >/dev/null
hyperfine --runs "$runs" --warmup 1 --export-json "$work/pull.json" \
  --prepare "rm -rf $work/berth $work/skopeo && mkdir -p $work/skopeo" \
  -n berth "$berth_image --root $work/berth pull $ref" \
  -n "skopeo+umoci" "$skopeo_cmd" >&2

python3 - "$work/pull.json" "$size" "$layers" "$compressed" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, s = r["berth"], r["skopeo+umoci"]
print(f"Pull + unpack of a {sys.argv[2]} MiB image in {int(sys.argv[3]) + 1} layers ({sys.argv[4]} MiB compressed), local docker-registry:\n")
print("| | median | mean ± stddev | min |")
print("|---|---|---|---|")
for name, x in (("berth-image pull", b), ("skopeo copy + umoci unpack", s)):
    print(f"| {name} | {x['median']*1000:.0f} ms | {x['mean']*1000:.0f} ± {x['stddev']*1000:.0f} ms | {x['min']*1000:.0f} ms |")
print(f"\nberth / (skopeo + umoci), median: **{b['median'] / s['median']:.2f}**")
PY
