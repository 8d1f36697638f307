#!/bin/sh
# The quick start: install dependencies, build, and run a container from the
# built-in busybox bundle with berth-runtime.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/src/berth-runtime run --bundle build/tools/demo-bundle "berth-demo-$$"
