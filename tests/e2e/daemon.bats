#!/usr/bin/env bats
# berthd driven by the real docker CLI and by curl: version, info, images,
# pull from a local registry, tag, rmi, inspect, load; bad requests; the
# socket's mode, a second daemon on the same socket, shutdown.
#
# Every test starts its own berthd on a socket and data root under $WORK;
# teardown kills only the berthd and registry processes the test started.

load berthd

setup() {
  berthd_setup
}

teardown() {
  berthd_teardown
}

@test "berthd --help names every option; --version" {
  run "$BERTHD" --help
  [ "$status" -eq 0 ]
  for opt in --host --data-root --exec-root --builtin-image --cgroup-parent --monitor --runtime --image-helper \
    --log-max-size --log-max-files --debug --version --help; do
    [[ "$output" == *"$opt"* ]]
  done
  run "$BERTHD" --version
  [ "$status" -eq 0 ]
  [[ "$output" == "berthd version "* ]]
  run "$BERTHD" --no-such-option
  [ "$status" -eq 2 ]
}

@test "docker version and docker info talk to berthd" {
  start_berthd
  run docker version
  [ "$status" -eq 0 ]
  [[ "$output" == *"Server: berth"* ]]
  [[ "$output" == *"API version:"*"1.43 (minimum version 1.40)"* ]]
  [[ "$output" == *"API version:"*"1.43 (downgraded from"* ]]
  run docker version --format '{{.Server.Os}}/{{.Server.APIVersion}}'
  [ "$output" = "linux/1.43" ]

  run docker info
  [ "$status" -eq 0 ]
  [[ "$output" == *"Images: 1"* ]]
  [[ "$output" == *"Storage Driver: overlayfs"* ]]
  [[ "$output" == *"Docker Root Dir: $WORK/data"* ]]
  [[ "$output" != *"ERROR"* ]]
}

@test "_ping answers GET and HEAD with the headers the docker CLI reads" {
  start_berthd
  run curl -s -D - --unix-socket "$SOCK" http://berth/_ping
  [ "$status" -eq 0 ]
  [[ "$output" == "HTTP/1.1 200 OK"* ]]
  [[ "$output" == *$'Api-Version: 1.43\r'* ]]
  [[ "$output" == *$'Ostype: linux\r'* ]]
  [[ "$output" == *$'Docker-Experimental: false\r'* ]]
  [[ "$output" == *"Builder-Version: "* ]]
  [[ "$output" == *$'\r\n\r\nOK' ]]
  run curl -s -I --unix-socket "$SOCK" http://berth/v1.47/_ping
  [[ "$output" == "HTTP/1.1 200 OK"* ]]
  [[ "$output" == *"Api-Version: 1.43"* ]]
}

@test "docker images lists the built-in busybox:latest; inspect shows its fields" {
  start_berthd
  local id
  id=$(builtin_id)
  run docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  [ "$status" -eq 0 ]
  [ "$output" = "busybox:latest ${id:7:12}" ]

  run docker image inspect busybox
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].Id' <<<"$output")" = "$id" ]
  [ "$(jq -r '.[0].RepoTags | join(",")' <<<"$output")" = "busybox:latest" ]
  [ "$(jq -r '.[0].Os' <<<"$output")" = linux ]
  [ "$(jq -r '.[0].Architecture' <<<"$output")" = amd64 ]
  [ "$(jq -r '.[0].RootFS.Type' <<<"$output")" = layers ]
  [ "$(jq -r '.[0].RootFS.Layers | length' <<<"$output")" -ge 1 ]
  [ "$(jq -r '.[0].Size' <<<"$output")" -gt 0 ]
  # The same image by full ID and by an ID prefix.
  [ "$(docker image inspect --format '{{.Id}}' "$id")" = "$id" ]
  [ "$(docker image inspect --format '{{.Id}}' "${id:7:12}")" = "$id" ]

  # `docker images NAME` filters by reference.
  run docker images --format '{{.Repository}}' 'busy*'
  [ "$output" = busybox ]
  run docker images -q alpine
  [ "$status" -eq 0 ]
  [ -z "$output" ]

  run docker image inspect no-such-image
  [ "$status" -eq 1 ]
  [[ "$output" == *"No such image: no-such-image"* ]]
}

