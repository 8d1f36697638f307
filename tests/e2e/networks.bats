#!/usr/bin/env bats
# berthd's bridge networks under the real docker CLI: network create/ls/
# inspect/rm, names and aliases through the DNS responder, published TCP and
# UDP ports, masquerade, and nothing left behind after rm, a failed start and
# a berthd killed and restarted. berthd runs in the test's own network
# namespace (tests/e2e/berthd.bash); all traffic stays inside it.

load berthd

UDP_ECHO=$(dirname "$BIN_DIR")/tests/udp-echo

setup() {
  berthd_setup
  [ -x "$DOCKER_BIN" ] || skip "no docker CLI at $DOCKER_BIN"
  command -v nft >/dev/null || skip "needs nft"
  start_berthd
}

teardown() {
  berthd_teardown
}

# The A records busybox's nslookup prints for NAME, from a container on NET.
addresses_of() {
  docker run --rm --network "$1" busybox nslookup "$2" | awk '/^Address: / { print $2 }' | sort
}

@test "docker network create, ls, inspect, rm; overlapping subnets and bad drivers refused" {
  run docker network ls --format '{{.Name}} {{.Driver}}'
  [ "$status" -eq 0 ]
  [ "$output" = $'bridge bridge\nhost host\nnone null' ]

  run docker network create --subnet 10.89.0.0/24 forum
  [ "$status" -eq 0 ]
  run docker network inspect -f '{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' forum
  [ "$output" = "forum bridge 10.89.0.0/24 10.89.0.1" ]
  # A second network gets a free default subnet.
  run docker network create other
  [ "$status" -eq 0 ]
  run docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' other
  [ "$output" = "172.18.0.0/16" ]

  run docker network create --subnet 10.89.0.128/25 clash
  [ "$status" -ne 0 ]
  [[ "$output" == *"subnet 10.89.0.128/25 overlaps with network forum's 10.89.0.0/24"* ]]
  run docker network create forum
  [ "$status" -ne 0 ]
  [[ "$output" == *"network with name forum already exists"* ]]
  run docker network create -d overlay ov
  [ "$status" -ne 0 ]
  [[ "$output" == *'network driver "overlay" is not supported'* ]]
  # A field of the wrong type is a 400, and berthd goes on.
  run api -X POST -H 'Content-Type: application/json' http://berth/networks/create -d '{"Name": 1}'
  [ "${lines[-1]}" = 400 ]
  run api -X POST -H 'Content-Type: application/json' http://berth/containers/create \
    -d '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 8080}]}}}'
  [ "${lines[-1]}" = 400 ]
  run docker network ls -q
  [ "$status" -eq 0 ]
  # One port, published on all addresses and on one: the second is refused.
  docker run -d --name p1 -p 18080:80 busybox httpd -f -p 80 >/dev/null
  run docker run -d --name p2 -p 127.0.0.1:18080:80 busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"Bind for 127.0.0.1:18080 failed: port is already allocated"* ]]
  docker rm -f p1 p2 >/dev/null
  run docker network rm bridge
  [ "$status" -ne 0 ]
  [[ "$output" == *"bridge is a pre-defined network and cannot be removed"* ]]

  run docker network rm forum other
  [ "$status" -eq 0 ]
  run docker network ls -q --filter name=forum
  [ -z "$output" ]
  run docker network rm forum
  [ "$status" -ne 0 ]
  [[ "$output" == *"network forum not found"* ]]
  # Nothing was made in the kernel for networks no container used.
  [ -z "$(innet ip -br link show type bridge | grep '^br-')" ]
}

