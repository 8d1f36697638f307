#!/bin/sh
# Makes berth's built-in image: an OCI image layout of busybox-static,
# docker.io/library/busybox:latest, in two layers (the busybox binary with a
# link per applet; then /etc, /root and /tmp), reproducible byte for byte.
#
#   tools/mkimage.sh DIR
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
out=$1
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "$0: $busybox not found (apt install busybox-static)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-mkimage-XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out/blobs/sha256"

# Layer 1: the binary and its applets.
mkdir -p "$work/l1/bin"
cp "$busybox" "$work/l1/bin/busybox"
chmod 0755 "$work/l1/bin/busybox"
for applet in $("$work/l1/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/l1/bin/$applet"
done
# Layer 2: what a shell and the image's users expect besides.
mkdir -p "$work/l2/etc" "$work/l2/root" "$work/l2/tmp" "$work/l2/home" "$work/l2/dev" "$work/l2/proc" "$work/l2/sys"
chmod 1777 "$work/l2/tmp"
chmod 0700 "$work/l2/root"
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$work/l2/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' >"$work/l2/etc/group"

epoch=@0
mtime=1970-01-01T00:00:00Z
# blob FILE MEDIATYPE: moves FILE into the layout; prints its descriptor.
blob() {
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$out/blobs/sha256/$d"
  printf '{"mediaType": "%s", "digest": "sha256:%s", "size": %s}' "$2" "$d" "$s"
}
layers= diffids=
for l in l1 l2; do
  tar --sort=name --mtime="$epoch" --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$work/$l" -cf "$work/$l.tar" .
  diffids="$diffids${diffids:+, }\"sha256:$(sha256sum "$work/$l.tar" | cut -d' ' -f1)\""
  gzip -9n "$work/$l.tar"
  layers="$layers${layers:+, }$(blob "$work/$l.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)"
done

cat >"$work/config.json" <<JSON
{"created": "$mtime", "architecture": "amd64", "os": "linux",
 "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"],
  "Labels": {"org.opencontainers.image.description": "busybox-static, built into berth"}},
 "rootfs": {"type": "layers", "diff_ids": [$diffids]},
 "history": [{"created": "$mtime", "created_by": "busybox-static and its applets"},
             {"created": "$mtime", "created_by": "/etc/passwd, /etc/group, /root, /tmp"}]}
JSON
config=$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)
cat >"$work/manifest.json" <<JSON
{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
 "config": $config,
 "layers": [$layers]}
JSON
manifest=$(blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)
manifest=${manifest%\}}
cat >"$out/index.json" <<JSON
{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
 "manifests": [$manifest, "platform": {"os": "linux", "architecture": "amd64"},
   "annotations": {"org.opencontainers.image.ref.name": "latest",
                   "io.containerd.image.name": "docker.io/library/busybox:latest"}}]}
JSON
printf '{"imageLayoutVersion": "1.0.0"}\n' >"$out/oci-layout"
