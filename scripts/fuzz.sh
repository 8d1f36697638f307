#!/usr/bin/env bash
# Builds the layer unpacker's libFuzzer target with clang (in build-fuzz/,
# ASan and UBSan) and runs it for a while from a seed corpus of small layers
# made here: plain, gzip and zstd tars with every entry type, whiteouts and
# xattrs, plus a few hostile ones. The last line is "fuzz: pass" or
# "fuzz: FAIL ..."; the exit status follows it.
#
#   scripts/fuzz.sh [SECONDS]      default 60
#
# Inputs that crash are kept in build-fuzz/fuzz/artifacts/; replay one with
#   build-fuzz/fuzz/unpack-fuzz FILE
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
dir=build-fuzz

if [ ! -f "$dir/build.ninja" ]; then
  CXX=clang++ meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args=-fsanitize=fuzzer-no-link -Dstatic_runtime=false -Dtests=false >/dev/null ||
    { echo "fuzz: FAIL (meson setup $dir)"; exit 1; }
fi
nice ninja -C "$dir" fuzz/unpack-fuzz >/dev/null || { echo "fuzz: FAIL (build)"; exit 1; }
[ -x "$dir/fuzz/unpack-fuzz" ] || { echo "fuzz: FAIL (no libFuzzer: install clang and libclang-rt-14-dev)"; exit 1; }

work=$(mktemp -d /tmp/berth-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/tmp" "$dir/fuzz/artifacts"

python3 - "$work/corpus" <<'PY'
import gzip, io, os, sys, tarfile

out = sys.argv[1]

def layer(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in entries:
            info.mtime = 1_600_000_000
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link="", pax=None, dev=(0, 0)):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, link
    info.devmajor, info.devminor = dev
    if pax:
        info.pax_headers = pax
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    return info, None

seeds = {
    "basic": layer([
        entry("./", tarfile.DIRTYPE, mode=0o755),
        entry("etc/", tarfile.DIRTYPE, mode=0o755),
        entry("etc/hosts", data=b"127.0.0.1 localhost\n"),
        entry("bin/sh", data=b"\x7fELF" + bytes(60), mode=0o4755),
        entry("bin/ash", tarfile.LNKTYPE, link="bin/sh"),
        entry("usr/bin", tarfile.SYMTYPE, link="/bin"),
        entry("run/fifo", tarfile.FIFOTYPE),
        entry("dev/null", tarfile.CHRTYPE, mode=0o666, dev=(1, 3)),
        entry("tmp/", tarfile.DIRTYPE, mode=0o1777),
    ]),
    "whiteouts": layer([
        entry("etc/", tarfile.DIRTYPE),
        entry("etc/.wh.passwd"),
        entry("var/cache/.wh..wh..opq"),
        entry(".wh..wh.plnk"),
    ]),
    "xattrs": layer([
        entry("ping", data=b"ping", pax={
            "SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x04\x00\x00" + "\x00" * 12,
            "SCHILY.xattr.user.note": "hello",
        }),
    ]),
    "gnu-longname": layer([entry("d/" + "x" * 150, data=b"long")], tarfile.GNU_FORMAT),
    "replace": layer([
        entry("a/", tarfile.DIRTYPE), entry("a/b", data=b"1"), entry("a", data=b"file"),
        entry("l", tarfile.SYMTYPE, link="/etc"), entry("l/passwd", data=b"x"),
    ]),
    "hostile": layer([
        entry("../escape", data=b"x"),
    ]),
    "hostile-link": layer([
        entry("h", tarfile.LNKTYPE, link="/etc/shadow"),
    ]),
}
for name, data in seeds.items():
    with open(os.path.join(out, name + ".tar"), "wb") as f:
        f.write(data)
    with open(os.path.join(out, name + ".tar.gz"), "wb") as f:
        f.write(gzip.compress(data, mtime=0))
PY
for f in "$work"/corpus/basic.tar "$work"/corpus/whiteouts.tar; do
  zstd -q -o "$f.zst" "$f"
done

echo "fuzz: running unpack-fuzz for ${secs}s"
log=$dir/fuzz/unpack-fuzz.log
if TMPDIR=$work/tmp nice "$dir/fuzz/unpack-fuzz" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
  -artifact_prefix="$dir/fuzz/artifacts/" -print_final_stats=1 "$work/corpus" >"$log" 2>&1; then
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  echo "fuzz: pass (${runs:-?} inputs, ${cov:-cov: ?})"
else
  tail -40 "$log"
  echo "fuzz: FAIL (see $log and $dir/fuzz/artifacts/)"
  exit 1
fi
