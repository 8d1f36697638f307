#!/usr/bin/env bats
# Failures, with runc's exit code (1) and the words callers match by
# substring: containerd's shim (checkKillError, delete), podman (oci-log
# regexes), CRI-O.

load helpers

@test "state, kill, start and delete of a missing container: exit 1, \"does not exist\"" {
  local cmd
  for cmd in state kill start delete; do
    run --separate-stderr berth "$cmd" nosuch
    echo "$cmd: status $status, stderr: $stderr"
    [ "$status" -eq 1 ]
    [[ $stderr == *"does not exist"* ]]
    [ -z "$output" ]
  done
  run --separate-stderr berth kill nosuch 9
  [ "$status" -eq 1 ]
  [[ $stderr == *"does not exist"* ]]
  [ ! -e "$ROOT/nosuch" ]
}

@test "delete --force of a missing container succeeds silently" {
  run --separate-stderr berth delete --force nosuch
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ -z "$stderr" ]
}

@test "kill after the container stopped: exit 1, \"container not running\"" {
  start_container c1
  run --separate-stderr berth kill c1 KILL
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  run --separate-stderr berth kill c1 KILL
  [ "$status" -eq 1 ]
  [[ $stderr == *"container not running"* ]]
  run --separate-stderr berth kill c1 15
  [ "$status" -eq 1 ]
  [[ $stderr == *"container not running"* ]]
  # the stopped container is still there for delete
  [ "$(state_field c1 .status)" = stopped ]
}

@test "create with an id in use: \"container with id exists\", the first container is untouched" {
  create_container c1
  pid=$(cat "$WORK/c1.pid")
  run --separate-stderr berth_detached create --bundle "$BUNDLE" --pid-file "$WORK/second.pid" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"container with id exists"* ]]
  [ ! -e "$WORK/second.pid" ]
  [ "$(state_field c1 .status)" = created ]
  [ "$(state_field c1 .pid)" = "$pid" ]
  [ -d "/proc/$pid" ]
}

@test "run with an id in use: \"container with id exists\"" {
  start_container c1
  make_bundle c2 sh -c 'exit 0'
  run --separate-stderr berth run --bundle "$BUNDLE" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"container with id exists"* ]]
  [ "$(state_field c1 .status)" = running ]
}

@test "delete of a running container without --force: \"cannot delete container c1 that is not stopped: running\"" {
  start_container c1
  run --separate-stderr berth delete c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"cannot delete container c1 that is not stopped: running"* ]]
  [ "$(state_field c1 .status)" = running ]
  [ -d "$CG_DIR/c1" ]
}

@test "start of a running container and of a stopped one fails" {
  start_container c1
  run --separate-stderr berth start c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"cannot start an already running container"* ]]
  run --separate-stderr berth kill c1 KILL
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  run --separate-stderr berth start c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"cannot start a container that has stopped"* ]]
}

@test "invalid container id format is refused before anything is written" {
  make_bundle c1 sh -c 'exit 0'
  local id
  for id in 'a/b' '../escape' '..' 'sp ace' 'semi;colon'; do
    run --separate-stderr berth_detached create --bundle "$BUNDLE" "$id"
    echo "create '$id': status $status, stderr: $stderr"
    [ "$status" -eq 1 ]
    [[ $stderr == *"invalid container ID format"* ]]
    run --separate-stderr berth state "$id"
    [ "$status" -eq 1 ]
    [[ $stderr == *"invalid container ID format"* ]]
    run --separate-stderr berth delete "$id"
    [ "$status" -eq 1 ]
    [[ $stderr == *"invalid container ID format"* ]]
  done
  [ ! -e "$WORK/escape" ]
  [ -z "$(ls -A "$ROOT")" ]
}

@test "kill with an unknown signal: exit 1, \"unknown signal\", the container keeps running" {
  start_container c1
  local sig
  for sig in FOO SIGFOO SIG ''; do
    run --separate-stderr berth kill c1 "$sig"
    echo "kill c1 '$sig': status $status, stderr: $stderr"
    [ "$status" -eq 1 ]
    [[ $stderr == *"unknown signal"* ]]
  done
  [ "$(state_field c1 .status)" = running ]
}

