#!/usr/bin/env bash
# troupectl as a script uses it, against a real troupe_node on a free port:
# outputs, and the exit codes scripts rely on. Every wait is bounded.
set -uo pipefail
node_bin="$1"
ctl="$2"
dir="$(mktemp -d)"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

printf 's3cret\n' >"$dir/secret"
printf 'wrong\n' >"$dir/wrong"
mkfifo "$dir/out"
"$node_bin" --listen=127.0.0.1:0 --secret_file="$dir/secret" >"$dir/out" 2>&1 &
node_pid=$!
trap 'kill -9 $node_pid 2>/dev/null; rm -rf "$dir"' EXIT
exec 3<"$dir/out"
read -r -t 10 -u 3 ready || { echo "FAIL: node not ready"; exit 1; }
addr="$(sed -E 's/^troupe node listening on ([^ ]+) .*/\1/' <<<"$ready")"
# Keep draining the node's output so it never blocks on a full pipe.
cat <&3 >"$dir/node.log" &

ctl() { timeout 30 "$ctl" --node="$addr" --secret_file="$dir/secret" "$@"; }

# expect CODE OUTPUT_PATTERN -- troupectl args
expect() {
  local code="$1" pattern="$2"; shift 3
  out="$(ctl "$@" 2>&1)"; rc=$?
  [ "$rc" = "$code" ] || fail "troupectl $*: exit $rc, expected $code: $out"
  grep -qE -- "$pattern" <<<"$out" || fail "troupectl $*: '$out' lacks /$pattern/"
}

ref="troupe://$addr/c1"
expect 0 "^$ref\$" -- spawn counter c1 --init_type=google.protobuf.Int64Value --init='"5"'
expect 0 "^\$" -- tell "$ref" troupe.v1.CounterAdd '{"delta": 2}'
expect 0 '"@type":"type.googleapis.com/google.protobuf.Int64Value".*"7"' -- ask "$ref" troupe.v1.CounterGet '{}'
expect 0 "^$ref\$" -- lookup c1
expect 0 '"actors_alive"' -- stats
# A virtual actor by kind and key: activated on first use, one count.
expect 0 "^\$" -- tell @counter:visits troupe.v1.CounterAdd '{"delta": 3}'
expect 0 '"4"' -- ask @counter:visits troupe.v1.CounterAdd '{"delta": 1}'
expect 0 '"5"' -- ask "troupe://$addr/@counter:visits" troupe.v1.CounterAdd '{"delta": 1}'
expect 2 "contains '/', a space" -- ask "@counter:two words" troupe.v1.CounterGet '{}'
# A cluster-wide name: registered, found by lookup, not taken twice.
expect 0 "^\$" -- register printer "$ref"
expect 0 "^$ref\$" -- lookup printer
expect 0 "^troupe://$addr/c2\$" -- spawn counter c2
expect 7 "is registered to troupe://$addr/c1" -- register printer "troupe://$addr/c2"
# A node alone is a cluster of one ('troupe', the default name).
expect 0 "^cluster 'troupe' as seen from $addr: 1 members" -- members
expect 0 "^$addr +up +[0-9a-f]{16} " -- members
expect 2 "is not host:port" -- members --on=nohost
expect 3 "down or unreachable" -- members --on=127.0.0.1:1 --timeout=3s

expect 4 "known kinds: counter, echo, kv, topic" -- spawn no-such-kind
expect 7 "already alive" -- spawn counter c1
expect 4 "ghost" -- ask "troupe://$addr/ghost" troupe.v1.CounterGet '{}'
expect 4 "nobody" -- lookup nobody
expect 2 "no message type 'no.Such'" -- tell "$ref" no.Such '{}'
expect 2 "is not JSON of troupe.v1.CounterAdd" -- tell "$ref" troupe.v1.CounterAdd 'not json'
expect 2 "troupe://" -- tell not-a-ref troupe.v1.CounterAdd '{}'
expect 2 "not a command" -- frobnicate
expect 5 "" -- ask "$ref" google.protobuf.StringValue '"ignored"' --timeout=200ms

# watch, then stop: the watch reports the end (NOT_FOUND if the stop won).
ctl watch "$ref" --timeout=20s >"$dir/watch" 2>&1 &
watch_pid=$!
expect 0 "^\$" -- stop "$ref" --graceful
wait "$watch_pid"; rc=$?
[ "$rc" = 0 ] || fail "watch: exit $rc: $(cat "$dir/watch")"
grep -qE "^$ref (STOPPED|NOT_FOUND)\$" "$dir/watch" || fail "watch: $(cat "$dir/watch")"
expect 4 "" -- stop "$ref"

out="$(timeout 30 "$ctl" --node="$addr" stats 2>&1)"; rc=$?
[ "$rc" = 6 ] || fail "no secret: exit $rc: $out"
out="$(timeout 30 "$ctl" --node="$addr" --secret_file="$dir/wrong" stats 2>&1)"; rc=$?
[ "$rc" = 6 ] || fail "wrong secret: exit $rc: $out"
grep -q "s3cret" <<<"$out" && fail "the secret was printed: $out"
out="$(timeout 30 "$ctl" --node=127.0.0.1:1 --timeout=1s stats 2>&1)"; rc=$?
[ "$rc" = 3 ] || fail "unreachable node: exit $rc: $out"

[ "$failures" = 0 ] && echo "PASS" || exit 1
