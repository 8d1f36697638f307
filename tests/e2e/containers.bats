#!/usr/bin/env bats
# berthd's containers, driven by the real docker CLI (and curl where the
# CLI hides what is checked): run in all its forms, the lifecycle verbs,
# logs, exec, restart policies, berthd killed under a running container, 50
# concurrent containers, bad requests. Every test starts its own berthd;
# teardown removes what it made (tests/e2e/berthd.bash).

load berthd

setup() {
  berthd_setup
  [ -x "$DOCKER_BIN" ] || skip "no docker CLI at $DOCKER_BIN"
  start_berthd
}

teardown() {
  berthd_teardown
}

@test "docker run --rm busybox echo hi: the output, status 0, nothing left behind" {
  run --separate-stderr docker run --rm busybox echo hi
  [ "$status" -eq 0 ]
  [ "$output" = "hi" ]
  [ -z "$(docker ps -a -q)" ]
  assert_no_leftovers
}

@test "docker run --rm: the container's exit status; stdout and stderr apart" {
  run --separate-stderr docker run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [ "$output" = "out" ]
  [ "$stderr" = "err" ]
  assert_no_leftovers
}

@test "docker run --rm of a missing executable: 127 and the runtime's reason; nothing left" {
  run -127 --separate-stderr docker run --rm busybox nosuchcmd
  [[ $stderr == *'exec: "nosuchcmd": executable file not found in $PATH'* ]]
  # The CLI waits for the removal; it is done when the CLI returns.
  [ -z "$(docker ps -a -q)" ]
  assert_no_leftovers
}

@test "docker run -d, ps, logs, exec, stop, rm" {
  run --separate-stderr docker run -d --name web --label tier=front busybox \
    sh -c 'trap "echo bye; exit 0" TERM; echo started; while true; do sleep 0.1; done'
  [ "$status" -eq 0 ]
  id=$output
  [[ $id =~ ^[0-9a-f]{64}$ ]]
  run --separate-stderr docker ps --format '{{.ID}} {{.Names}} {{.Image}} {{.Status}}'
  [[ $output == "${id:0:12} web busybox Up "* ]]
  run --separate-stderr docker ps -q --filter label=tier=front
  [ "$output" = "${id:0:12}" ]
  run --separate-stderr docker ps -q --filter label=tier=back
  [ -z "$output" ]
  wait_inspect web '{{.State.Status}}' running
  for i in $(seq 50); do docker logs web | grep -q started && break; sleep 0.1; done
  run --separate-stderr docker logs web
  [ "$output" = "started" ]

  run --separate-stderr docker exec web sh -c 'echo in-exec; echo exec-err >&2; exit 4'
  [ "$status" -eq 4 ]
  [ "$output" = "in-exec" ]
  [ "$stderr" = "exec-err" ]
  run --separate-stderr docker exec -e FOO=bar -w /tmp -u 1000:1000 web sh -c 'echo $FOO $(pwd) $(id -u)'
  [ "$output" = "bar /tmp 1000" ]
  # An exec that cannot start: docker's 126, and the reason on stderr.
  run --separate-stderr docker exec web nosuchcmd
  [ "$status" -eq 126 ]
  [[ $stderr == *'"nosuchcmd": executable file not found'* ]]

  run --separate-stderr docker top web
  [ "$status" -eq 0 ]
  [[ $output == *"PID"* ]]
  [[ $output == *"while true"* ]]

  # The trap runs on SIGTERM: a clean stop, well before the timeout.
  SECONDS=0
  run --separate-stderr docker stop web
  [ "$status" -eq 0 ]
  [ "$SECONDS" -lt 8 ]
  run --separate-stderr docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' web
  [ "$output" = "exited 0 false" ]
  run --separate-stderr docker logs web
  [ "$output" = $'started\nbye' ]
  run --separate-stderr docker ps -a --format '{{.Names}} {{.Status}}'
  [[ $output == "web Exited (0) "* ]]
  run --separate-stderr docker rm web
  [ "$status" -eq 0 ]
  [ -z "$(docker ps -a -q)" ]
  assert_no_leftovers
}

