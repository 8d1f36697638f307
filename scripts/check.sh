#!/usr/bin/env bash
# Sets up, builds and runs every test suite, then prints one summary line:
#   N passed, M failed
# Suites: unit (no root; built with AddressSanitizer and UBSan), priv (root:
# real namespaces, mounts and cgroups), vm (the cgroup v2 suite in a QEMU
# guest), fuzz (the layer unpacker under libFuzzer, one case) and e2e (bats,
# driving the programs as runc's callers do). Test cases are counted, not
# binaries.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1

logdir=$(mktemp -d /tmp/berth-check-XXXXXX)
trap 'rm -rf "$logdir"' EXIT
passed=0 failed=0 skipped=0

build() {  # build DIR TARGETS [meson options...]; TARGETS "" means all
  local dir=$1 targets=$2
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$logdir/setup.log" 2>&1 || { cat "$logdir/setup.log"; return 1; }
  fi
  # shellcheck disable=SC2086  # TARGETS is a word list
  ninja -C "$dir" $targets >"$logdir/build.log" 2>&1 || { tail -50 "$logdir/build.log"; return 1; }
}

# doctest ends with "[doctest] test cases: T | P passed | F failed | S skipped".
count_doctest() {  # count_doctest NAME LOG STATUS
  local line
  line=$(grep -E '^\[doctest\] test cases:' "$2" | tail -1)
  if [ -z "$line" ]; then
    if [ "$3" -eq 77 ]; then
      echo "== $1: skipped (see above)"
      skipped=$((skipped + 1))
    else
      echo "== $1: no summary (exit $3): counted as one failure"
      failed=$((failed + 1))
    fi
    return
  fi
  local p f s
  p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
  s=$(sed -E 's/.*\| *([0-9]+) skipped.*/\1/' <<<"$line")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  # A crash after the summary, or a leak report from the sanitizers.
  if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "== $1: exit status $3 with no failed case: counted as one failure"
    failed=$((failed + 1))
  fi
}

run_doctest() {  # run_doctest NAME BINARY [ARGS...]
  local name=$1
  shift
  echo "== $name"
  "$@" 2>&1 | tee "$logdir/$name.log"
  count_doctest "$name" "$logdir/$name.log" "${PIPESTATUS[0]}"
}

echo "== build"
build build "" || { echo "0 passed, 1 failed"; exit 1; }
# Only the unit tests run sanitized: the static helpers cannot link with ASan.
build build-asan tests/unit-tests -Db_sanitize=address,undefined -Db_lundef=false -Dstatic_runtime=false ||
  { echo "0 passed, 1 failed"; exit 1; }

run_doctest unit env UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build-asan/tests/unit-tests
run_doctest priv env BERTH_RUNTIME="$PWD/build/src/berth-runtime" build/tests/priv-tests
run_doctest vm env BERTH_RUNTIME="$PWD/build/src/berth-runtime" tests/vm/run.sh build/tests/vm/vm-tests

# The layer unpacker under libFuzzer for a minute: one case, passed or failed.
echo "== fuzz"
scripts/fuzz.sh 60 2>&1 | tee "$logdir/fuzz.log"
if [ "$(tail -1 "$logdir/fuzz.log" | cut -d' ' -f2)" = pass ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "== e2e"
BERTH_RUNTIME="$PWD/build/src/berth-runtime" bats --tap tests/e2e 2>&1 | tee "$logdir/e2e.log"
e2e_ok=$(grep -cE '^ok [0-9]+' "$logdir/e2e.log" || true)
e2e_skip=$(grep -cE '^ok [0-9]+ .*# skip' "$logdir/e2e.log" || true)
e2e_fail=$(grep -cE '^not ok [0-9]+' "$logdir/e2e.log" || true)
passed=$((passed + e2e_ok - e2e_skip)) skipped=$((skipped + e2e_skip)) failed=$((failed + e2e_fail))
if [ "$((e2e_ok + e2e_fail))" -eq 0 ]; then
  echo "== e2e: no results: counted as one failure"
  failed=$((failed + 1))
fi

[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
