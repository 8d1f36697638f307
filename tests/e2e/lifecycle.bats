#!/usr/bin/env bats
# The container lifecycle as berth-runtime's callers drive it: containerd's
# shim through go-runc, podman/conmon, CRI-O and runtime-tools.

load helpers

@test "create: state is created, the pid file holds state.pid, state has the runtime-spec fields" {
  create_container c1
  [ -s "$WORK/c1.pid" ]
  pid=$(cat "$WORK/c1.pid")
  [[ $pid =~ ^[0-9]+$ ]]
  [ -d "/proc/$pid" ]

  run --separate-stderr berth state c1
  [ "$status" -eq 0 ]
  echo "$output" | jq -e . >/dev/null
  [ "$(jq -r .status <<<"$output")" = created ]
  [ "$(jq -r .pid <<<"$output")" = "$pid" ]
  [ "$(jq -r .id <<<"$output")" = c1 ]
  [ "$(jq -r .ociVersion <<<"$output")" = 1.2.0 ]
  [ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
  [ "$(jq -r .rootfs <<<"$output")" = "$E2E_BASE/bundle/rootfs" ]
  [[ $(jq -r .created <<<"$output") =~ $RFC3339_RE ]]
  # runc prints state as indented JSON
  [ "${lines[0]}" = "{" ]
  # The init waits in the container's cgroup.
  grep -qx "$pid" "$CG_DIR/c1/cgroup.procs"
}

@test "create, start, kill 15, delete: created -> running -> stopped (pid 0) -> does not exist" {
  create_container c1
  pid=$(cat "$WORK/c1.pid")
  [ "$(state_field c1 .status)" = created ]

  run --separate-stderr berth start c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 .status)" = running ]
  [ "$(state_field c1 .pid)" = "$pid" ]
  # start made the init exec the configured process (start may return just
  # before the execve, as with runc, so give it a moment)
  want='sh -c trap "exit 0" TERM; sleep 1000 & wait '
  for ((i = 0; i < 50; i++)); do
    [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "$want" ] && break
    sleep 0.1
  done
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "$want" ]

  run --separate-stderr berth kill c1 15
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  [ "$(state_field c1 .pid)" = 0 ]

  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
  [ ! -e "$CG_DIR/c1" ]

  run --separate-stderr berth state c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"does not exist"* ]]
}

# kill_stops SIGNAL: a running container stops after `kill c1 SIGNAL`.
kill_stops() {
  start_container c1
  run --separate-stderr berth kill c1 "$1"
  echo "kill c1 $1: status $status, stderr: $stderr"
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  [ "$(state_field c1 .pid)" = 0 ]
  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
}

@test "kill by name: KILL (CRI-O's form, no SIG prefix)" {
  kill_stops KILL
}

@test "kill by name: SIGKILL" {
  kill_stops SIGKILL
}

@test "kill by name: lower case sigkill and kill" {
  kill_stops sigkill
  kill_stops kill
}

@test "kill by number: 9" {
  kill_stops 9
}

@test "kill by name: TERM and SIGTERM reach a handler in the container" {
  kill_stops TERM
  kill_stops SIGTERM
}

@test "kill without a signal sends SIGTERM" {
  start_container c1
  run --separate-stderr berth kill c1
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
}

@test "delete --force removes a running container and its processes" {
  start_container c1
  pid=$(cat "$WORK/c1.pid")
  [ "$(state_field c1 .status)" = running ]

  run --separate-stderr berth delete --force c1
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
  [ ! -e "$ROOT/c1" ]
  [ ! -e "$CG_DIR/c1" ]
  # the init is gone (at most a zombie until its new parent reaps it)
  if [ -e "/proc/$pid/stat" ]; then
    [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ]
  fi
  run --separate-stderr berth state c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"does not exist"* ]]
}

@test "delete -f (short form) removes a running container" {
  start_container c1
  run --separate-stderr berth delete -f c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
}

@test "create then delete of a never started container (no --force needed)" {
  create_container c1
  pid=$(cat "$WORK/c1.pid")
  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
  [ ! -e "$CG_DIR/c1" ]
  if [ -e "/proc/$pid/stat" ]; then
    [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ]
  fi
  run --separate-stderr berth state c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"does not exist"* ]]
}

