#!/usr/bin/env bats
# The berth user command against a berthd of this build: help and flag
# errors, the not-running message, version, info, images, tag, rmi, pull
# from a local registry, load, and the container commands (run, ps, logs,
# exec, stop, rm, run -t under script(1)).

load berth_cli_helpers

setup() { cli_setup; }
teardown() { cli_teardown; }

@test "berth --help lists the commands; every command has --help; bad flags exit 125" {
  run "$BERTH" --help
  [ "$status" -eq 0 ]
  local main=$output
  for c in run create start stop restart rm ps logs exec inspect pull images rmi load tag version info events \
    pause unpause stats network; do
    [[ "$main" == *"  $c "* ]]
    run "$BERTH" "$c" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"Usage:  berth $c"* ]]
  done
  run "$BERTH" run --help
  [[ "$output" == *"--pids-limit"* ]]
  [[ "$output" == *"-i, --interactive"* ]]
  run -125 "$BERTH" ps --bogus
  [[ "$output" == *"unknown flag: --bogus"* ]]
  [[ "$output" == *"See 'berth ps --help'."* ]]
  run -125 "$BERTH" run -Z busybox
  [[ "$output" == *"unknown shorthand flag: 'Z' in -Z"* ]]
  run -1 "$BERTH" frobnicate
  [[ "$output" == *"'frobnicate' is not a berth command"* ]]
  run "$BERTH" --version
  [[ "$output" == "berth version "* ]]
}

@test "without berthd: one line naming the socket and how to start it, exit 125" {
  run -125 --separate-stderr "$BERTH" -H "unix://$WORK/none.sock" ps
  [ -z "$output" ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"unix://$WORK/none.sock"* ]]
  [[ "$stderr" == *"berthd is not running"* ]]
  [[ "$stderr" == *"berthd &"* ]]
  [[ "$stderr" == *"systemctl start berthd"* ]]
  # BERTH_HOST picks the socket too; a refused connection reads the same.
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$WORK/dead.sock"
  BERTH_HOST=unix://$WORK/dead.sock run -125 "$BERTH" images
  [[ "$output" == *"unix://$WORK/dead.sock"*"berthd is not running"* ]]
  run -125 "$BERTH" -H "unix://$WORK/none.sock" run --rm busybox true
}

@test "berth version and info" {
  start_berthd
  run berth version
  [ "$status" -eq 0 ]
  [[ "$output" == *"Client:"* ]]
  [[ "$output" == *"Server: berth"* ]]
  [[ "$output" == *"API version:      1.43 (minimum version 1.40)"* ]]
  run berth info
  [ "$status" -eq 0 ]
  [[ "$output" == *"Images: 1"* ]]
  [[ "$output" == *"Storage Driver: overlayfs"* ]]
  [[ "$output" == *"Docker Root Dir: $WORK/data"* ]]
}

@test "berth images shows the built-in busybox; tag, inspect, rmi" {
  start_berthd
  run berth images
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
  [[ "${lines[1]}" =~ ^busybox\ +latest\ +[0-9a-f]{12}\ +.+\ ago\ +[0-9.]+[kM]?B$ ]]
  run berth images -q
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" =~ ^[0-9a-f]{12}$ ]]
  local id=$output

  run berth tag busybox mine/box:v2
  [ "$status" -eq 0 ]
  run berth images
  [[ "$output" == *"mine/box "*"v2 "*"$id"* ]]
  run berth images -q
  [ "${#lines[@]}" -eq 1 ]
  run berth inspect mine/box:v2
  [ "$status" -eq 0 ]
  [[ "$output" == "["* ]]
  [[ "$output" == *"mine/box:v2"* ]]
  run -1 berth inspect no-such-thing
  [[ "$output" == *"Error: No such object: no-such-thing"* ]]

  run berth rmi mine/box:v2
  [ "$status" -eq 0 ]
  [[ "$output" == *"Untagged: mine/box:v2"* ]]
  run -1 berth rmi mine/box:v2
  [[ "$output" == "Error response from daemon: "* ]]
  run berth images
  [[ "$output" != *"mine/box"* ]]
}

@test "berth pull from a local registry: plain lines off a terminal" {
  start_registry
  start_berthd --builtin-image ""
  run berth pull "$REG/app:v1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"v1: Pulling from app"* ]]
  [[ "$output" == *": Pull complete"* ]]
  [[ "$output" == *"Status: Downloaded newer image for $REG/app:v1"* ]]
  [ "${lines[-1]}" = "$REG/app:v1" ]
  # No progress bars or cursor movement in a pipe.
  [[ "$output" != *"["*"=>"* ]]
  [[ "$output" != *$'\e['* ]]
  run berth images
  [[ "$output" == *"$REG/app "*"v1 "* ]]
  run -1 berth pull "$REG/missing:v1"
  [ -n "$output" ]
}

@test "berth pull on a terminal draws a line per layer" {
  command -v script >/dev/null || skip "needs script(1)"
  start_registry
  start_berthd --builtin-image ""
  SHELL=/bin/sh run script -qec "timeout -k 5 --foreground 30 $BERTH -H unix://$SOCK pull $REG/app:v1" /dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *"Pull complete"* ]]
  [[ "$output" == *$'\e['*"A"* ]]
}