@test "docker pull from a local registry streams progress; images shows the result" {
  start_registry
  # No built-in image, so every layer is downloaded.
  start_berthd --builtin-image ""
  run docker pull "$REG/app:v1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"v1: Pulling from app"* ]]
  [[ "$output" == *"Pull complete"* ]]
  [[ "$output" == *"Digest: sha256:"* ]]
  [[ "$output" == *"Status: Downloaded newer image for $REG/app:v1"* ]]
  run docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  [ "$output" = "$REG/app:v1 $(builtin_id | cut -c8-19)" ]
  # The pull ran in berth-image: the registry client, the archive readers
  # and libcrypto never mapped into berthd.
  run grep -E 'libcurl|libarchive|libcrypto' "/proc/$BERTHD_PID/maps"
  [ "$status" -eq 1 ]
  [ -d "$WORK/data/snapshots" ] && [ -n "$(ls "$WORK/data/snapshots")" ]

  run docker pull "$REG/app:v1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Status: Image is up to date for $REG/app:v1"* ]]

  # The raw stream, after removing the image (and so its blobs): a
  # Downloading line with byte counts for a layer.
  docker rmi "$REG/app:v1"
  run api -X POST "http://berth/v1.43/images/create?fromImage=$REG/app&tag=v1"
  [ "${lines[-1]}" = 200 ]
  [ "$(jq -sr '.[0].status' <<<"${output%$'\n'*}")" = "Pulling from app" ]
  jq -se 'map(select(.status == "Downloading" and .progressDetail.total > 0 and (.id | length) == 12)) | length > 0' \
    <<<"${output%$'\n'*}"
  jq -se 'last | .status | startswith("Status: Downloaded newer image for ")' <<<"${output%$'\n'*}"

  # A missing repository is a 404 before any progress; docker says why.
  run docker pull "$REG/missing:v1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"manifest unknown"* ]]
  run api -X POST "http://berth/images/create?fromImage=$REG/missing&tag=v1"
  [ "${lines[-1]}" = 404 ]
}

@test "pulls and loads need berth-image: without it, an error that names it, and berthd keeps serving" {
  start_registry
  start_berthd --builtin-image "" --image-helper "$WORK/no-such-berth-image"
  run docker pull "$REG/app:v1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"start $WORK/no-such-berth-image: No such file or directory"* ]]
  run docker images -q
  [ "$status" -eq 0 ] && [ -z "$output" ]
  [ -z "$(ls "$WORK/data/snapshots")" ]
}

@test "docker tag and docker rmi: untag, conflicts, delete" {
  start_berthd
  local id
  id=$(builtin_id)
  run docker tag busybox example/b2:x
  [ "$status" -eq 0 ]
  run docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  [ "$(sort <<<"$output")" = "busybox:latest ${id:7:12}"$'\n'"example/b2:x ${id:7:12}" ]

  # By ID with two names: a conflict unless forced.
  run docker rmi "${id:7:12}"
  [ "$status" -eq 1 ]
  [[ "$output" == *"must be forced"* ]]
  run api -X DELETE "http://berth/v1.43/images/${id:7:12}"
  [ "${lines[-1]}" = 409 ]

  run docker rmi example/b2:x
  [ "$status" -eq 0 ]
  [ "$output" = "Untagged: example/b2:x" ]
  run docker rmi busybox
  [ "$status" -eq 0 ]
  [ "$output" = "Untagged: busybox:latest"$'\n'"Deleted: $id" ]
  [ -z "$(docker images -q)" ]
  # The blobs went with the last name.
  [ -z "$(ls "$WORK/data/blobs/sha256")" ]

  run docker rmi busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"No such image: busybox"* ]]
  run docker tag busybox other:1
  [ "$status" -eq 1 ]
  [[ "$output" == *"No such image"* ]]
}

@test "docker load of a docker-archive tar" {
  command -v skopeo >/dev/null || skip "needs skopeo"
  skopeo copy "oci:$BUILTIN:latest" "docker-archive:$WORK/app.tar:app:v2" >/dev/null
  start_berthd --builtin-image ""
  run docker load -i "$WORK/app.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "Loaded image: app:v2" ]
  run docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  [ "$output" = "app:v2 $(builtin_id | cut -c8-19)" ]
  # Not an archive: a 400 naming the problem, and berthd goes on.
  echo "not a tar" >"$WORK/junk"
  run api -X POST --data-binary "@$WORK/junk" -H 'Content-Type: application/x-tar' http://berth/v1.43/images/load
  [ "${lines[-1]}" = 400 ]
  [ "$(jq -r .message <<<"${lines[0]}")" != null ]
  docker images -q >/dev/null
}