@test "run -d: running in list, then kill and delete" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_detached run -d --bundle "$BUNDLE" --pid-file "$WORK/c1.pid" c1
  [ "$status" -eq 0 ]
  pid=$(cat "$WORK/c1.pid")
  [ "$(state_field c1 .status)" = running ]
  [ "$(state_field c1 .pid)" = "$pid" ]

  run --separate-stderr berth list -q
  [ "$status" -eq 0 ]
  [ "$output" = c1 ]
  run --separate-stderr berth list --format json
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].status' <<<"$output")" = running ]
  [ "$(jq -r '.[0].pid' <<<"$output")" = "$pid" ]

  run --separate-stderr berth kill c1 KILL
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
  run --separate-stderr berth list -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ ! -e "$CG_DIR/c1" ]
}

@test "run --detach (long form) starts the container" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_detached run --detach --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 .status)" = running ]
}

@test "run in the foreground returns the process's exit status and removes the container" {
  make_bundle c1 sh -c 'echo out-of-container; exit 3'
  run --separate-stderr berth run --bundle "$BUNDLE" c1
  [ "$status" -eq 3 ]
  [ "$output" = out-of-container ]
  run --separate-stderr berth state c1
  [ "$status" -eq 1 ]
  [[ $stderr == *"does not exist"* ]]
  [ ! -e "$CG_DIR/c1" ]
}

@test "run in the foreground: exit status 0 and the container's stdin is the caller's" {
  make_bundle c1 sh -c 'read line; echo "got $line"'
  run --separate-stderr berth run --bundle "$BUNDLE" c1 <<<"hello"
  [ "$status" -eq 0 ]
  [ "$output" = "got hello" ]
}

@test "run --keep leaves the stopped container for delete" {
  make_bundle c1 sh -c 'exit 7'
  run --separate-stderr berth run --keep --bundle "$BUNDLE" c1
  [ "$status" -eq 7 ]
  [ "$(state_field c1 .status)" = stopped ]
  [ "$(state_field c1 .pid)" = 0 ]
  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
}

@test "run accepts Go's single-dash -no-subreaper (the shape restore uses)" {
  make_bundle c1 sh -c 'exit 4'
  run --separate-stderr berth run -no-subreaper --bundle "$BUNDLE" c1
  [ "$status" -eq 4 ]
  make_bundle c2 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_detached run -no-subreaper -d -bundle "$BUNDLE" c2
  [ "$status" -eq 0 ]
  [ "$(state_field c2 .status)" = running ]
}

@test "kill --all signals every process in the container's cgroup" {
  # three processes: the shell and two children
  make_bundle c1 sh -c 'sleep 1000 & sleep 1000 & wait'
  run --separate-stderr berth_detached run -d --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  # wait for both sleeps to be in the cgroup
  for ((i = 0; i < 100; i++)); do
    [ "$(wc -l <"$CG_DIR/c1/cgroup.procs")" -ge 3 ] && break
    sleep 0.1
  done
  [ "$(wc -l <"$CG_DIR/c1/cgroup.procs")" -eq 3 ]

  run --separate-stderr berth kill --all c1 KILL
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  for ((i = 0; i < 100; i++)); do
    [ -z "$(cat "$CG_DIR/c1/cgroup.procs")" ] && break
    sleep 0.1
  done
  [ -z "$(cat "$CG_DIR/c1/cgroup.procs")" ]
}

@test "kill -a (short form, CRI-O) with a signal number" {
  start_container c1
  run --separate-stderr berth kill -a c1 9
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
}

