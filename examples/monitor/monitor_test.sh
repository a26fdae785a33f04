#!/usr/bin/env bash
# Each monitor reports in sequence; at close every report sent was handled
# (N of N), including a backlog queued right before the aggregator's close;
# a report after the close fails with its cause (NOT_FOUND).
set -uo pipefail
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out="$(timeout 60 "$bin" --polls=4 --interval=20ms --backlog=25 2>&1)"; rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "exit $rc"
lines="$(sed -E 's/^\[[0-9:.]+\] //' <<<"$out")"
for m in monitor-B monitor-C; do
  seqs="$(sed -nE "s/^aggregator: $m report ([0-9]+) .*/\1/p" <<<"$lines")"
  n="$(wc -l <<<"$seqs")"
  [ "$n" -ge 4 ] || fail "$m: $n reports"
  [ "$seqs" = "$(seq 1 "$n")" ] || fail "$m: reports out of order or missing: $seqs"
  grep -qx "aggregator: $m closed after $n reports" <<<"$lines" || fail "$m: closing line"
  grep -qE "closed; handled [0-9]+ reports.* $n of $n from $m" <<<"$lines" || fail "$m: not all handled"
done
[ "$(grep -c '^aggregator: backlog report' <<<"$lines")" = 25 ] || fail "backlog not all handled"
grep -qE "closed; handled [0-9]+ reports, 25 of 25 from backlog" <<<"$lines" || fail "backlog summary"
# The summary comes last of the aggregator's lines: nothing after its close.
[ "$(grep '^aggregator: ' <<<"$lines" | tail -1 | cut -d';' -f1)" = "aggregator: closed" ] \
  || fail "the aggregator handled something after closing"
grep -qE "^a report sent after the close failed: NOT_FOUND: .*aggregator" <<<"$lines" \
  || fail "the late report did not fail with its cause"

[ "$failures" = 0 ] && echo "PASS" || exit 1
