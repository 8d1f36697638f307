#!/usr/bin/env bats
# berth-image from the command line: the built-in image imported, mounted as
# an overlay rootfs and run by berth-runtime; images, prune; the errors a
# user sees for bad references, missing images and registries that are not
# there.

load helpers

IMAGE_BIN=$(dirname "$BERTH_RUNTIME")/berth-image
BUILTIN=$(dirname "$(dirname "$BERTH_RUNTIME")")/tools/busybox-image

image() {
  timeout -k 5 "$BERTH_E2E_TIMEOUT" "$IMAGE_BIN" --root "$WORK/data" "$@"
}

teardown() {
  if [ -n "${WORK:-}" ]; then
    local m
    for m in $(awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
      umount "$m" || true
    done
  fi
  # The common teardown: containers, cgroups, scratch directory.
  local dir
  for dir in "$ROOT"/*; do
    [ -d "$dir" ] || continue
    timeout 30 "$BERTH_RUNTIME" --root "$ROOT" delete --force "${dir##*/}" </dev/null >/dev/null 2>&1 || true
  done
  [ -n "${CG_DIR:-}" ] && [ -d "$CG_DIR" ] && { e2e_kill_cgroup "$CG_DIR"; rmdir "$CG_DIR"; }
  rm -rf "$WORK"
}

@test "berth-image --help lists the commands" {
  run "$IMAGE_BIN" --help
  [ "$status" -eq 0 ]
  for c in pull import unpack mount images prune; do
    [[ "$output" == *"  $c"* ]]
  done
}

@test "import of the built-in image, mount, run with berth-runtime" {
  [ -d "$BUILTIN" ] || skip "no built-in image at $BUILTIN"
  run image import "$BUILTIN"
  [ "$status" -eq 0 ]
  [[ "$output" == "docker.io/library/busybox:latest sha256:"* ]]
  run image images
  [[ "$output" == "docker.io/library/busybox:latest"$'\t'"sha256:"* ]]

  run --separate-stderr image mount busybox "$WORK/c1"
  [ "$status" -eq 0 ]
  [ "$output" = "$WORK/c1/rootfs" ]
  # Two layers, two snapshots.
  [ "$(ls "$WORK/data/snapshots" | wc -l)" -eq 2 ]

  make_bundle c1 sh -c 'echo from-the-image > /etc/written; cat /etc/written; ls /bin/busybox'
  edit_config "$BUNDLE" '.root.path = $r | .root.readonly = false' --arg r "$WORK/c1/rootfs"
  run berth run --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$output" = $'from-the-image\n/bin/busybox' ]
  # The write landed in the container's upper dir, not in a shared layer.
  [ -f "$WORK/c1/upper/etc/written" ]
  run grep -rl from-the-image "$WORK/data/snapshots"
  [ "$status" -eq 1 ]
}

@test "prune keeps what images use and removes the rest" {
  [ -d "$BUILTIN" ] || skip "no built-in image at $BUILTIN"
  image import "$BUILTIN"
  image unpack busybox 2>/dev/null
  mkdir -p "$WORK/data/snapshots/$(printf '%064d' 0)/fs"
  run image prune
  [ "$status" -eq 0 ]
  [ "$output" = "removed 0 blobs (0 bytes) and 1 snapshots" ]
  [ "$(ls "$WORK/data/snapshots" | wc -l)" -eq 2 ]
}

@test "bad references, missing images and absent registries: one clear line, exit 1" {
  run image unpack 'Busybox'
  [ "$status" -eq 1 ]
  [ "$output" = 'berth-image: invalid reference "Busybox": repository name must be lowercase' ]
  run image unpack nothere
  [ "$status" -eq 1 ]
  [ "$output" = "berth-image: no such image: nothere:latest" ]
  run image pull 127.0.0.1:1/app:v1
  [ "$status" -eq 1 ]
  [[ "$output" == *"127.0.0.1:1"*"Connection refused"* ]]
  run image import "$WORK/none"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$WORK/none: No such file or directory"* ]]
  run image frobnicate
  [ "$status" -eq 2 ]
  [[ "$output" == *'unknown command "frobnicate"'* ]]
  # Nothing was named by the failures.
  run image images
  [ -z "$output" ]
}

@test "--json: berthd's interface — events as JSON lines, unpack by ID, the error as a line" {
  [ -d "$BUILTIN" ] || skip "no built-in image at $BUILTIN"
  run --separate-stderr image --json import --name busybox:latest --if-missing --unpack "$BUILTIN"
  [ "$status" -eq 0 ]
  [ "$(jq -sr 'map(.extracting | select(startswith("sha256:"))) | length' <<<"$output")" -eq 2 ]
  [ "$(ls "$WORK/data/snapshots" | wc -l)" -eq 2 ]
  # Present: nothing to do, nothing said.
  run --separate-stderr image --json import --name busybox:latest --if-missing --unpack "$BUILTIN"
  [ "$status" -eq 0 ]
  [ -z "$output" ]

  # By config digest (the ID docker shows), once the snapshots are gone.
  local id
  id=$(jq -r '.config.digest' "$WORK/data/blobs/sha256/$(image images | cut -f2 | cut -c8-)")
  rm -rf "$WORK/data/snapshots/"*
  run --separate-stderr image --json unpack "$id"
  [ "$status" -eq 0 ]
  [ "$(jq -sr 'map(select(.extracting)) | length' <<<"$output")" -eq 2 ]
  [ "$(jq -sr 'last | .unpacked | length' <<<"$output")" -eq 2 ]

  run --separate-stderr image --json unpack nothere
  [ "$status" -eq 1 ]
  [ "$(jq -r .error <<<"$output")" = "no such image: nothere:latest" ]
  [ "$(jq -r .errno <<<"$output")" = 0 ]
  [ "$stderr" = "berth-image: no such image: nothere:latest" ]
}