@test "list: header and columns are runc's (tabwriter: width max(12, longest+3))" {
  run --separate-stderr berth list
  [ "$status" -eq 0 ]
  [ "$output" = "ID          PID         STATUS      BUNDLE      CREATED     OWNER" ]

  start_container a-rather-long-container-id
  create_container b
  run --separate-stderr berth list
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]

  # Expected table, built from the states.
  local -a rows=("ID PID STATUS BUNDLE CREATED OWNER")
  local id
  for id in a-rather-long-container-id b; do
    rows+=("$id $(state_field "$id" .pid) $(state_field "$id" .status) $(state_field "$id" .bundle) $(state_field "$id" .created) root")
  done
  local -a width=(12 12 12 12 12)
  local row col
  for row in "${rows[@]}"; do
    read -ra f <<<"$row"
    for col in 0 1 2 3 4; do
      if ((${#f[col]} + 3 > width[col])); then width[col]=$((${#f[col]} + 3)); fi
    done
  done
  local expected='' line
  for row in "${rows[@]}"; do
    read -ra f <<<"$row"
    line=$(printf "%-${width[0]}s%-${width[1]}s%-${width[2]}s%-${width[3]}s%-${width[4]}s%s" "${f[@]}")
    expected+="$line"$'\n'
  done
  [ "$output" = "${expected%$'\n'}" ]
  [[ ${lines[1]} == "a-rather-long-container-id   "[0-9]* ]]
  [[ ${lines[1]} == *" running "* ]]
  [[ ${lines[2]} == *" created "* ]]
}

@test "list -q prints the ids, one a line, sorted" {
  run --separate-stderr berth list -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  create_container zz
  create_container aa
  run --separate-stderr berth list -q
  [ "$status" -eq 0 ]
  [ "$output" = $'aa\nzz' ]
  run --separate-stderr berth list --quiet
  [ "$status" -eq 0 ]
  [ "$output" = $'aa\nzz' ]
}

@test "list --format json: null when empty, else an array of states" {
  run --separate-stderr berth list --format json
  [ "$status" -eq 0 ]
  [ "$output" = null ]

  start_container c1
  create_container c2
  run --separate-stderr berth list --format json
  [ "$status" -eq 0 ]
  [ "$(jq -r type <<<"$output")" = array ]
  [ "$(jq -r length <<<"$output")" = 2 ]
  [ "$(jq -r '.[0].id + " " + .[0].status' <<<"$output")" = "c1 running" ]
  [ "$(jq -r '.[1].id + " " + .[1].status' <<<"$output")" = "c2 created" ]
  [ "$(jq -r '.[0].pid' <<<"$output")" = "$(cat "$WORK/c1.pid")" ]
  [ "$(jq -r '.[1].bundle' <<<"$output")" = "$WORK/bundles/c2" ]
  [ "$(jq -r '.[0].owner' <<<"$output")" = root ]
  [[ $(jq -r '.[0].created' <<<"$output") =~ $RFC3339_RE ]]

  # go-runc's form
  run --separate-stderr berth list --format=json
  [ "$status" -eq 0 ]
  [ "$(jq -r length <<<"$output")" = 2 ]
  run --separate-stderr berth list -f json
  [ "$status" -eq 0 ]
  [ "$(jq -r length <<<"$output")" = 2 ]
}

@test "go-runc (containerd shim) argv: --root R --log F --log-format json create --bundle B --pid-file P ID; start; delete" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  log="$BUNDLE/log.json"
  pidfile="$BUNDLE/init.pid"
  run --separate-stderr berth_raw_detached --root "$ROOT" --log "$log" --log-format json create --bundle "$BUNDLE" --pid-file "$pidfile" c1
  [ "$status" -eq 0 ]
  # create returns only after the pid file is written
  [ -s "$pidfile" ]
  pid=$(cat "$pidfile")
  [ "$(state_field c1 .pid)" = "$pid" ]

  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format json start c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 .status)" = running ]

  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format json kill c1 15
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped

  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format json delete c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
  # nothing went wrong, so the shim finds no error line
  if [ -s "$log" ]; then
    ! jq -e 'select(.level == "error")' "$log" >/dev/null
  fi
}

@test "go-runc argv: delete --force ID of a running container, and again when it is gone" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  log="$BUNDLE/log.json"
  run --separate-stderr berth_raw_detached --root "$ROOT" --log "$log" --log-format json create --bundle "$BUNDLE" --pid-file "$BUNDLE/init.pid" c1
  [ "$status" -eq 0 ]
  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format json start c1
  [ "$status" -eq 0 ]
  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format json delete --force c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
  # the shim's cleanup path repeats it
  run --separate-stderr berth_raw --root "$ROOT" --log "$log" --log-format json delete --force c1
  [ "$status" -eq 0 ]
}

