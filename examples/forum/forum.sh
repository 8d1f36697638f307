#!/bin/sh
# The forum example: a forum split into microservices, each a busybox httpd
# serving small CGI scripts, on one user network:
#
#   users, topics, messages-1..3   the services (messages-N share the alias
#                                  "messages")
#   gateway                        routes /users/, /topics/ and /messages/ to
#                                  the service of that name; published on the
#                                  host's port $FORUM_PORT (8080)
#
#   forum.sh [--cli berth|docker] [-H unix://SOCKET] [--port N] up|demo|down
#
#   up     creates the network, starts the services and the gateway (restart
#          policy always) and waits until the gateway answers
#   demo   a request per route; scales messages to three containers behind
#          one alias and shows several of them answering; crashes one and
#          shows the forum still answering and the restart policy bringing
#          the container back
#   down   removes the containers and the network (nothing there is fine)
#
# The environment: FORUM_CLI (berth or docker; berth by default: $BERTH, else
# berth on PATH; docker: $DOCKER, else docker), FORUM_HOST (the daemon's
# socket, as -H), FORUM_PORT, FORUM_NETWORK (forum). Only the image busybox is
# used and never pulled: berthd has it built in.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cli=${FORUM_CLI:-berth}
host=${FORUM_HOST:-}
port=${FORUM_PORT:-8080}
net=${FORUM_NETWORK:-forum}
scale=3

usage() {
  echo "usage: $0 [--cli berth|docker] [-H unix://SOCKET] [--port N] up|demo|down" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
  --cli) [ $# -ge 2 ] || usage; cli=$2; shift 2 ;;
  -H | --host) [ $# -ge 2 ] || usage; host=$2; shift 2 ;;
  --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
  -h | --help) usage ;;
  -*) usage ;;
  *) break ;;
  esac
done
[ $# -eq 1 ] || usage
command=$1

case $cli in
berth) bin=${BERTH:-berth} ;;
docker) bin=${DOCKER:-docker} ;;
*) echo "$0: --cli is berth or docker, not $cli" >&2; exit 2 ;;
esac

# The CLI, against FORUM_HOST when set.
c() {
  if [ -n "$host" ]; then "$bin" -H "$host" "$@"; else "$bin" "$@"; fi
}

say() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '%s: %s\n' "$0" "$*" >&2; exit 1; }

# GET http://127.0.0.1:PORT$1, the body on stdout; curl or wget, whichever
# there is.
get() {
  if command -v curl >/dev/null 2>&1; then
    curl -sf --max-time 10 "http://127.0.0.1:$port$1"
  else
    timeout 10 wget -qO- "http://127.0.0.1:$port$1"
  fi
}

# A field of the JSON a service answers with ("service", "host"): the answers
# are one line and the fields simple, sed is enough.
field() {
  sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p"
}

# inspect NAME .FIELD.PATH: a field of a container, empty when there is no
# such container. With `inspect -f`; a CLI without -f (berth's inspect has none
# yet) prints the JSON, indented by four, and awk follows the path in it.
inspect() {
  if [ "$has_format" = yes ]; then
    c inspect -f "{{$2}}" "$1" 2>/dev/null || true
    return
  fi
  c inspect --type container "$1" 2>/dev/null | awk -v want="$2" '
    /^ *"[^"]*": / {
      depth = (match($0, /[^ ]/) - 1) / 4 - 1
      key = $0; sub(/^ *"/, "", key); sub(/".*/, "", key)
      path[depth] = key
      p = ""
      for (i = 1; i <= depth; i++) p = p "." path[i]
      if (p == want) {
        v = $0; sub(/^ *"[^"]*": /, "", v); sub(/,$/, "", v); gsub(/^"|"$/, "", v)
        print v
        exit
      }
    }' || true
}

# The names of the forum's containers by hostname (berthd's, as docker's,
# are the first 12 digits of the ID), "HOSTNAME NAME" a line, in $hosts.
learn_hosts() {
  hosts=
  for n in users topics gateway $(messages_names); do
    h=$(inspect "$n" .Config.Hostname)
    [ -z "$h" ] || hosts="$hosts$h $n
"
  done
}

# The name of the container whose hostname is $1.
name_of() {
  n=$(printf '%s' "$hosts" | awk -v h="$1" '$1 == h { print $2 }')
  echo "${n:-$1}"
}

messages_names() {
  i=1
  while [ "$i" -le "$scale" ]; do
    echo "messages-$i"
    i=$((i + 1))
  done
}

# start NAME DIR [RUN OPTIONS...]: a service container serving DIR (under the
# example's directory) on port 80, unless it runs already.
start() {
  name=$1 dir=$here/$2
  shift 2
  case $(inspect "$name" .State.Status) in
  running) info "$name is running already"; return ;;
  "") ;;
  *) c start "$name" >/dev/null; info "$name started again"; return ;;
  esac
  c run -d --name "$name" --network "$net" --restart always -v "$dir:/srv:ro" "$@" \
    busybox httpd -f -p 80 -h /srv >/dev/null
  info "$name: $(inspect "$name" ".NetworkSettings.Networks.$net.IPAddress")"
}

