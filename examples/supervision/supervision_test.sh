#!/usr/bin/env bash
# Each step's outcome, in order: resume keeps the count, restart resets it,
# escalation restarts the parent and the worker, the third restart in a
# minute becomes a stop, a fatal failure stops at once.
set -uo pipefail
bin="$1"
out="$(timeout 60 "$bin" 2>&1)"; rc=$?
echo "$out"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ "$rc" = 0 ] || fail "exit $rc"

# The patterns must match lines in this order.
patterns=(
  'tree on node B \(127\.0\.0\.1:[0-9]+\), driven from node A'
  '^  count is 0 \(0: the tree is up\)$'
  '^  count is 3 \(3\)$'
  '^  parent: +worker failed \(bad input\) -> resume$'
  '^  count is 3 \(still 3: resumed with its state\)$'
  '^  parent: +worker failed \(corrupted\) -> restart$'
  '^  worker: +restarting \(count was 3\) after: corrupted$'
  '^  count is 0 \(0: a fresh instance\)$'
  '^  parent: +worker failed \(unknown\) -> escalate$'
  '^  grandparent: +parent escalated \(unknown\) -> restart it$'
  '^  parent: +restarting after: unknown$'
  '^  worker: +restarted with fresh state, count 0$'
  '^  count is 0 \(0: restarted with its parent\)$'
  '^  count is 0 \(0: restarted\)$'
  '^  node A: +watched worker ended: FAILED$'
  '^  asked again: no actor .* is alive'
  '^  parent: +worker failed \(fatal\) -> stop$'
  '^  node A: +watched worker ended: FAILED$'
  '^done$'
)
i=0
while IFS= read -r line && [ "$i" -lt "${#patterns[@]}" ]; do
  if grep -qE -- "${patterns[$i]}" <<<"$line"; then i=$((i + 1)); fi
done <<<"$out"
[ "$i" = "${#patterns[@]}" ] || fail "missing, or out of order: /${patterns[$i]}/"
[ "$failures" = 0 ] && echo "PASS" || exit 1
