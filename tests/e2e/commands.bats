#!/usr/bin/env bats
# exec, pause, resume, ps, events, update and features with the exact argv
# shapes their callers send: containerd's shim through go-runc, conmon and
# podman, CRI-O.

load helpers

# write_process FILE ARG...: a runtime-spec process JSON (what go-runc and
# conmon write for exec) running ARG... as root in /.
write_process() {
  local file=$1 a args=
  shift
  for a in "$@"; do
    args+="${args:+,}$(printf '%s' "$a" | jq -Rs .)"
  done
  jq -n --argjson args "[$args]" '{
    terminal: false,
    user: {uid: 0, gid: 0},
    args: $args,
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "EXEC_MARK=from-process-json"],
    cwd: "/tmp",
    capabilities: {
      bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]
    },
    noNewPrivileges: true
  }' >"$file"
}

# cgroup_pids ID: the pids of the container's cgroup, sorted, one a line.
cgroup_pids() {
  sort -n "$CG_DIR/$1/cgroup.procs"
}

# wait_for_procs ID N: until the container's cgroup holds N processes (10 s).
wait_for_procs() {
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(wc -l <"$CG_DIR/$1/cgroup.procs")" -eq "$2" ] && return 0
    sleep 0.1
  done
  echo "container $1: $(wc -l <"$CG_DIR/$1/cgroup.procs") processes, expected $2" >&2
  return 1
}

# exec_is_running PID FILE: the exec'd process is alive, in the container's
# cgroup (c1), and has run its command (it wrote FILE inside).
exec_is_running() {
  local pid=$1 marker=$2 i
  [[ $pid =~ ^[0-9]+$ ]]
  kill -0 "$pid"
  grep -qx "$pid" "$CG_DIR/c1/cgroup.procs"
  for ((i = 0; i < 50; i++)); do
    [ -e "/proc/$pid/root$marker" ] && break
    sleep 0.1
  done
  [ "$(cat "/proc/$pid/root$marker")" = from-process-json ]
}

@test "exec --process F --detach --pid-file P ID (containerd shim): returns at once, the process runs" {
  start_container c1
  write_process "$WORK/process.json" sh -c 'echo "$EXEC_MARK" >/tmp/exec-mark; exec sleep 1000'
  SECONDS=0
  run --separate-stderr berth_detached exec --process "$WORK/process.json" --detach --pid-file "$WORK/exec.pid" c1
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 0 ]
  [ "$SECONDS" -lt 10 ]
  [ -s "$WORK/exec.pid" ]
  pid=$(cat "$WORK/exec.pid")
  [ "$pid" != "$(cat "$WORK/c1.pid")" ]
  exec_is_running "$pid" /tmp/exec-mark
  # the container is unaffected
  [ "$(state_field c1 .status)" = running ]
}

@test "exec --pid-file P --process F --detach ID (conmon's order)" {
  start_container c1
  write_process "$WORK/process.json" sh -c 'echo "$EXEC_MARK" >/tmp/conmon-mark; exec sleep 1000'
  run --separate-stderr berth_detached exec --pid-file "$WORK/exec.pid" --process "$WORK/process.json" --detach c1
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 0 ]
  exec_is_running "$(cat "$WORK/exec.pid")" /tmp/conmon-mark
}

@test "go-runc globals: --root R --log F --log-format json exec --process F --detach --pid-file P ID" {
  start_container c1
  log="$WORK/log.json"
  write_process "$WORK/process.json" sh -c 'echo "$EXEC_MARK" >/tmp/shim-mark; exec sleep 1000'
  run --separate-stderr berth_raw_detached --root "$ROOT" --log "$log" --log-format json exec --process "$WORK/process.json" --detach --pid-file "$WORK/exec.pid" c1
  [ "$status" -eq 0 ]
  exec_is_running "$(cat "$WORK/exec.pid")" /tmp/shim-mark
  if [ -s "$log" ]; then
    ! jq -e 'select(.level == "error")' "$log" >/dev/null
  fi
}

@test "exec failure is reported to the shim: no pid file, exit 1, an error line in log.json" {
  start_container c1
  log="$WORK/log.json"
  write_process "$WORK/process.json" /no/such/binary
  run --separate-stderr berth_raw_detached --root "$ROOT" --log "$log" --log-format json exec --process "$WORK/process.json" --detach --pid-file "$WORK/exec.pid" c1
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [ ! -e "$WORK/exec.pid" ]
  jq -e 'select(.level == "error") | .msg | test("/no/such/binary")' "$log" >/dev/null
  # nothing left next to the init (sh) and its sleep
  wait_for_procs c1 2
}

