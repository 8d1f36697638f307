# For berth_cli.bats: the shared berthd set-up (berthd.bash) and the berth
# command pointed at the test's daemon.

load berthd

cli_setup() {
  berthd_setup
  [ -x "$BERTH" ] || skip "no berth at $BERTH (ninja src/berth)"
}

cli_teardown() {
  berthd_teardown
}

# The berth command against this test's daemon, bounded in time.
berth() {
  timeout --foreground -k 5 "$BERTH_E2E_TIMEOUT" "$BERTH" -H "unix://$SOCK" "$@"
}

# Polls `berth ps` until container $1 shows a status matching $2.
wait_ps_status() {
  local i
  for i in $(seq 100); do
    berth ps -a | grep -E "$1" | grep -qE "$2" && return 0
    sleep 0.1
  done
  berth ps -a >&2
  return 1
}