@test "podman/conmon argv: --log-format=json --log F --root=R create --bundle B --pid-file P --no-new-keyring ID" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  log="$WORK/oci-log"
  run --separate-stderr berth_raw_detached --log-format=json --log "$log" --root="$ROOT" create --bundle "$BUNDLE" --pid-file "$WORK/pidfile" --no-new-keyring c1
  [ "$status" -eq 0 ]
  [ "$(cat "$WORK/pidfile")" = "$(state_field c1 .pid)" ]
  # podman calls these directly
  run --separate-stderr berth_raw --root "$ROOT" start c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 .status)" = running ]
  run --separate-stderr berth_raw --root "$ROOT" kill c1 9
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  run --separate-stderr berth_raw --root "$ROOT" delete --force c1
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c1" ]
}

@test "runtime-tools argv: create --pid-file P --bundle B ID; state; kill ID TERM; delete" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_detached create --pid-file "$WORK/p" --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  run --separate-stderr berth start c1
  [ "$status" -eq 0 ]
  run --separate-stderr berth state c1
  [ "$status" -eq 0 ]
  [ "$(jq -r .status <<<"$output")" = running ]
  run --separate-stderr berth kill c1 TERM
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
}

@test "Go-style flags: --flag=value, -flag value, -flag=value and short -b" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_raw_detached -root="$ROOT" -log-format=json -log="$WORK/log" create --bundle="$BUNDLE" --pid-file="$WORK/c1.pid" c1
  [ "$status" -eq 0 ]
  [ "$(cat "$WORK/c1.pid")" = "$(state_field c1 .pid)" ]

  make_bundle c2 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_raw_detached -root "$ROOT" create -b "$BUNDLE" -pid-file "$WORK/c2.pid" c2
  [ "$status" -eq 0 ]
  [ "$(cat "$WORK/c2.pid")" = "$(state_field c2 .pid)" ]

  make_bundle c3 "${LONG_RUNNING[@]}"
  run --separate-stderr berth_detached create -bundle="$BUNDLE" c3
  [ "$status" -eq 0 ]
  [ "$(state_field c3 .bundle)" = "$BUNDLE" ]

  # flags after the id (urfave/cli lets runc take them there too)
  run --separate-stderr berth delete c3 --force
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c3" ]

  # bool flags with an explicit value
  run --separate-stderr berth delete --force=true c2
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/c2" ]
  run --separate-stderr berth_raw --rootless=false --root="$ROOT" state c1
  [ "$status" -eq 0 ]
  [ "$(jq -r .status <<<"$output")" = created ]
}

@test "create with the bundle as the current directory (no --bundle)" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  cd "$BUNDLE"
  run --separate-stderr berth_detached create c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 .bundle)" = "$BUNDLE" ]
}

@test "kill KILL of a created, never started container stops it; delete removes it" {
  create_container c1
  run --separate-stderr berth kill c1 KILL
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  [ "$(state_field c1 .pid)" = 0 ]
  run --separate-stderr berth delete c1
  [ "$status" -eq 0 ]
  [ ! -e "$CG_DIR/c1" ]
}

@test "state and list carry the config's annotations (go-runc reads them)" {
  make_bundle c1 "${LONG_RUNNING[@]}"
  edit_config "$BUNDLE" '.annotations = {"org.example.key": "v1", "io.kubernetes.cri.container-type": "container"}'
  run --separate-stderr berth_detached create --bundle "$BUNDLE" c1
  [ "$status" -eq 0 ]
  [ "$(state_field c1 '.annotations["org.example.key"]')" = v1 ]
  [ "$(state_field c1 '.annotations["io.kubernetes.cri.container-type"]')" = container ]
  run --separate-stderr berth list --format json
  [ "$(jq -r '.[0].annotations["org.example.key"]' <<<"$output")" = v1 ]
  # without annotations the key is left out (omitempty), as in runc
  create_container c2
  [ "$(state_field c2 'has("annotations")')" = false ]
}