@test "bad requests get docker's status codes and berthd keeps serving" {
  start_berthd
  run api http://berth/v1.43/images/nope/json
  [ "${lines[-1]}" = 404 ]
  [ "$(jq -r .message <<<"${lines[0]}")" = "No such image: nope" ]
  run api http://berth/v1.43/no/such/endpoint
  [ "${lines[-1]}" = 404 ]
  [ "$(jq -r .message <<<"${lines[0]}")" = "page not found" ]
  run api -X POST 'http://berth/v1.43/images/busybox/tag?repo=Bad_Name'
  [ "${lines[-1]}" = 400 ]
  # Malformed JSON in a query parameter.
  run api 'http://berth/v1.43/images/json?filters=%7Bnot-json'
  [ "${lines[-1]}" = 400 ]
  run api http://berth/v1.12/version
  [ "${lines[-1]}" = 400 ]
  [[ "${lines[0]}" == *"too old"* ]]

  # A body larger than berthd reads into memory, framed both ways.
  head -c $((2 * 1024 * 1024)) /dev/zero >"$WORK/huge"
  run api -X POST --data-binary "@$WORK/huge" 'http://berth/v1.43/images/busybox/tag?repo=x'
  [ "${lines[-1]}" = 413 ]
  run api -X POST -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/huge" \
    'http://berth/v1.43/images/busybox/tag?repo=x'
  [ "${lines[-1]}" = 413 ]

  # Not HTTP at all, and a broken chunked body: 400, connection closed.
  run python3 - "$SOCK" <<'EOF'
import socket, sys
for req in (b"GARBAGE\r\n\r\n",
            b"POST /images/busybox/tag?repo=y HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(req)
    print(s.recv(4096).split(b"\r\n")[0].decode())
    s.close()
EOF
  [ "$output" = "HTTP/1.1 400 Bad Request"$'\n'"HTTP/1.1 400 Bad Request" ]

  # Two requests on one keep-alive connection, the second with a chunked body.
  run python3 - "$SOCK" <<'EOF'
import re, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.1\r\nHost: b\r\n\r\n"
          b"POST /v1.43/images/busybox/tag?repo=kept&tag=1 HTTP/1.1\r\nHost: b\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
data = b""
while data.count(b"HTTP/1.1") < 2 or not data.endswith(b"\r\n\r\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(" ".join(m.decode() for m in re.findall(rb"HTTP/1\.1 [0-9]{3} [A-Za-z ]+", data)))
EOF
  [ "$output" = "HTTP/1.1 200 OK HTTP/1.1 201 Created" ]

  run docker images --format '{{.Repository}}:{{.Tag}}'
  [ "$status" -eq 0 ]
  [[ "$output" == *"kept:1"* ]]
  kill -0 "$BERTHD_PID"
}

@test "the socket is 0660; a second berthd refuses it; SIGTERM removes it" {
  start_berthd
  [ "$(stat -c %a "$SOCK")" = 660 ]
  [ "$(stat -c %u "$SOCK")" = 0 ]

  run "$BERTHD" -H "unix://$SOCK" --data-root "$WORK/data2" --exec-root "$WORK/exec2" --builtin-image ""
  [ "$status" -eq 1 ]
  [[ "$output" == *"another berthd is already listening on $SOCK"* ]]
  # The refused daemon left the first one's socket alone.
  docker version >/dev/null

  kill -TERM "$BERTHD_PID"
  local rc=0
  wait "$BERTHD_PID" || rc=$?
  [ "$rc" -eq 0 ]
  BERTHD_PID=
  [ ! -e "$SOCK" ]
}

@test "a stale socket from a killed berthd is replaced" {
  start_berthd
  kill -KILL "$BERTHD_PID"
  wait "$BERTHD_PID" || true
  BERTHD_PID=
  [ -S "$SOCK" ]
  start_berthd
  run docker images --format '{{.Repository}}:{{.Tag}}'
  [ "$output" = "busybox:latest" ]
}
