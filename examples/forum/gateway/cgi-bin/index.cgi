#!/bin/sh
# The gateway. busybox httpd runs this script for every directory URL (one
# ending in "/") it has no index.html for: /users/, /topics/ and /messages/,
# with their query strings, go to the service of that name on the forum
# network, found by name through berthd's DNS responder; the service's JSON is
# relayed as it is. When an address does not answer (a replica that is down)
# the next one the name has is tried.
path=${REQUEST_URI%%\?*}
service=${path#/}
service=${service%%/*}
gateway=$(hostname)

case $service in
users | topics | messages) ;;
"")
  printf 'Content-Type: application/json\r\n\r\n'
  printf '{"service": "gateway", "host": "%s", "routes": ["/users/", "/topics/", "/messages/"]}\n' "$gateway"
  exit 0
  ;;
*)
  printf 'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n'
  printf '{"error": "no route for %s"}\n' "$path"
  exit 0
  ;;
esac

# The service's addresses, in the order the DNS responder gives them: it
# turns the list round at every query, so requests go to each replica in turn
# (wget would always take the same one: glibc sorts the addresses of a subnet).
for address in $(nslookup "$service" 2>/dev/null | awk '/^Address: / { print $2 }'); do
  # (timeout, not wget -T: busybox 1.35's wget crashes with -T.)
  if body=$(timeout 2 wget -qO- "http://$address$REQUEST_URI" 2>/dev/null); then
    printf 'Content-Type: application/json\r\nX-Forum-Gateway: %s\r\n\r\n%s\n' "$gateway" "$body"
    exit 0
  fi
done
printf 'HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n\r\n'
printf '{"error": "%s did not answer"}\n' "$service"
