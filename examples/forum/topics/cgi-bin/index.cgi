#!/bin/sh
# The topics service: GET /topics/ lists the topics, /topics/?id=N one of
# them. Data: /srv/topics.txt, a topic a line: id|title|user id. "host" is the
# hostname of the container that answered.
id=$(printf '%s\n' "$QUERY_STRING" | sed -n 's/^\(.*&\)*id=\([0-9][0-9]*\).*$/\2/p')
topics=$(awk -F'|' -v id="$id" 'id == "" || $1 == id {
  printf "%s{\"id\": %s, \"title\": \"%s\", \"user\": %s}", sep, $1, $2, $3; sep = ", " }' /srv/topics.txt)
printf 'Content-Type: application/json\r\n\r\n'
printf '{"service": "topics", "host": "%s", "topics": [%s]}\n' "$(hostname)" "$topics"