@test "containers on a user network reach each other by name and alias; a shared alias answers with both" {
  docker network create forum >/dev/null
  docker run -d --name users --network forum --network-alias api busybox httpd -f -p 80 -h /etc >/dev/null
  docker run -d --name topics --network forum --network-alias api busybox httpd -f -p 80 -h /etc >/dev/null
  local users_ip topics_ip
  users_ip=$(docker inspect -f '{{.NetworkSettings.Networks.forum.IPAddress}}' users)
  topics_ip=$(docker inspect -f '{{.NetworkSettings.Networks.forum.IPAddress}}' topics)
  [[ "$users_ip" == 172.18.0.* ]] && [[ "$topics_ip" == 172.18.0.* ]] && [ "$users_ip" != "$topics_ip" ]

  run addresses_of forum users
  [ "$output" = "$users_ip" ]
  run addresses_of forum api
  [ "$output" = "$(printf '%s\n' "$users_ip" "$topics_ip" | sort)" ]
  run docker run --rm --network forum busybox wget -qO- http://topics/hostname
  [ "$status" -eq 0 ]
  [ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' topics)" ]
  # Names are per network: the default bridge has none.
  run docker run --rm busybox nslookup users
  [ "$status" -ne 0 ]

  # A container that goes takes its names along.
  docker rm -f topics >/dev/null
  run addresses_of forum api
  [ "$output" = "$users_ip" ]
  docker rm -f users >/dev/null
  docker network rm forum >/dev/null
  assert_no_leftovers
}

@test "published ports answer on 127.0.0.1, the host's address, another container and the container itself; UDP too" {
  [ -x "$UDP_ECHO" ] || skip "no udp-echo at $UDP_ECHO"
  docker run -d --name web -p 8080:80 -p 5353:5353/udp -v "$UDP_ECHO:/udp-echo:ro" busybox \
    sh -c '/udp-echo 5353 & exec httpd -f -p 80 -h /etc' >/dev/null
  local hostname gw
  hostname=$(docker inspect -f '{{.Config.Hostname}}' web)
  gw=$(docker inspect -f '{{.NetworkSettings.Gateway}}' web)
  [ "$gw" = 172.17.0.1 ]
  run docker ps --format '{{.Ports}}'
  [[ "$output" == *"0.0.0.0:8080->80/tcp"* ]] && [[ "$output" == *"0.0.0.0:5353->5353/udp"* ]]
  run docker port web 80
  [[ "$output" == *"0.0.0.0:8080"* ]]

  # The test namespace is the host here: its loopback and its bridge address.
  run innet curl -s --max-time 5 http://127.0.0.1:8080/hostname
  [ "$output" = "$hostname" ]
  run innet curl -s --max-time 5 "http://$gw:8080/hostname"
  [ "$output" = "$hostname" ]
  run docker run --rm busybox wget -qO- "http://$gw:8080/hostname"
  [ "$output" = "$hostname" ]
  # The container itself, through its own published port (hairpin).
  run docker exec web wget -qO- "http://$gw:8080/hostname"
  [ "$output" = "$hostname" ]
  run innet python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(b"ping", ("127.0.0.1", 5353)); print(s.recv(100).decode())'
  [ "$output" = "echo ping" ]

  # The rules are berth's and the container's; masquerade for the network.
  run innet nft list table ip berth
  [[ "$output" == *"tcp dport 8080 dnat to 172.17.0."*":80"* ]]
  [[ "$output" == *"udp dport 5353 dnat to 172.17.0."*":5353"* ]]
  [[ "$output" == *"ip saddr 172.17.0.0/16 oifname != \"berth0\" masquerade"* ]]

  docker rm -f web >/dev/null
  run innet nft list table ip berth
  [[ "$output" != *"dnat"* ]] && [[ "$output" != *"masquerade"* ]]
  run innet curl -s --max-time 2 http://127.0.0.1:8080/hostname
  [ "$status" -ne 0 ]
  assert_no_leftovers
}

@test "a port already published, or busy on the host: the start fails by name and leaves nothing" {
  docker run -d --name first -p 8080:80 busybox httpd -f -p 80 -h /etc >/dev/null
  run docker run -d --name second -p 8080:80 busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"Bind for 0.0.0.0:8080 failed: port is already allocated"* ]]
  [ "$(docker inspect -f '{{.State.Status}}' second)" != running ]
  docker rm -f first second >/dev/null

  # A host process on the port.
  innet python3 -c 'import socket, time; s = socket.socket(); s.bind(("0.0.0.0", 9090)); s.listen(); time.sleep(60)' &
  local holder=$! i
  for i in $(seq 50); do
    innet ss -Htln 'sport = :9090' | grep -q . && break
    sleep 0.1
  done
  run docker run --rm -p 9090:80 busybox true
  kill "$holder"; wait "$holder" 2>/dev/null || true
  [ "$status" -ne 0 ]
  [[ "$output" == *"port 9090/tcp on 0.0.0.0 is already in use"* ]]
  assert_no_leftovers
}

