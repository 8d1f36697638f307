#!/bin/sh
# The users service: GET /users/ lists the forum's users, /users/?id=N one
# of them. Data: /srv/users.txt, a user a line: id|name|joined. "host" is the
# hostname of the container that answered.
id=$(printf '%s\n' "$QUERY_STRING" | sed -n 's/^\(.*&\)*id=\([0-9][0-9]*\).*$/\2/p')
users=$(awk -F'|' -v id="$id" 'id == "" || $1 == id {
  printf "%s{\"id\": %s, \"name\": \"%s\", \"joined\": \"%s\"}", sep, $1, $2, $3; sep = ", " }' /srv/users.txt)
printf 'Content-Type: application/json\r\n\r\n'
printf '{"service": "users", "host": "%s", "users": [%s]}\n' "$(hostname)" "$users"