@test "berth load -i of a docker-archive tar, and from stdin" {
  command -v skopeo >/dev/null || skip "needs skopeo"
  skopeo copy "oci:$BUILTIN:latest" "docker-archive:$WORK/app.tar:app:v2" >/dev/null
  start_berthd --builtin-image ""
  run berth load -i "$WORK/app.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: app:v2"* ]]
  run berth images
  [[ "$output" == *"app "*"v2 "* ]]
  run berth rmi app:v2
  [ "$status" -eq 0 ]
  run berth load <"$WORK/app.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: app:v2"* ]]
  echo "not a tar" >"$WORK/junk"
  run -1 berth load -i "$WORK/junk"
  [[ "$output" == "Error response from daemon: "* ]]
  run -1 berth load -i "$WORK/missing.tar"
}

@test "berth run --rm: output, exit status, missing command" {
  start_berthd
  run --separate-stderr berth run --rm busybox echo hi
  [ "$status" -eq 0 ]
  [ "$output" = "hi" ]
  run berth run --rm busybox sh -c 'exit 3'
  [ "$status" -eq 3 ]
  run berth run --rm busybox sh -c 'echo out; echo err >&2'
  [ "$status" -eq 0 ]
  run --separate-stderr berth run --rm busybox sh -c 'echo out; echo err >&2'
  [ "$output" = "out" ]
  [ "$stderr" = "err" ]
  run -127 berth run --rm busybox nosuchcmd
  [[ "$output" == *"Error response from daemon: "* ]]
  # Nothing is left behind by --rm.
  run berth ps -a -q
  [ -z "$output" ]
}

@test "berth run -e, -w, -u reach the process" {
  start_berthd
  run berth run --rm -e FOO=bar -w /tmp -u 1000:1000 busybox sh -c 'echo $FOO $(pwd) $(id -u)'
  [ "$status" -eq 0 ]
  [ "$output" = "bar /tmp 1000" ]
}

@test "berth run -i forwards stdin and closes it at EOF" {
  start_berthd
  run bash -c "printf 'one\ntwo\n' | timeout -k 5 30 $BERTH -H unix://$SOCK run --rm -i busybox sh -c 'cat; echo done'"
  [ "$status" -eq 0 ]
  [ "$output" = $'one\ntwo\ndone' ]
  run bash -c "echo in | timeout -k 5 30 $BERTH -H unix://$SOCK run --rm -i busybox sh -c 'read x; exit 9'"
  [ "$status" -eq 9 ]
}

@test "berth run -d, ps, logs, logs -f, exec, stop, rm" {
  start_berthd
  run berth run -d --name web busybox sh -c 'echo started; trap "exit 0" TERM; while true; do sleep 0.2; done'
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  local id=$output
  run berth ps
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
  [[ "${lines[1]}" == "${id:0:12}   busybox   \"sh -c echo started;…\""*"Up "*"web" ]]
  run berth ps -a -q
  [ "$output" = "${id:0:12}" ]

  local i
  for i in $(seq 50); do
    [ "$(berth logs web)" = started ] && break
    sleep 0.1
  done
  run berth logs web
  [ "$output" = started ]
  run berth logs --tail 1 web
  [ "$output" = started ]
  run berth logs -t web
  [[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*\ started$ ]]

  run berth exec web sh -c 'echo in-exec; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = in-exec ]
  run berth exec -e X=1 -w /tmp web sh -c 'echo $X $(pwd)'
  [ "$output" = "1 /tmp" ]

  # logs -f ends when the container stops.
  berth logs -f web >"$WORK/follow.out" 2>&1 &
  local follow=$!
  run berth stop -t 5 web
  [ "$status" -eq 0 ]
  [ "$output" = web ]
  wait "$follow"
  [ "$(cat "$WORK/follow.out")" = started ]

  run berth ps -q
  [ -z "$output" ]
  run berth ps -a
  [[ "${lines[1]}" == *"Exited (0) "*" ago"*"web" ]]
  run berth rm web
  [ "$output" = web ]
  run berth ps -a -q
  [ -z "$output" ]
  run -1 berth rm web
  [[ "$output" == "Error response from daemon: "* ]]
}

@test "berth exec: a missing command exits 126 or 127 as docker's does; exec -i passes stdin" {
  start_berthd
  run berth run -d --name x1 busybox sleep 1000
  [ "$status" -eq 0 ]
  run berth exec x1 nosuchcmd
  [ "$status" -eq 126 ] || [ "$status" -eq 127 ]
  [[ "$output" == *"nosuchcmd"* ]]
  run bash -c "echo piped | timeout -k 5 30 $BERTH -H unix://$SOCK exec -i x1 cat"
  [ "$output" = piped ]
}