# Waits (up to 30 s) until the gateway answers $1.
wait_for() {
  deadline=$(($(date +%s) + 30))
  until get "$1" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "the gateway does not answer $1 on 127.0.0.1:$port"
    sleep 0.5
  done
}

up() {
  say "network $net"
  if c network inspect "$net" >/dev/null 2>&1; then
    info "exists already"
  else
    c network create "$net" >/dev/null
    info "created"
  fi
  say "services on $net"
  start users users
  start topics topics
  start messages-1 messages --network-alias messages
  say "gateway on 127.0.0.1:$port"
  start gateway gateway -p "$port:80"
  for route in / /users/ /topics/ /messages/; do
    wait_for "$route"
  done
  say "the forum answers on http://127.0.0.1:$port/"
}

# show ROUTE: a request through the gateway and its answer.
show() {
  body=$(get "$1") || die "GET $1 failed"
  info "GET $1 -> $(printf '%s\n' "$body" | field service) answered ($(name_of "$(printf '%s\n' "$body" | field host)"))"
  info "  $body"
}

# ask N: N requests for /messages/ through the gateway; prints the containers
# that answered and a count of the answers.
ask() {
  answered=0 who=
  i=0
  while [ "$i" -lt "$1" ]; do
    i=$((i + 1))
    h=$(get /messages/ | field host) || continue
    [ -n "$h" ] || continue
    answered=$((answered + 1))
    who="$who $(name_of "$h")"
  done
  info "answered by:$who"
  info "$answered of $1 requests answered"
  [ "$answered" -eq "$1" ]
}

demo() {
  [ "$(inspect gateway .State.Status)" = running ] || die "the forum is not up (run: $0 up)"
  learn_hosts
  say "one request per route through the gateway"
  show /
  show /users/
  show /users/?id=2
  show /topics/
  show /messages/?topic=2

  say "scale messages to $scale containers behind the alias messages"
  for n in $(messages_names); do
    start "$n" messages --network-alias messages
  done
  learn_hosts
  info "DNS on $net: messages is$(c exec gateway nslookup messages |
    awk '/^Address: / { printf " %s", $2 }')"
  distinct=0
  tries=0
  while [ "$distinct" -lt 2 ] && [ "$tries" -lt 3 ]; do
    tries=$((tries + 1))
    out=$(ask 9) || die "requests failed: $out"
    printf '%s\n' "$out"
    distinct=$(printf '%s\n' "$out" | sed -n 's/.*answered by://p' | tr ' ' '\n' | sort -u | grep -c . || true)
  done
  info "$distinct different messages containers answered"

  victim=messages-2
  say "crash $victim: SIGKILL to its process"
  pid=$(inspect "$victim" .State.Pid)
  restarts=$(inspect "$victim" .RestartCount)
  case $pid in "" | 0) die "$victim has no process" ;; esac
  # A crash, not `$cli kill`: a kill through the API is a stop by the user,
  # after which docker (and berthd) leave the container stopped whatever its
  # restart policy. This needs the daemon's host, as root.
  kill -KILL "$pid"
  info "killed PID $pid"
  say "the forum still answers"
  ask 6 || die "the forum stopped answering after the crash"
  say "restart policy always brings $victim back"
  i=0
  while :; do
    now=$(inspect "$victim" .RestartCount)
    if [ "$(inspect "$victim" .State.Status)" = running ] && [ "${now:-0}" -gt "${restarts:-0}" ]; then
      break
    fi
    i=$((i + 1))
    [ "$i" -lt 60 ] || die "$victim did not come back"
    sleep 0.5
  done
  info "$victim is running again: PID $(inspect "$victim" .State.Pid), restart count $now"
  ask 6 || die "the forum stopped answering"
  say "done; remove it all with: $0 down"
}

down() {
  say "remove the forum's containers"
  for n in gateway $(messages_names) topics users; do
    if [ -n "$(inspect "$n" .State.Status)" ]; then
      c rm -f "$n" >/dev/null
      info "$n removed"
    fi
  done
  say "remove the network $net"
  if c network inspect "$net" >/dev/null 2>&1; then
    c network rm "$net" >/dev/null
    info "removed"
  else
    info "not there"
  fi
}

c version >/dev/null 2>&1 || die "$cli reaches no daemon${host:+ on $host}"
has_format=no
if c inspect --help 2>&1 | grep -q -- --format; then has_format=yes; fi

case $command in
up) up ;;
demo) demo ;;
down) down ;;
*) usage ;;
esac
