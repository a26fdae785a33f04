#!/usr/bin/env bash
# troupe_node as a user runs it: ready line, clean stop on SIGINT and SIGTERM,
# clear errors for bad input. Every wait is bounded (read -t).
set -uo pipefail
node="$1"
dir="$(mktemp -d)"
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Starts the node on a free port with stdout+stderr into a FIFO on fd 3, and
# reads its first line into $ready (10 s at most).
start_node() {
  rm -f "$dir/out"
  mkfifo "$dir/out"
  "$node" --listen=127.0.0.1:0 "$@" >"$dir/out" 2>&1 &
  pid=$!
  exec 3<"$dir/out"
  ready=""
  read -r -t 10 -u 3 ready || fail "no ready line within 10 s"
}

# Reads the node's remaining output until it closes (10 s at most; the node
# closes it only by exiting), then reaps it into $rc.
finish_node() {
  rest=""
  local line status
  while :; do
    IFS= read -r -t 10 -u 3 line
    status=$?
    [ "$status" = 0 ] || break
    rest+="$line"$'\n'
  done
  if [ "$status" -gt 128 ]; then
    fail "node did not stop within 10 s"
    kill -9 "$pid"
  fi
  exec 3<&-
  wait "$pid"; rc=$?
}

for sig in INT TERM; do
  start_node
  [[ "$ready" =~ ^troupe\ node\ listening\ on\ 127\.0\.0\.1:([0-9]+)\ incarnation\ [0-9a-f]{16}$ ]] \
    || fail "ready line: '$ready'"
  [ "${BASH_REMATCH[1]:-0}" != 0 ] || fail "port 0 reported"
  kill -s "$sig" "$pid"
  finish_node
  [ "$rc" = 0 ] || fail "SIG$sig: exit code $rc"
  grep -q "SIG$sig, shutting down" <<<"$rest" || fail "SIG$sig: no shutdown line in: $rest"
  grep -q "troupe node stopped" <<<"$rest" || fail "SIG$sig: no stopped line in: $rest"
done

start_node --run_for=200ms
finish_node
[ "$rc" = 0 ] || fail "--run_for: exit code $rc"
grep -q -- "--run_for elapsed" <<<"$rest" || fail "--run_for: $rest"

msg="$("$node" --listen=nonsense 2>&1)"; rc=$?
[ "$rc" = 1 ] || fail "bad --listen: exit code $rc"
grep -q "not host:port" <<<"$msg" || fail "bad --listen message: $msg"

msg="$("$node" --no_such_flag 2>&1)"; rc=$?
[ "$rc" != 0 ] || fail "unknown flag accepted"
grep -q "no_such_flag" <<<"$msg" || fail "unknown flag message: $msg"

msg="$("$node" --help 2>&1)"
grep -q -- "--listen" <<<"$msg" || fail "--help does not list --listen: $msg"

rm -rf "$dir"
[ "$failures" = 0 ] && echo "PASS" || exit 1