@test "docker logs -f follows a running container to its end; --tail and -t" {
  docker run -d --name counter busybox sh -c 'for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done' >/dev/null
  run --separate-stderr docker logs -f counter
  [ "$status" -eq 0 ]
  [ "$output" = $'line 1\nline 2\nline 3\nline 4\nline 5' ]
  run --separate-stderr docker logs --tail 2 counter
  [ "$output" = $'line 4\nline 5' ]
  run --separate-stderr docker logs -t --tail 1 counter
  [[ $output =~ ^20[0-9-]+T[0-9:.]+Z\ line\ 5$ ]]
}

@test "docker run -t from a terminal: a pty of the requested size" {
  command -v script >/dev/null || skip "needs script(1)"
  local cmd
  # timeout --foreground: script runs $SHELL -c; under a forking /bin/sh
  # plain timeout would sit in a background process group of the pty.
  cmd=$(printf '%q ' timeout --foreground -k 5 "$BERTH_E2E_TIMEOUT" "$DOCKER_BIN" -H "unix://$SOCK" \
    run --rm -t busybox sh -c 'test -t 0 && test -t 1 && tty && stty size && echo tty-ok')
  SHELL=/bin/sh run script -qec "stty rows 33 cols 111; $cmd" /dev/null </dev/null
  [ "$status" -eq 0 ]
  [[ $output == *"/dev/pts/"* ]]
  [[ $output == *$'33 111\r'* ]]
  [[ $output == *$'tty-ok\r'* ]]
  assert_no_leftovers
}

@test "docker run -i: stdin reaches the container and its end ends it" {
  # The attach socket's path is longer than sun_path under $WORK: berthd
  # reaches it through /proc/self/fd.
  [ "$(printf '%s' "$WORK/data/containers/$(printf '%064d' 0)/attach.sock" | wc -c)" -gt 107 ]
  run --separate-stderr bash -c "printf 'one\ntwo\n' | timeout --foreground 30 '$DOCKER_BIN' -H 'unix://$SOCK' run --rm -i busybox sh -c 'cat; echo eof'"
  [ "$status" -eq 0 ]
  [ "$output" = $'one\ntwo\neof' ]
  run --separate-stderr bash -c "printf 'piped\n' | timeout --foreground 30 '$DOCKER_BIN' -H 'unix://$SOCK' run -d -i --name sleeper busybox sleep 1000 >/dev/null && timeout --foreground 30 '$DOCKER_BIN' -H 'unix://$SOCK' exec -i sleeper cat <<<'to-exec'"
  [ "$output" = "to-exec" ]
}

