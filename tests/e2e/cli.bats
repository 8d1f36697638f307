#!/usr/bin/env bats
# The command line itself: help, version, spec.

load helpers

COMMANDS=(create delete kill list run spec start state)

# The flags each command's help must name.
flags_of() {
  case $1 in
  create) echo --bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds ;;
  run) echo --bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds --detach --keep --no-subreaper ;;
  kill) echo --all ;;
  delete) echo --force ;;
  list) echo --format --quiet ;;
  spec) echo --bundle --rootless ;;
  start | state) ;;
  esac
}

@test "--help lists every command and the global options, exit 0" {
  local opt
  for opt in --help -h; do
    run --separate-stderr berth_raw "$opt"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ $output == *"USAGE:"* ]]
    local cmd flag
    for cmd in "${COMMANDS[@]}" help; do
      echo "$output" | grep -Eq "^   $cmd +[a-z]"
    done
    for flag in --root --log --log-format --debug --systemd-cgroup --rootless --version; do
      echo "$output" | grep -Eq "^   ${flag}[ ,]"
    done
  done
}

@test "--help names each global option once" {
  run --separate-stderr berth_raw --help
  [ "$status" -eq 0 ]
  local flag
  for flag in --root --log --log-format --debug --systemd-cgroup --rootless --version --help; do
    n=$(echo "$output" | grep -Ec "^   ${flag}[ ,]")
    echo "$flag: $n"
    [ "$n" -eq 1 ]
  done
}

@test "<command> --help: exit 0, usage of that command and all its flags" {
  local cmd flag
  for cmd in "${COMMANDS[@]}"; do
    run --separate-stderr berth "$cmd" --help
    echo "$cmd --help: status $status"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "${lines[0]}" = "NAME:" ]
    [[ ${lines[1]} == "   berth-runtime $cmd - "* ]]
    [[ $output == *"berth-runtime $cmd [command options]"* ]]
    for flag in $(flags_of "$cmd") --help; do
      echo "  $flag"
      echo "$output" | grep -Eq "^   ${flag}[ ,]"
    done
    # -h is the same
    run --separate-stderr berth "$cmd" -h
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "$(berth "$cmd" --help | sed -n 2p)" ]
  done
}

@test "--help after the id or other flags still prints help and does nothing" {
  run --separate-stderr berth delete --force c1 --help
  [ "$status" -eq 0 ]
  [[ ${lines[1]} == "   berth-runtime delete - "* ]]
  run --separate-stderr berth_detached create --bundle "$WORK" c1 --help
  [ "$status" -eq 0 ]
  [[ $output == *"berth-runtime create [command options]"* ]]
  [ -z "$(ls -A "$ROOT")" ]
}

@test "help <command> prints the same as <command> --help" {
  local cmd
  for cmd in "${COMMANDS[@]}"; do
    run --separate-stderr berth help "$cmd"
    [ "$status" -eq 0 ]
    [ "$output" = "$(berth "$cmd" --help)" ]
  done
  run --separate-stderr berth help
  [ "$status" -eq 0 ]
  [ "$output" = "$(berth --help)" ]
}

@test "help of an unknown command: exit 1" {
  run --separate-stderr berth help frobnicate
  [ "$status" -eq 1 ]
  [[ $stderr == *'"frobnicate"'* ]]
}

@test "--version: berth-runtime version X, commit and spec lines" {
  run --separate-stderr berth_raw --version
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
  echo "$output"
  [[ ${lines[0]} =~ ^berth-runtime\ version\ [0-9]+\.[0-9]+\.[0-9]+([-+.~][0-9A-Za-z.+~-]*)?$ ]]
  [[ ${lines[1]} =~ ^commit:\ [^[:space:]]+$ ]]
  [ "${lines[2]}" = "spec: 1.2.0" ]
  [ "${#lines[@]}" -eq 3 ]
  run --separate-stderr berth_raw -v
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "berth-runtime version "* ]]
  # the help shows the same version
  version=$(berth_raw --version | sed -n '1s/^berth-runtime version //p')
  run --separate-stderr berth_raw --help
  [[ $output == *$'VERSION:\n   '"$version"$'\n'* ]]
}

@test "spec writes a config.json that jq parses and run can use after setting terminal and args" {
  mkdir "$WORK/spec"
  run --separate-stderr berth spec --bundle "$WORK/spec"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  cfg="$WORK/spec/config.json"
  jq -e . "$cfg" >/dev/null
  [ "$(jq -r .ociVersion "$cfg")" = 1.2.0 ]
  [ "$(jq -r .root.path "$cfg")" = rootfs ]
  [ "$(jq -r .process.terminal "$cfg")" = true ]
  [ "$(jq -c .process.args "$cfg")" = '["sh"]' ]
  [ "$(jq -r '[.linux.namespaces[].type] | sort | join(",")' "$cfg")" = "cgroup,ipc,mount,network,pid,uts" ]
  [ "$(jq -r '.linux.uidMappings // [] | length' "$cfg")" = 0 ]

  cp -a "$E2E_BASE/bundle/rootfs" "$WORK/spec/rootfs"
  edit_config "$WORK/spec" '.process.terminal = false | .process.args = ["sh", "-c", "echo hello from $(hostname)"] | .linux.cgroupsPath = $cg' \
    --arg cg "/$CG_NAME/c1"
  run --separate-stderr berth run --bundle "$WORK/spec" c1
  echo "stderr: $stderr"
  [ "$status" -eq 0 ]
  [ "$output" = "hello from $(jq -r .hostname "$cfg")" ]
}

@test "spec without --bundle writes into the current directory; -b is --bundle" {
  mkdir "$WORK/here" "$WORK/short"
  cd "$WORK/here"
  run --separate-stderr berth spec
  [ "$status" -eq 0 ]
  jq -e .process "$WORK/here/config.json" >/dev/null
  run --separate-stderr berth spec -b "$WORK/short"
  [ "$status" -eq 0 ]
  jq -e .process "$WORK/short/config.json" >/dev/null
}

@test "spec --rootless: a user namespace with mappings for the caller, no network namespace" {
  run --separate-stderr berth spec --rootless --bundle "$WORK"
  [ "$status" -eq 0 ]
  cfg="$WORK/config.json"
  jq -e . "$cfg" >/dev/null
  types=$(jq -r '[.linux.namespaces[].type] | sort | join(",")' "$cfg")
  [ "$types" = "cgroup,ipc,mount,pid,user,uts" ]
  [ "$(jq -c '.linux.uidMappings' "$cfg")" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" ]
  [ "$(jq -c '.linux.gidMappings' "$cfg")" = "[{\"containerID\":0,\"hostID\":$(id -g),\"size\":1}]" ]
  # as runc's: /sys is bind-mounted (no sysfs without a network namespace),
  # no gid=/uid= mount options, no cgroup resources
  [ "$(jq -r '.mounts[] | select(.destination == "/sys") | .options | index("rbind") != null' "$cfg")" = true ]
  [ "$(jq -r '[.mounts[].options // [] | .[] | select(startswith("gid=") or startswith("uid="))] | length' "$cfg")" = 0 ]
  [ "$(jq -r '.linux.resources // {} | length' "$cfg")" = 0 ]
}
