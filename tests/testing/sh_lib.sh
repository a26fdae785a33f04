# sh_lib.sh: what the shell tests share. Sourced from the runfiles, with
# //tests/testing:sh_lib in the test's data:
#   source "${TEST_SRCDIR:-}/troupe/tests/testing/sh_lib.sh" || exit 1
# It sets `failures` (0), `pids` (what `cleanup` kills) and `dir` (a fresh
# temporary directory), and traps EXIT to clean up: it kills every pid in
# `pids`, runs the test's `extra_cleanup` if the test defines one, and
# removes `dir`. A test ends with `finish`.

failures=0
pids=()
dir="$(mktemp -d)"
cleanup() {
  if declare -F extra_cleanup >/dev/null; then extra_cleanup; fi
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# Counts a failure and goes on; the test ends with the count.
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# A failure the test cannot go on after.
die() { echo "FAIL: $*"; exit 1; }
# Ends the test: exit 1 with the count if anything failed, else PASS.
finish() {
  [ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
  echo PASS
}

# wait_for SECONDS CMD...: until CMD succeeds (checked every 0.1 s); false
# once SECONDS have passed.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# start_node BINARY OUT ARGS...: starts troupe_node on an ephemeral
# loopback port with ARGS, output to OUT, and waits (10 s at most) for its
# ready line "troupe node listening on ADDRESS incarnation HEX"; sets
# `addr` and `incarnation` from it. Dies if the node never gets ready.
start_node() {
  local binary="$1" out="$2"; shift 2
  "$binary" --listen=127.0.0.1:0 "$@" >"$out" 2>&1 &
  pids+=($!)
  local line='^troupe node listening on \([^ ]*\) incarnation \([0-9a-f]*\)$'
  node_ready() { grep -q "^troupe node listening on " "$out"; }
  wait_for 10 node_ready || die "troupe_node not ready: $(cat "$out")"
  addr=$(sed -n "s/$line/\1/p" "$out")
  incarnation=$(sed -n "s/$line/\2/p" "$out")
}