@test "docker inspect: the fields the CLI and scripts read" {
  docker run -d --name insp -e A=1 -w /tmp --restart on-failure:3 busybox sleep 1000 >/dev/null
  run --separate-stderr docker inspect insp
  [ "$status" -eq 0 ]
  j=$output
  [ "$(jq -r '.[0].Name' <<<"$j")" = /insp ]
  [ "$(jq -r '.[0].State.Status' <<<"$j")" = running ]
  [ "$(jq -r '.[0].State.Pid' <<<"$j")" -gt 1 ]
  [ "$(jq -r '.[0].Path' <<<"$j")" = sleep ]
  [ "$(jq -r '.[0].Args[0]' <<<"$j")" = 1000 ]
  [ "$(jq -r '.[0].Image' <<<"$j")" = "$(builtin_id)" ]
  [ "$(jq -r '.[0].Config.Image' <<<"$j")" = busybox ]
  [ "$(jq -r '.[0].Config.WorkingDir' <<<"$j")" = /tmp ]
  jq -e '.[0].Config.Env | index("A=1")' <<<"$j" >/dev/null
  [ "$(jq -r '.[0].HostConfig.RestartPolicy.Name' <<<"$j")" = on-failure ]
  [ "$(jq -r '.[0].HostConfig.RestartPolicy.MaximumRetryCount' <<<"$j")" = 3 ]
  [ "$(jq -r '.[0].LogPath' <<<"$j")" = "$WORK/data/containers/$(jq -r '.[0].Id' <<<"$j")/container.log" ]
  # The process really runs with that pid, in the container's mount namespace.
  pid=$(jq -r '.[0].State.Pid' <<<"$j")
  [ "$(cat /proc/$pid/comm)" = sleep ]
  [ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
}

@test "pause and unpause; stats --no-stream; events" {
  docker run -d --name pz busybox sh -c 'while true; do sleep 0.1; done' >/dev/null
  (docker events --filter container=pz --format '{{.Action}}' >"$WORK/events" 2>&1 &
    echo $! >"$WORK/events.pid")
  sleep 0.5
  run --separate-stderr docker pause pz
  if [ "$status" -ne 0 ]; then
    # cgroup v1 freezer or v2 freeze: one of them is needed.
    [[ $stderr == *freez* ]] || false
  else
    wait_inspect pz '{{.State.Status}}' paused
    run --separate-stderr docker ps --format '{{.Status}}'
    [[ $output == *"(Paused)" ]]
    docker unpause pz
    wait_inspect pz '{{.State.Status}}' running
  fi
  run --separate-stderr docker stats --no-stream --format '{{.Name}}' pz
  [ "$status" -eq 0 ]
  [ "$output" = pz ]
  docker stop -t 1 pz >/dev/null
  sleep 0.5
  kill "$(cat "$WORK/events.pid")" 2>/dev/null || true
  grep -qx die "$WORK/events"
  grep -qx stop "$WORK/events"
}

@test "restart policies: on-failure:2 restarts twice; always stays stopped after docker stop" {
  docker run -d --name rf --restart on-failure:2 busybox sh -c 'echo run; exit 1' >/dev/null
  wait_inspect rf '{{.RestartCount}} {{.State.Status}}' '2 exited'
  run --separate-stderr docker logs rf
  [ "$output" = $'run\nrun\nrun' ]
  run --separate-stderr docker inspect -f '{{.State.ExitCode}}' rf
  [ "$output" = 1 ]
  docker run -d --name ra --restart always busybox sh -c 'sleep 0.2' >/dev/null
  wait_inspect ra '{{if ge .RestartCount 2}}yes{{end}}' yes
  docker stop -t 1 ra >/dev/null
  run --separate-stderr docker inspect -f '{{.State.Status}}' ra
  [ "$output" = exited ]
  count=$(docker inspect -f '{{.RestartCount}}' ra)
  sleep 1
  [ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}}' ra)" = "$count exited" ]
}

@test "berthd killed with SIGKILL: the container runs on, a new berthd reports it, the log has no gap" {
  docker run -d --name ctr busybox sh -c 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.05; done' >/dev/null
  wait_inspect ctr '{{.State.Status}}' running
  pid=$(docker inspect -f '{{.State.Pid}}' ctr)
  kill -9 "$BERTHD_PID"
  wait "$BERTHD_PID" 2>/dev/null || true
  before=$(wc -l <"$WORK"/data/containers/*/container.log)
  sleep 1
  # Still counting with no daemon at all.
  [ "$(wc -l <"$WORK"/data/containers/*/container.log)" -gt "$before" ]
  [ -d "/proc/$pid" ]
  start_berthd
  run --separate-stderr docker inspect -f '{{.State.Status}} {{.State.Pid}}' ctr
  [ "$output" = "running $pid" ]
  run --separate-stderr docker ps --format '{{.Names}}'
  [ "$output" = ctr ]
  docker stop -t 1 ctr >/dev/null
  docker logs ctr >"$WORK/counter"
  # Every number from 0 on, each once, in order.
  awk 'NR - 1 != $1 { print "line " NR ": " $0; bad = 1 } END { exit bad }' "$WORK/counter"
  [ "$(wc -l <"$WORK/counter")" -gt 20 ]
  docker rm ctr >/dev/null
  assert_no_leftovers
}

