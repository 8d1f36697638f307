#!/bin/sh
# The quick start: install dependencies, build, start berthd (unless one
# already answers on /run/berth/berth.sock) and run a container from the
# built-in busybox image through it with the berth command.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
root=$(pwd)
berth=$root/build/src/berth
if ! "$berth" version >/dev/null 2>&1; then
  mkdir -p /run/berth
  echo "starting berthd (log: /run/berth/berthd.log)"
  setsid "$root/build/src/berthd" --builtin-image "$root/build/tools/busybox-image" \
    </dev/null >>/run/berth/berthd.log 2>&1 &
  i=0
  until "$berth" version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
      echo "berthd did not come up; its log:" >&2
      cat /run/berth/berthd.log >&2
      exit 1
    fi
    sleep 0.1
  done
fi
exec "$berth" run --rm busybox echo "hello from a berth container"