@test "exec --process F ID in the foreground (CRI-O's ExecSync): output and exit status" {
  start_container c1
  write_process "$WORK/process.json" sh -c 'echo "mark=$EXEC_MARK cwd=$(pwd)"; echo to-stderr >&2; exit 5'
  run --separate-stderr berth exec --process "$WORK/process.json" c1
  [ "$status" -eq 5 ]
  [ "$output" = "mark=from-process-json cwd=/tmp" ]
  [ "$stderr" = to-stderr ]
}

@test "exec ID CMD in the foreground: stdin, stdout and the container's environment" {
  start_container c1
  run --separate-stderr berth exec c1 sh -c 'read line; echo "got $line; TERM=$TERM; host=$(hostname)"' <<<"hello"
  [ "$status" -eq 0 ]
  [ "$output" = "got hello; TERM=xterm; host=berth" ]
  run --separate-stderr berth exec c1 sh -c 'exit 42'
  [ "$status" -eq 42 ]
}

@test "ps --format json ID: a JSON array of integers, the container cgroup's pids" {
  make_bundle c1 sh -c 'sleep 1000 & sleep 1000 & wait'
  run --separate-stderr berth_detached run -d --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  wait_for_procs c1 3
  run --separate-stderr berth_detached exec --detach --pid-file "$WORK/exec.pid" c1 sleep 1000
  [ "$status" -eq 0 ]
  wait_for_procs c1 4

  run --separate-stderr berth ps --format json c1
  [ "$status" -eq 0 ]
  jq -e 'type == "array" and length == 4 and all(.[]; type == "number" and . == floor)' <<<"$output"
  [ "$(jq -r '.[]' <<<"$output" | sort -n)" = "$(cgroup_pids c1)" ]
  jq -e --argjson p "$(cat "$WORK/exec.pid")" 'index($p) != null' <<<"$output"

  # go-runc's Top: ps --format table ID <ps options>; the header has PID
  run --separate-stderr berth ps --format table c1 -ef
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == *PID* ]]
  [ "${#lines[@]}" -eq 5 ]
}

@test "pause ID / resume ID: state follows paused and running" {
  start_container c1
  run --separate-stderr berth pause c1
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(state_field c1 .status)" = paused ]
  [ "$(state_field c1 .pid)" = "$(cat "$WORK/c1.pid")" ]
  [ "$(cat "$CG_DIR/c1/cgroup.freeze")" = 1 ]
  grep -qx 'frozen 1' "$CG_DIR/c1/cgroup.events"
  run --separate-stderr berth list --format json
  [ "$(jq -r '.[0].status' <<<"$output")" = paused ]

  run --separate-stderr berth resume c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 .status)" = running ]
  grep -qx 'frozen 0' "$CG_DIR/c1/cgroup.events"

  # the substrings callers match
  run --separate-stderr berth resume c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"container not paused"* ]]
  run --separate-stderr berth pause c1
  [ "$status" -eq 0 ]
  run --separate-stderr berth pause c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"container not running"* ]]
  run --separate-stderr berth exec c1 true
  [ "$status" -eq 1 ]
  [[ $stderr == *"cannot exec in a paused state"* ]]
}

@test "kill --all ID 9 ends the init and the exec'd processes" {
  start_container c1
  run --separate-stderr berth_detached exec --detach --pid-file "$WORK/exec.pid" c1 sleep 1000
  [ "$status" -eq 0 ]
  wait_for_procs c1 3

  run --separate-stderr berth kill --all c1 9
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  wait_for_procs c1 0
  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
  [ ! -e "$CG_DIR/c1" ]
}

@test "kill --all ID 9 on a paused container, then delete --force" {
  start_container c1
  run --separate-stderr berth pause c1
  [ "$status" -eq 0 ]
  run --separate-stderr berth kill --all c1 9
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  run --separate-stderr berth delete --force c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
  [ ! -e "$CG_DIR/c1" ]
}

@test "update --resources - ID with {} on stdin: a no-op that succeeds (CRI-O, containerd)" {
  start_container c1
  before=$(cat "$ROOT/c1/config.json")
  run --separate-stderr berth update --resources - c1 <<<'{}'
  echo "stderr: $stderr"
  [ "$status" -eq 0 ]
  # go-runc's spelling
  run --separate-stderr berth update --resources=- c1 <<<'{}'
  [ "$status" -eq 0 ]
  # podman's: a file
  echo '{}' >"$WORK/resources.json"
  run --separate-stderr berth update --resources="$WORK/resources.json" c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 .status)" = running ]
  [ "$(jq -S . "$ROOT/c1/config.json")" = "$(jq -S . <<<"$before")" ]
}