@test "a container that exits while berthd is down: the new berthd records its status" {
  docker run -d --name quick busybox sh -c 'sleep 1; exit 5' >/dev/null
  kill -9 "$BERTHD_PID"
  wait "$BERTHD_PID" 2>/dev/null || true
  sleep 2
  start_berthd
  run --separate-stderr docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' quick
  [ "$output" = "exited 5" ]
  docker rm quick >/dev/null
  assert_no_leftovers
}

@test "50 containers created and started concurrently: all run; fds and threads return to where they were" {
  # One container first: berthd opens its nftables context (a netlink
  # socket it keeps) on the first use of a network.
  docker run --rm busybox true
  fds0=$(ls "/proc/$BERTHD_PID/fd" | wc -l)
  threads0=$(ls "/proc/$BERTHD_PID/task" | wc -l)
  pids=()
  for i in $(seq 50); do
    (curl -s --unix-socket "$SOCK" -H 'Content-Type: application/json' \
      -d '{"Image":"busybox","Cmd":["sleep","1000"]}' "http://berth/v1.43/containers/create?name=c$i" |
      jq -r .Id >"$WORK/id.$i" &&
      curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" -X POST \
        "http://berth/v1.43/containers/$(cat "$WORK/id.$i")/start" >"$WORK/start.$i") &
    pids+=($!)
  done
  # Only these: a bare `wait` would wait for berthd too.
  wait "${pids[@]}"
  for i in $(seq 50); do
    [ "$(cat "$WORK/start.$i")" = 204 ] || { echo "c$i: start answered $(cat "$WORK/start.$i")" >&2; false; }
  done
  [ "$(docker ps -q | wc -l)" -eq 50 ]
  for i in $(seq 50); do
    (curl -s -o /dev/null --unix-socket "$SOCK" -X DELETE "http://berth/v1.43/containers/c$i?force=1") &
    pids+=($!)
  done
  wait "${pids[@]}"
  [ "$(docker ps -a -q | wc -l)" -eq 0 ]
  for i in $(seq 50); do
    fds=$(ls "/proc/$BERTHD_PID/fd" | wc -l)
    threads=$(ls "/proc/$BERTHD_PID/task" | wc -l)
    [ "$fds" -le "$fds0" ] && [ "$threads" -le "$threads0" ] && break
    sleep 0.1
  done
  [ "$fds" -le "$fds0" ] || { echo "fds: $fds0 -> $fds" >&2; false; }
  [ "$threads" -le "$threads0" ] || { echo "threads: $threads0 -> $threads" >&2; false; }
  assert_no_leftovers
}

@test "bad requests: docker's status codes, and berthd keeps serving" {
  run api -H 'Content-Type: application/json' -d '{"Image": "busybox", "Cmd": [' http://berth/v1.43/containers/create
  [ "${lines[-1]}" = 400 ]
  run api http://berth/v1.43/containers/nosuch/json
  [ "${lines[-1]}" = 404 ]
  [ "$(jq -r .message <<<"${lines[0]}")" = "No such container: nosuch" ]
  run api -X POST http://berth/v1.43/containers/nosuch/start
  [ "${lines[-1]}" = 404 ]
  run api -H 'Content-Type: application/json' -d '{"Image": "nosuch:image"}' http://berth/v1.43/containers/create
  [ "${lines[-1]}" = 404 ]
  [[ ${lines[0]} == *"No such image: nosuch:image"* ]]
  docker create --name taken busybox true >/dev/null
  run --separate-stderr docker run --name taken busybox true
  [ "$status" -eq 125 ]
  [[ $stderr == *'Conflict. The container name "/taken" is already in use'* ]]
  run api -H 'Content-Type: application/json' -d '{"Image": "busybox"}' 'http://berth/v1.43/containers/create?name=bad/name'
  [ "${lines[-1]}" = 400 ]
  # A running container is not removed without force.
  docker run -d --name busy busybox sleep 1000 >/dev/null
  run api -X DELETE http://berth/v1.43/containers/busy
  [ "${lines[-1]}" = 409 ]
  run api -X POST http://berth/v1.43/containers/taken/kill
  [ "${lines[-1]}" = 409 ]
  # A body over the limit: 413, the connection closed, berthd fine.
  head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$WORK/huge"
  run api -H 'Content-Type: application/json' --data-binary "@$WORK/huge" http://berth/v1.43/containers/create
  [ "${lines[-1]}" = 413 ]
  run api http://berth/_ping
  [ "${lines[-1]}" = 200 ]
  run --separate-stderr docker run --rm busybox echo still-serving
  [ "$output" = still-serving ]
}

@test "a memory limit: enforced, or refused by name where cgroup v2 has no memory controller; nothing left" {
  run --separate-stderr docker run --rm -m 64m busybox sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
  if [ "$status" -eq 0 ]; then
    [ "$output" = 67108864 ]
  else
    [[ $stderr == *memory* ]]
  fi
  [ -z "$(docker ps -a -q)" ]
  assert_no_leftovers
}

@test "an image a container uses cannot be removed" {
  docker create --name user busybox true >/dev/null
  run --separate-stderr docker rmi busybox
  [ "$status" -ne 0 ]
  [[ $stderr == *"image is being used by stopped container"* ]]
  docker rm user >/dev/null
  run --separate-stderr docker rmi busybox
  [ "$status" -eq 0 ]
}

@test "berthd restarted: stopped containers, their logs and names come back" {
  docker run --name kept busybox echo remembered >/dev/null
  kill "$BERTHD_PID"
  wait "$BERTHD_PID" 2>/dev/null || true
  start_berthd
  run --separate-stderr docker ps -a --format '{{.Names}} {{.Status}}'
  [[ $output == "kept Exited (0) "* ]]
  run --separate-stderr docker logs kept
  [ "$output" = remembered ]
  run --separate-stderr docker start -a kept
  [ "$output" = remembered ]
}

@test "exec -d returns at once; restart keeps a --rm container; start of a paused one is refused" {
  docker run -d --rm --name rr busybox sleep 1000 >/dev/null
  SECONDS=0
  run --separate-stderr docker exec -d rr sleep 300
  [ "$status" -eq 0 ]
  [ "$SECONDS" -lt 5 ]
  run --separate-stderr docker exec -d rr nosuchcmd
  [ "$status" -ne 0 ]
  [[ $stderr == *"executable file not found"* ]]
  docker restart -t 1 rr >/dev/null
  run --separate-stderr docker inspect -f '{{.State.Status}}' rr
  [ "$output" = running ]
  if docker pause rr >/dev/null 2>&1; then
    run api -X POST http://berth/v1.43/containers/rr/start
    [ "${lines[-1]}" = 409 ]
    docker unpause rr >/dev/null
  fi
  docker stop -t 1 rr >/dev/null
  # --rm: gone once stopped.
  for i in $(seq 50); do [ -z "$(docker ps -a -q)" ] && break; sleep 0.1; done
  [ -z "$(docker ps -a -q)" ]
}

@test "the detach keys end an attach and leave the container running" {
  docker run -d -it --name dk busybox sh >/dev/null
  run python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /v1.43/containers/dk/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
          b"Host: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
print(head.split(b"\r\n")[0].decode())
s.settimeout(10)
s.sendall(b"echo ty''ped\n")
seen = b""
while b"typed" not in seen:
    seen += s.recv(4096)
# Split across two writes: the sequence is found across reads.
s.sendall(b"\x10")
s.sendall(b"\x11")
while s.recv(4096):
    pass
print("closed")
PY
  [ "${lines[0]}" = "HTTP/1.1 101 UPGRADED" ]
  [ "${lines[1]}" = closed ]
  run --separate-stderr docker inspect -f '{{.State.Status}}' dk
  [ "$output" = running ]
}

@test "a start whose layers are not unpacked unpacks them first (through berth-image)" {
  # Snapshots can go (a prune, or an image stored with --no-unpack); the
  # blobs stay, and the next start unpacks from them.
  rm -rf "$WORK/data/snapshots/"*
  run docker run --rm busybox echo unpacked again
  [ "$status" -eq 0 ]
  [ "$output" = "unpacked again" ]
  [ -n "$(ls "$WORK/data/snapshots")" ]
  assert_no_leftovers
}
