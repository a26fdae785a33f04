#!/usr/bin/env bash
# The load program's short version: 3 node processes and 2 client
# processes; every stream arrives whole and in order, the figures agree.
set -uo pipefail
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
figure() { sed -nE "s/^troupe load $1=([0-9]+)$/\1/p" <<<"$out"; }

out="$(timeout 240 "$bin" --nodes=3 --clients=2 --messages=30000 \
  --client_messages=5000 --window=2000 2>&1)"; rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "exit $rc"
grep -q '^PASS: ' <<<"$out" || fail "no PASS summary"
# 3 x 2 node-to-node streams of 30000, 2 clients x 3 nodes of 5000.
[ "$(figure streams)" = 12 ] || fail "streams: $(figure streams)"
[ "$(figure sent)" = $((6 * 30000 + 6 * 5000)) ] || fail "sent: $(figure sent)"
[ "$(figure received)" = "$(figure sent)" ] || fail "received != sent"
[ "$(figure out_of_order)" = 0 ] || fail "out of order: $(figure out_of_order)"
[ "$(figure dead_lettered)" = 0 ] || fail "dead letters: $(figure dead_lettered)"
for s in n1-\>n2 n2-\>n3 n3-\>n1 c1-\>n1 c2-\>n3; do
  grep -qE "^$s +30000 +30000 |^$s +5000 +5000 " <<<"$out" || fail "stream $s"
done
grep -q 'MISMATCH' <<<"$out" && fail "a stream does not match"

[ "$failures" = 0 ] && echo "PASS" || exit 1
