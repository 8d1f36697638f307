#!/usr/bin/env bats
# The forum example (examples/forum/forum.sh) against the test's berthd, once
# driven by berth and once by the docker CLI: up (a user network, three
# services and a gateway routing to them by name, published on 8080), demo
# (messages scaled to three containers behind one alias, one of them crashed
# and brought back by its restart policy) and down. The script runs in the
# test's network namespace (tests/e2e/berthd.bash), where 127.0.0.1:8080 is
# the gateway's published port.

load berthd

FORUM=$SRC_ROOT/examples/forum/forum.sh

setup() {
  berthd_setup
  start_berthd
}

teardown() {
  berthd_teardown
}

# forum.sh with the CLI $CLI (berth or docker) against the test's berthd.
forum() {
  innet timeout --foreground -k 5 100 env FORUM_CLI="$CLI" FORUM_HOST="unix://$SOCK" BERTH="$BERTH" \
    DOCKER="$DOCKER_BIN" "$FORUM" "$@"
}

# The CLI under test against the test's berthd.
cli() {
  if [ "$CLI" = docker ]; then docker "$@"; else timeout --foreground -k 5 "$BERTH_E2E_TIMEOUT" "$BERTH" -H "unix://$SOCK" "$@"; fi
}

# GET through the gateway's published port.
get() {
  innet curl -sf --max-time 10 "http://127.0.0.1:8080$1"
}

# A field (a jq filter) of a container's inspect, through the API.
field() {
  curl -s --max-time 20 --unix-socket "$SOCK" "http://berth/containers/$1/json" | jq -r "$2"
}

# The whole example: up, each route, demo (scale, crash, restart), down.
forum_example() {
  run forum up
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"==> the forum answers on http://127.0.0.1:8080/"* ]]
  local n
  for n in users topics messages-1 gateway; do
    [ "$(field "$n" .State.Status)" = running ]
    [ "$(field "$n" .HostConfig.RestartPolicy.Name)" = always ]
    [ "$(field "$n" '.NetworkSettings.Networks | keys | join(",")')" = forum ]
  done
  [ "$(field messages-1 '.NetworkSettings.Networks.forum.Aliases | index("messages") != null')" = true ]

  # Each route through the gateway reaches its service, which names itself
  # and the container that answered.
  local route service container count body
  for route in users/users/3 topics/topics/3 messages/messages-1/5; do
    IFS=/ read -r service container count <<<"$route"
    body=$(get "/$service/")
    [ "$(jq -r .service <<<"$body")" = "$service" ]
    [ "$(jq -r .host <<<"$body")" = "$(field "$container" .Config.Hostname)" ]
    [ "$(jq ".$service | length" <<<"$body")" -eq "$count" ]
  done
  body=$(get '/users/?id=2')
  [ "$(jq -c '[.users[].name]' <<<"$body")" = '["bob"]' ]
  body=$(get '/messages/?topic=2')
  [ "$(jq -c '[.messages[].topic]' <<<"$body")" = '[2,2]' ]
  [ "$(get / | jq -r .service)" = gateway ]
  run innet curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://127.0.0.1:8080/nosuch/
  [ "$output" = 404 ]

  run forum demo
  echo "$output"
  [ "$status" -eq 0 ]
  local demo=$output
  [[ "$output" == *"==> scale messages to 3 containers behind the alias messages"* ]]
  [[ "$output" == *"==> the forum still answers"*"6 of 6 requests answered"* ]]
  [[ "$output" == *"messages-2 is running again"* ]]

  # Three containers behind the alias, in berthd's DNS for the network.
  local gw want got
  gw=$(curl -s --unix-socket "$SOCK" http://berth/networks/forum | jq -r '.IPAM.Config[0].Gateway')
  want=$(for n in messages-1 messages-2 messages-3; do field "$n" .NetworkSettings.Networks.forum.IPAddress; done | sort)
  got=$(innet busybox nslookup messages "$gw" | awk '/^Address: / { print $2 }' | sort)
  [ "$(wc -l <<<"$got")" -eq 3 ]
  [ "$got" = "$want" ]
  # Several of them answer through the gateway, and only they.
  local hosts all
  all=$(for n in messages-1 messages-2 messages-3; do field "$n" .Config.Hostname; done)
  hosts=$(for _ in $(seq 12); do get /messages/ | jq -r .host; done | sort -u)
  echo "answered: $hosts"
  [ "$(wc -l <<<"$hosts")" -ge 2 ]
  for n in $hosts; do grep -qx "$n" <<<"$all"; done

  # The crashed container is back, a new process, by its restart policy.
  local killed
  killed=$(sed -n 's/.*killed PID \([0-9]*\)$/\1/p' <<<"$demo")
  [ -n "$killed" ]
  [ "$(field messages-2 .State.Status)" = running ]
  [ "$(field messages-2 .RestartCount)" -ge 1 ]
  [ "$(field messages-2 .State.Pid)" != "$killed" ]
  [ "$(get /users/ | jq -r .service)" = users ]

  run forum down
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"gateway removed"*"messages-3 removed"*"users removed"* ]]
  # Again: nothing to do, no error.
  run forum down
  [ "$status" -eq 0 ]
  [[ "$output" == *"not there"* ]]
  [ "$(curl -s --unix-socket "$SOCK" 'http://berth/containers/json?all=1' | jq length)" -eq 0 ]
  run cli network ls
  [ "$status" -eq 0 ]
  [[ "$output" == *bridge* ]]
  [[ "$output" != *forum* ]]
  run innet curl -s --max-time 2 http://127.0.0.1:8080/
  [ "$status" -ne 0 ]
  assert_no_leftovers
  # Nor the network's bridge.
  run innet ip -br link show type bridge
  echo "bridges left: $output"
  [ -z "$output" ]
}

@test "forum example with berth: routes by name, scaled messages, a crash the restart policy repairs, down" {
  CLI=berth forum_example
}

@test "forum example with the docker CLI: the same" {
  [ -x "$DOCKER_BIN" ] || skip "no docker CLI at $DOCKER_BIN"
  CLI=docker forum_example
}