@test "berthd killed and restarted: ports and names come back; rm then leaves nothing" {
  docker network create forum >/dev/null
  docker run -d --name web --network forum -p 8080:80 busybox httpd -f -p 80 -h /etc >/dev/null
  local hostname ip
  hostname=$(docker inspect -f '{{.Config.Hostname}}' web)
  ip=$(docker inspect -f '{{.NetworkSettings.Networks.forum.IPAddress}}' web)
  kill -9 "$BERTHD_PID"
  wait "$BERTHD_PID" 2>/dev/null || true
  start_berthd
  wait_inspect web '{{.State.Status}}' running
  run innet curl -s --max-time 5 http://127.0.0.1:8080/hostname
  [ "$output" = "$hostname" ]
  run addresses_of forum web
  [ "$output" = "$ip" ]
  # One rule set, not two.
  [ "$(innet nft list table ip berth | grep -c 'tcp dport 8080')" -eq 2 ]
  docker rm -f web >/dev/null
  docker network rm forum >/dev/null
  assert_no_leftovers
}

@test "--network none, host and container:NAME; an unknown network is a 404" {
  run docker run --rm --network none busybox ip -o link
  [ "$status" -eq 0 ]
  [[ "$output" == *"lo:"* ]] && [[ "$output" != *"eth0"* ]]
  run docker run --rm --network host busybox ip -o -4 addr
  [[ "$output" == *"127.0.0.1"* ]]
  # (Through the API: on any 404 from create the CLI first tries a pull.)
  run api -X POST -H 'Content-Type: application/json' http://berth/containers/create \
    -d '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "nosuch"}}'
  [ "${lines[-1]}" = 404 ]
  [ "$(jq -r .message <<<"${lines[0]}")" = "network nosuch not found" ]
  run api -X POST -H 'Content-Type: application/json' http://berth/containers/create \
    -d '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "container:nosuch"}}'
  [ "${lines[-1]}" = 404 ]
  [ "$(jq -r .message <<<"${lines[0]}")" = "No such container: nosuch" ]

  # container:NAME shares the namespace of a running container: its
  # loopback reaches the other's server.
  docker run -d --name web busybox httpd -f -p 80 -h /etc >/dev/null
  run docker run --rm --network container:web busybox wget -qO- http://127.0.0.1/hostname
  [ "$status" -eq 0 ]
  [ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' web)" ]
  docker stop -t 1 web >/dev/null
  run docker run --rm --network container:web busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot join network of a non running container: $(docker inspect -f '{{.Id}}' web)"* ]]
  docker rm web >/dev/null
  assert_no_leftovers
}

@test "docker network connect and disconnect: a running container gets and loses an interface; a created one gets it at start" {
  docker network create --subnet 10.91.0.0/24 front >/dev/null
  docker network create --subnet 10.92.0.0/24 back >/dev/null
  docker run -d --name web --network front busybox httpd -f -p 80 -h /etc >/dev/null
  run docker network connect --alias store back web
  [ "$status" -eq 0 ]
  run docker exec web ip -o -4 addr show eth1
  [[ "$output" == *"inet 10.92.0.2/24"* ]]
  run docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}' web
  [ "$output" = "back=10.92.0.2 front=10.91.0.2 " ]
  # Names on the new network, its alias included; the route stays on the first.
  run docker run --rm --network back busybox wget -qO- http://store/hostname
  [ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' web)" ]
  run docker exec web ip route show default
  [[ "$output" == *"via 10.91.0.1 dev eth0"* ]]
  run docker network connect back web
  [ "$status" -ne 0 ]
  [[ "$output" == *"endpoint with name web already exists in network back"* ]]

  run docker network disconnect back web
  [ "$status" -eq 0 ]
  run docker exec web ip -o link show eth1
  [ "$status" -ne 0 ]
  run docker run --rm --network back busybox nslookup store
  [ "$status" -ne 0 ]
  run docker network disconnect front web
  [ "$status" -ne 0 ]
  [[ "$output" == *"berthd disconnects only networks connected later"* ]]

  # A created container: the network comes with its start.
  docker create --name later --network front busybox sleep 100 >/dev/null
  docker network connect back later
  docker start later >/dev/null
  run docker exec later ip -o -4 addr show eth1
  [[ "$output" == *"inet 10.92.0."* ]]
  docker rm -f web later >/dev/null
  docker network rm front back >/dev/null
  assert_no_leftovers
}