@test "berth create, start -a, restart, rm -f, pause, unpause, stats --no-stream" {
  start_berthd
  run berth create --name c1 busybox echo created-output
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  run berth ps -a
  [[ "$output" == *"Created"*"c1"* ]]
  run berth start -a c1
  [ "$status" -eq 0 ]
  [ "$output" = created-output ]
  run berth rm c1
  [ "$status" -eq 0 ]

  run berth run -d --name c2 busybox sleep 1000
  [ "$status" -eq 0 ]
  run berth pause c2
  [ "$output" = c2 ]
  run berth ps
  [[ "$output" == *"(Paused)"* ]]
  run berth unpause c2
  [ "$output" = c2 ]
  run berth stats --no-stream c2
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT ]]
  [[ "${lines[1]}" == *"c2"*"%"* ]]
  run berth restart -t 1 c2
  [ "$output" = c2 ]
  run berth rm -f c2
  [ "$output" = c2 ]
  run berth ps -a -q
  [ -z "$output" ]
}

@test "berth run -t under script(1): a terminal inside, exit status passed on" {
  command -v script >/dev/null || skip "needs script(1)"
  start_berthd
  SHELL=/bin/sh run script -qec "timeout -k 5 --foreground 30 $BERTH -H unix://$SOCK run --rm -t busybox sh -c 'test -t 0 && echo tty-yes; exit 4'" /dev/null
  [ "$status" -eq 4 ]
  [[ "$output" == *"tty-yes"* ]]
}

@test "berth run -i -t under script(1): keystrokes reach the container's shell" {
  command -v script >/dev/null || skip "needs script(1)"
  start_berthd
  # As docker's, -i -t wants a terminal on stdin.
  run -1 bash -c "echo | $BERTH -H unix://$SOCK run --rm -i -t busybox true"
  [[ "$output" == *"the input device is not a TTY"* ]]
  run bash -c "printf 'echo \$((6*7)); exit 6\n' | SHELL=/bin/sh script -qec 'timeout -k 5 --foreground 30 $BERTH -H unix://$SOCK run --rm -i -t busybox sh' /dev/null"
  # 42 only appears when the shell ran the line (the terminal echoes it as typed).
  [[ "$output" == *"42"* ]]
  [ "$status" -eq 6 ]
}

@test "berth events shows a container's lifecycle" {
  start_berthd
  berth events >"$WORK/events.out" 2>&1 &
  local ev=$!
  sleep 0.5
  berth run --rm --name ev1 busybox true
  sleep 0.5
  kill "$ev" 2>/dev/null || true
  wait "$ev" 2>/dev/null || true
  grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) container start [0-9a-f]{64} \(.*name=ev1' "$WORK/events.out"
}

@test "berth run pulls a missing image first, as docker does" {
  start_registry
  start_berthd --builtin-image ""
  run --separate-stderr berth run --rm "$REG/app:v1" echo pulled
  [ "$status" -eq 0 ]
  [ "$output" = pulled ]
  [[ "$stderr" == *"Unable to find image '$REG/app:v1' locally"* ]]
  [[ "$stderr" == *"Status: Downloaded newer image for $REG/app:v1"* ]]
  run -125 berth run --rm "$REG/nothing:v1" true
  [[ "$output" == *"Unable to find image"* ]]
}

@test "berth network create, ls, inspect, rm; run --network --network-alias -p" {
  start_berthd
  run berth network create --subnet 10.90.0.0/24 forum
  [ "$status" -eq 0 ] && [ "${#output}" -eq 64 ]
  run berth network ls
  [ "${lines[0]}" = "NETWORK ID     NAME      DRIVER    SCOPE" ]
  [[ "$output" == *" forum "*"bridge"*"local"* ]]
  run berth network inspect forum
  [ "$(jq -r '.[0].IPAM.Config[0].Subnet' <<<"$output")" = 10.90.0.0/24 ]

  berth run -d --name web --network forum --network-alias api -p 8080:80 busybox httpd -f -p 80 -h /etc >/dev/null
  run berth run --rm --network forum busybox nslookup api
  [[ "$output" == *"Address: 10.90.0.2"* ]]
  run berth ps
  [[ "$output" == *"0.0.0.0:8080->80/tcp"* ]]
  run innet curl -s --max-time 5 http://127.0.0.1:8080/hostname
  [ "$status" -eq 0 ] && [ -n "$output" ]
  berth network create back >/dev/null
  run berth network connect --alias db back web
  [ "$status" -eq 0 ]
  run berth run --rm --network back busybox nslookup db
  [[ "$output" == *"Address: 172.18.0.2"* ]]
  run berth network disconnect back web
  [ "$status" -eq 0 ]
  berth network rm back >/dev/null
  run berth run --rm --network-alias x busybox true
  [ "$status" -eq 125 ]
  [[ "$output" == *"network-scoped aliases are only supported for user-defined networks"* ]]

  run berth network rm forum
  [ "$status" -eq 1 ]
  [[ "$output" == *"has active endpoints"* ]]
  berth rm -f web >/dev/null
  run berth network rm forum
  [ "$status" -eq 0 ] && [ "$output" = forum ]
  run berth network rm forum
  [ "$status" -eq 1 ]
  [ "$output" = "Error response from daemon: network forum not found" ]
  assert_no_leftovers
}