@test "list with a --root that does not exist yet: empty, exit 0" {
  run --separate-stderr berth_raw --root "$WORK/not-yet" list
  [ "$status" -eq 0 ]
  [ "$output" = "ID          PID         STATUS      BUNDLE      CREATED     OWNER" ]
  run --separate-stderr berth_raw --root "$WORK/not-yet" list --format json
  [ "$status" -eq 0 ]
  [ "$output" = null ]
  run --separate-stderr berth_raw --root "$WORK/not-yet" list -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "--preserve-fds 1 (conmon's --runtime-opt) passes fd 3 into the container" {
  make_bundle c1 sh -c 'echo through-fd-3 >&3'
  run --separate-stderr berth run --preserve-fds 1 --bundle "$BUNDLE" c1 3>"$WORK/fd3"
  [ "$status" -eq 0 ]
  [ "$(cat "$WORK/fd3")" = through-fd-3 ]
  # without it fd 3 is closed in the container
  make_bundle c2 sh -c 'echo through-fd-3 >&3'
  run --separate-stderr berth run --bundle "$BUNDLE" c2 3>"$WORK/fd3-not-passed"
  [ "$status" -ne 0 ]
  [ ! -s "$WORK/fd3-not-passed" ]
}

@test "create leaves the init as a child of the caller when it is a subreaper (containerd's shim, conmon)" {
  command -v python3 >/dev/null || skip "needs python3 to act as a subreaper"
  make_bundle c1 "${LONG_RUNNING[@]}"
  # A stand-in for the shim: PR_SET_CHILD_SUBREAPER, run `create`, report
  # its own pid and the init's parent once create has returned.
  run --separate-stderr timeout 60 python3 -c '
import ctypes, subprocess, sys
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl failed")
rc = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if rc != 0:
    sys.exit("create exited %d" % rc)
pid = open(sys.argv[sys.argv.index("--pid-file") + 1]).read().strip()
ppid = [l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("PPid:")][0]
print(__import__("os").getpid(), ppid)
' "$BERTH_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" --pid-file "$WORK/c1.pid" c1
  echo "status $status, output: $output, stderr: $stderr"
  [ "$status" -eq 0 ]
  read -r self parent <<<"$output"
  [ "$parent" = "$self" ]
  [ "$(state_field c1 .status)" = created ]
}

@test "the container's stdio is the stdio create was given (the shim's pipes)" {
  make_bundle c1 sh -c 'echo to-stdout; echo to-stderr >&2; read line; echo "stdin:$line"'
  echo from-stdin >"$WORK/in"
  timeout 60 "$BERTH_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" c1 \
    <"$WORK/in" >"$WORK/out" 2>"$WORK/err" 3>&-
  run --separate-stderr berth start c1
  [ "$status" -eq 0 ]
  wait_for_status c1 stopped
  [ "$(cat "$WORK/out")" = $'to-stdout\nstdin:from-stdin' ]
  [ "$(cat "$WORK/err")" = to-stderr ]
}

@test "--console-socket: one message with exactly one fd, the pty master (go-runc's recvFd)" {
  command -v python3 >/dev/null || skip "needs python3 to receive the console fd"
  make_bundle c1 sh -c '[ -t 0 ] && [ -t 1 ] && echo is-a-tty'
  edit_config "$BUNDLE" '.process.terminal = true'
  # A stand-in for the shim's console socket: accept one connection, take the
  # fds of one message, let create finish, start the container and read the
  # terminal until it closes.
  run --separate-stderr timeout 60 python3 -c '
import os, socket, subprocess, sys
sock_path, runtime, root, bundle = sys.argv[1:5]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(1)
srv.settimeout(50)
create = subprocess.Popen([runtime, "--root", root, "create", "--bundle", bundle,
                           "--console-socket", sock_path, "c1"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 8)
rc = create.wait()
print("create", rc)
sys.stderr.write(create.stderr.read().decode())
print("fds", len(fds))
print("name", msg.decode())
print("link", os.readlink("/proc/self/fd/%d" % fds[0]))
print("start", subprocess.call([runtime, "--root", root, "start", "c1"]))
out = b""
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
print("output", out.decode().replace("\r", "").strip())
' "$WORK/console.sock" "$BERTH_RUNTIME" "$ROOT" "$BUNDLE"
  echo "status $status"
  printf '%s\n' "$output" "$stderr"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "create 0" ]
  [ "${lines[1]}" = "fds 1" ]
  [[ ${lines[2]} == "name /dev/pts/"* || ${lines[2]} == "name /dev/ptmx" ]]
  [[ ${lines[3]} == "link /dev/ptmx" || ${lines[3]} == "link /dev/pts/ptmx" ]]
  [ "${lines[4]}" = "start 0" ]
  [ "${lines[5]}" = "output is-a-tty" ]
}
