#!/bin/sh
# The messages service: GET /messages/ lists the messages, /messages/?topic=N
# those of one topic. Data: /srv/messages.txt, a message a line:
# id|topic id|user id|text. "host" is the hostname of the container that
# answered: with several replicas behind the alias "messages" it changes.
topic=$(printf '%s\n' "$QUERY_STRING" | sed -n 's/^\(.*&\)*topic=\([0-9][0-9]*\).*$/\2/p')
messages=$(awk -F'|' -v topic="$topic" 'topic == "" || $2 == topic {
  printf "%s{\"id\": %s, \"topic\": %s, \"user\": %s, \"text\": \"%s\"}", sep, $1, $2, $3, $4; sep = ", " }' \
  /srv/messages.txt)
printf 'Content-Type: application/json\r\n\r\n'
printf '{"service": "messages", "host": "%s", "messages": [%s]}\n' "$(hostname)" "$messages"