@test "update: refusals with clear messages" {
  start_container c1
  run --separate-stderr berth update c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"nothing to change"* ]]
  run --separate-stderr berth update --resources - c1 <<<'{oops'
  [ "$status" -eq 1 ]
  [[ $stderr == *"--resources"* ]]
  if ! grep -qw memory "$CG_MOUNT/cgroup.controllers"; then
    run --separate-stderr berth update --memory 64M c1
    [ "$status" -eq 1 ]
    [[ $stderr == *'linux.resources.memory: cgroup v2 controller "memory" is not available on this host'* ]]
  fi
  [ "$(state_field c1 .status)" = running ]
}

@test "events --stats ID | jq .type == stats" {
  start_container c1
  wait_for_procs c1 2
  run --separate-stderr berth events --stats c1
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [ "$(jq -r .type <<<"$output")" = stats ]
  [ "$(jq -r .id <<<"$output")" = c1 ]
  jq -e '.data.cpu.usage.total | type == "number"' <<<"$output"
  [ "$(jq -r .data.pids.current <<<"$output")" = 2 ]
}

@test "events --interval=1s ID (go-runc's shape) streams stats until the container exits" {
  make_bundle c1 sh -c 'sleep 3'
  run --separate-stderr berth_detached run -d --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  SECONDS=0
  run --separate-stderr berth events --interval=1s c1
  echo "status $status, output: $output, stderr: $stderr"
  [ "$status" -eq 0 ]
  [ "$SECONDS" -lt 30 ]
  [ "${#lines[@]}" -ge 2 ]
  for line in "${lines[@]}"; do
    [ "$(jq -r .type <<<"$line")" = stats ]
  done
}

@test "features: a runtime-spec features document" {
  run --separate-stderr berth_raw features
  [ "$status" -eq 0 ]
  jq -e . >/dev/null <<<"$output"
  [ "$(jq -r .ociVersionMin <<<"$output")" = 1.0.0 ]
  [[ $(jq -r .ociVersionMax <<<"$output") == 1.* ]]
  [ "$(jq -c '.hooks | sort' <<<"$output")" = '["createContainer","createRuntime","poststart","poststop","prestart","startContainer"]' ]
  jq -e '.mountOptions | index("rro") and index("rbind")' <<<"$output"
  jq -e '.linux.namespaces | index("time") and index("cgroup") and index("user") and index("pid")' <<<"$output"
  jq -e '.linux.seccomp.enabled == true' <<<"$output"
  jq -e '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY")' <<<"$output"
  jq -e '.linux.seccomp.archs | index("SCMP_ARCH_X86_64")' <<<"$output"
  jq -e '.linux.seccomp.knownFlags as $k | all(.linux.seccomp.supportedFlags[]; . as $f | $k | index($f))' <<<"$output"
  jq -e '.linux.cgroup.v2 == true and .linux.cgroup.v1 == false' <<<"$output"
  jq -e '.annotations["io.github.seccomp.libseccomp.version"] | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")' <<<"$output"
  # CRI-O reads these two
  jq -e '.linux.mountExtensions.idmap | has("enabled")' <<<"$output"
}

@test "--help of exec, pause, resume, ps, events, update, features" {
  local cmd
  for cmd in exec pause resume ps events update features; do
    run --separate-stderr berth_raw "$cmd" --help
    echo "$cmd --help: status $status"
    [ "$status" -eq 0 ]
    [[ $output == *"berth-runtime $cmd"* ]]
    [[ $output == *USAGE* ]]
  done
  run --separate-stderr berth_raw exec --help
  for flag in --process --detach --pid-file --console-socket --pidfd-socket --tty --env --cwd --user --cap --preserve-fds; do
    [[ $output == *"$flag"* ]]
  done
  run --separate-stderr berth_raw update --help
  [[ $output == *--resources* ]]
  run --separate-stderr berth_raw events --help
  [[ $output == *--stats* && $output == *--interval* ]]
  run --separate-stderr berth_raw ps --help
  [[ $output == *--format* ]]
}

@test "exec, pause, ps, events, update of a container that does not exist: 'does not exist'" {
  local cmd
  for cmd in "exec nope true" "pause nope" "resume nope" "ps nope" "events --stats nope" "update --resources - nope"; do
    # shellcheck disable=SC2086
    run --separate-stderr berth $cmd <<<'{}'
    echo "$cmd: status $status, stderr: $stderr"
    [ "$status" -eq 1 ]
    [[ $stderr == *"does not exist"* ]]
  done
}
