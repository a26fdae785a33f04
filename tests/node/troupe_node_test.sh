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
  # Log lines (stderr) may come first; the ready line is the node's first
  # line on stdout.
  local deadline=$((SECONDS + 10))
  while [ "$SECONDS" -lt "$deadline" ] && read -r -t 10 -u 3 ready; do
    [[ "$ready" == "troupe node listening on "* ]] && return
  done
  fail "no ready line within 10 s (last line: '$ready')"
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
for kind in echo counter kv topic; do
  grep -q "^  $kind: " <<<"$msg" || fail "--help does not list kind $kind: $msg"
done

# A public address needs a secret, and a wildcard one an --advertise.
msg="$("$node" --listen=0.0.0.0:0 2>&1)"; rc=$?
[ "$rc" = 1 ] || fail "public bind without secret: exit code $rc"
grep -q "without a cluster secret" <<<"$msg" || fail "public bind message: $msg"
printf 's3cret\n' >"$dir/secret"
msg="$("$node" --listen=0.0.0.0:0 --secret_file="$dir/secret" 2>&1)"; rc=$?
[ "$rc" = 1 ] || fail "wildcard without --advertise: exit code $rc"
grep -q -- "--advertise" <<<"$msg" || fail "wildcard message: $msg"
: >"$dir/empty"
msg="$("$node" --secret_file="$dir/empty" 2>&1)"; rc=$?
[ "$rc" = 2 ] || fail "empty secret file: exit code $rc"
grep -q "is empty" <<<"$msg" || fail "empty secret message: $msg"
msg="$("$node" --secret_file="$dir/missing" 2>&1)"; rc=$?
[ "$rc" = 2 ] || fail "missing secret file: exit code $rc"
msg="$("$node" --peers=nonsense 2>&1)"; rc=$?
[ "$rc" = 2 ] || fail "bad --peers: exit code $rc"
grep -q "not host:port" <<<"$msg" || fail "bad --peers message: $msg"
msg="$("$node" --link_queue_capacity=0 2>&1)"; rc=$?
[ "$rc" = 2 ] || fail "zero --link_queue_capacity: exit code $rc"
grep -q -- "--link_queue_capacity >= 1" <<<"$msg" || fail "--link_queue_capacity message: $msg"
for bad in 100ms 2m; do
  msg="$("$node" --failure_threshold=$bad 2>&1)"; rc=$?
  [ "$rc" = 2 ] || fail "--failure_threshold=$bad: exit code $rc"
  grep -q -- "--failure_threshold: $bad is outside 200ms..1m" <<<"$msg" || fail "--failure_threshold=$bad message: $msg"
done

# With a secret on a public address, the node starts (advertising loopback).
start_node --listen=0.0.0.0:0 --advertise=127.0.0.1:1 --secret_file="$dir/secret"
[[ "$ready" =~ ^troupe\ node\ listening\ on\ 127\.0\.0\.1:1\  ]] || fail "secret node ready line: '$ready'"
kill -s TERM "$pid"
finish_node
[ "$rc" = 0 ] || fail "secret node: exit code $rc"

# --log_format=json: every log line is one JSON object with the documented
# fields; a failed link names its peer. 127.0.0.1:1 refuses at once.
msg="$("$node" --log_format=yaml 2>&1)"; rc=$?
[ "$rc" = 2 ] || fail "bad --log_format: exit code $rc"
start_node --log_format=json --peers=127.0.0.1:1 --run_for=3s
finish_node
[ "$rc" = 0 ] || fail "json node: exit code $rc"
python3 - "$rest" <<'PY' || fail "json log lines: $rest"
import json, sys
lines = [l for l in sys.argv[1].splitlines() if l.startswith("{")]
assert lines, "no JSON lines"
for line in lines:
    entry = json.loads(line)
    for key in ("time", "level", "node", "component", "message"):
        assert key in entry, (key, line)
    assert entry["level"] in ("info", "warning", "error"), line
    assert entry["node"].startswith("127.0.0.1:"), line
down = [json.loads(l) for l in lines if "127.0.0.1:1" in l]
assert any(e.get("peer") == "127.0.0.1:1" and e["component"] == "remote"
           and e["level"] == "warning" for e in down), down
PY

rm -rf "$dir"
[ "$failures" = 0 ] && echo "PASS" || exit 1