@test "unknown command: exit 1 and names it" {
  run --separate-stderr berth frobnicate c1
  [ "$status" -eq 1 ]
  [[ $stderr == *'"frobnicate"'* ]]
  [ -z "$output" ]
}

@test "unknown flag: exit 1, \"flag provided but not defined\"" {
  run --separate-stderr berth state --bogus c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"flag provided but not defined: -bogus"* ]]
  run --separate-stderr berth_raw --root "$ROOT" --bogus state c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"flag provided but not defined: -bogus"* ]]
  run --separate-stderr berth_detached create --bundle "$WORK" --no-such-thing c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"flag provided but not defined: -no-such-thing"* ]]
  # kill takes no --force
  run --separate-stderr berth kill --force c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"flag provided but not defined: -force"* ]]
}

@test "a flag without its value: exit 1" {
  run --separate-stderr berth_detached create --bundle
  [ "$status" -eq 1 ]
  [[ $stderr == *"flag needs an argument: -bundle"* ]]
  run --separate-stderr berth_raw --root
  [ "$status" -eq 1 ]
  [[ $stderr == *"flag needs an argument: -root"* ]]
}

@test "wrong number of arguments: exit 1, \"requires exactly 1 argument(s)\"" {
  local cmd
  for cmd in state start delete create; do
    run --separate-stderr berth_detached "$cmd"
    echo "$cmd: status $status, stderr: $stderr"
    [ "$status" -eq 1 ]
    [[ $stderr == *"\"$cmd\" requires exactly 1 argument(s)"* ]]
  done
  run --separate-stderr berth state a b
  [ "$status" -eq 1 ]
  [[ $stderr == *'"state" requires exactly 1 argument(s)'* ]]
  run --separate-stderr berth kill
  [ "$status" -eq 1 ]
  # runc: "requires a minimum of 1 argument(s)"
  [[ $stderr == *'"kill" requires '*' 1 argument(s)'* ]]
  run --separate-stderr berth kill a 9 extra
  [ "$status" -eq 1 ]
  [[ $stderr == *'"kill" requires '*' 2 argument(s)'* ]]
  run --separate-stderr berth list extra
  [ "$status" -eq 1 ]
  [[ $stderr == *'"list" requires exactly 0 argument(s)'* ]]
}

@test "--systemd-cgroup is refused with a clear message and leaves nothing behind" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_raw_detached --root "$ROOT" --systemd-cgroup create --bundle "$BUNDLE" --pid-file "$WORK/pid" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"not supported: --systemd-cgroup"* ]]
  [ ! -e "$WORK/pid" ]
  [ ! -e "$ROOT/c1" ]
  [ ! -e "$CG_DIR/c1" ]
  run --separate-stderr berth_raw --root "$ROOT" --systemd-cgroup run --bundle "$BUNDLE" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"not supported: --systemd-cgroup"* ]]
  [ ! -e "$ROOT/c1" ]
}

@test "bundle without config.json: exit 1, names config.json, leaves nothing behind" {
  mkdir "$WORK/empty"
  run --separate-stderr berth_detached create --bundle "$WORK/empty" --pid-file "$WORK/pid" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"config.json not found"* ]]
  [ ! -e "$WORK/pid" ]
  [ ! -e "$ROOT/c1" ]
  run --separate-stderr berth state c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"does not exist"* ]]
}

@test "bundle with an unparsable config.json: exit 1" {
  mkdir "$WORK/bad"
  echo '{"ociVersion": ' >"$WORK/bad/config.json"
  run --separate-stderr berth_detached create --bundle "$WORK/bad" c1
  [ "$status" -eq 1 ]
  [ -n "$stderr" ]
  [ ! -e "$ROOT/c1" ]
}

@test "process.args[0] not found: exit 1 with the words podman matches, nothing left" {
  make_bundle c1 no-such-program
  run --separate-stderr berth_raw_detached --root "$ROOT" --log "$WORK/log.json" --log-format json create --bundle "$BUNDLE" --pid-file "$WORK/pid" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *'"no-such-program": executable file not found in $PATH'* ]]
  [ "$(wc -l <"$WORK/log.json")" -eq 1 ]
  [ "$(jq -r .level "$WORK/log.json")" = error ]
  [[ $(jq -r .msg "$WORK/log.json") == *"executable file not found in"* ]]
  [ ! -e "$ROOT/c1" ]
  [ ! -e "$CG_DIR/c1" ]
}

@test "terminal without --console-socket is refused" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  edit_config "$BUNDLE" '.process.terminal = true'
  run --separate-stderr berth_detached create --bundle "$BUNDLE" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"without setting console socket"* ]]
  [ ! -e "$ROOT/c1" ]
}

@test "spec refuses to overwrite an existing config.json" {
  echo '{"mine": true}' >"$WORK/config.json"
  run --separate-stderr berth spec --bundle "$WORK"
  [ "$status" -eq 1 ]
  [[ $stderr == *"config.json exists"* ]]
  [ "$(cat "$WORK/config.json")" = '{"mine": true}' ]
}

@test "--log F --log-format json: one error line with level, msg and an RFC 3339 time; stderr keeps the message" {
  log="$WORK/log.json"
  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format json state nosuch
  [ "$status" -eq 1 ]
  [ "$(wc -l <"$log")" -eq 1 ]
  # podman reads the whole file with one json.Unmarshal
  jq -e 'type == "object"' "$log"
  [ "$(jq -r .level "$log")" = error ]
  msg=$(jq -r .msg "$log")
  [[ $msg == *"does not exist"* ]]
  [[ $(jq -r .time "$log") =~ $RFC3339_RE ]]
  # the plain message on stderr, not JSON
  [[ $stderr == *"$msg"* ]]
  [[ $stderr != "{"* ]]

  # go-runc's create failure: the shim reports the last error line's msg
  mkdir "$WORK/empty"
  run --separate-stderr berth_raw_detached --root "$ROOT" --log "$log" --log-format json create --bundle "$WORK/empty" --pid-file "$WORK/pid" c1
  [ "$status" -eq 1 ]
  [ "$(wc -l <"$log")" -eq 2 ]
  last=$(tail -n 1 "$log")
  [ "$(jq -r .level <<<"$last")" = error ]
  [[ $(jq -r .msg <<<"$last") == *"config.json"* ]]
  [[ $(jq -r .time <<<"$last") =~ $RFC3339_RE ]]
}

@test "--log-format=json with podman's flag order and a kill error" {
  start_container c1
  run --separate-stderr berth kill c1 KILL
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  log="$WORK/oci-log"
  run --separate-stderr berth_raw --log-format=json --log "$log" --root="$ROOT" kill c1 9
  [ "$status" -eq 1 ]
  [ "$(jq -r .level "$log")" = error ]
  [[ $(jq -r .msg "$log") == *"container not running"* ]]
  [[ $stderr == *"container not running"* ]]
}

@test "--log F --log-format text: time=\"...\" level=error msg=\"...\"" {
  log="$WORK/log.txt"
  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format text delete nosuch
  [ "$status" -eq 1 ]
  [ "$(wc -l <"$log")" -eq 1 ]
  line=$(cat "$log")
  [[ $line =~ ^time=\"([^\"]+)\"\ level=error\ msg=\"(.+)\"$ ]]
  time=${BASH_REMATCH[1]} msg=${BASH_REMATCH[2]}
  [[ $time =~ $RFC3339_RE ]]
  [[ $msg == *"does not exist"* ]]
  # logrus quotes the message: any quote inside is escaped
  [[ $msg =~ ^([^\"\\]|\\.)*$ ]]
  [[ $stderr == *"does not exist"* ]]
}

@test "--log-format with an unknown value: exit 1" {
  run --separate-stderr berth --log-format xml list
  [ "$status" -eq 1 ]
  [[ $stderr == *'unknown log-format "xml"'* ]]
  [ -z "$output" ]
}

@test "pid file in a missing directory: exit 1, the half-made container is removed" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_detached create --bundle "$BUNDLE" --pid-file "$WORK/no/such/dir/pid" c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"pid file"* ]]
  [ ! -e "$ROOT/c1" ]
  [ ! -e "$CG_DIR/c1" ]
  run --separate-stderr berth state c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"does not exist"* ]]
}
