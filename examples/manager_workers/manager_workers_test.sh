#!/usr/bin/env bash
# Part 1: every request answered once, by a worker on node B, in order of
# completion (sleep times never decrease). Part 2: node C is killed while
# its worker holds a job; the master sees NODE_DOWN and requeues that job,
# which worker-B then does; every job is done exactly once.
set -uo pipefail
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out="$(timeout 120 "$bin" --requests=10 --jobs=20 --work=30ms 2>&1)"; rc=$?
[ "$rc" = 0 ] || fail "exit $rc"
echo "$out"

node_b="$(sed -nE 's/^part 1 .* on node B \(([^)]+)\)$/\1/p' <<<"$out")"
answers="$(grep -E '^  answer from ' <<<"$out")"
[ "$(wc -l <<<"$answers")" = 10 ] || fail "part 1: $(wc -l <<<"$answers") answers"
[ "$(sed -nE 's/.*request ([0-9]+),.*/\1/p' <<<"$answers" | sort -n | uniq | wc -l)" = 10 ] \
  || fail "part 1: some request answered twice or never"
grep -vq "troupe://$node_b/sleeper-" <<<"$answers" && fail "part 1: an answer not from node B"
sleeps="$(sed -nE 's/.*slept ([0-9]+) ms$/\1/p' <<<"$answers")"
[ "$sleeps" = "$(sort -n <<<"$sleeps")" ] || fail "part 1: not in order of completion: $sleeps"

kill_line="$(grep -E 'kill -9 of node C while worker-C holds job [0-9]+$' <<<"$out")"
[ -n "$kill_line" ] || fail "part 2: node C was not killed"
held="${kill_line##* }"
grep -qE "master: worker-C is gone \(NODE_DOWN\); job $held requeued$" <<<"$out" \
  || fail "part 2: job $held not requeued on NODE_DOWN"
grep -qE "job $held done by worker-B$" <<<"$out" || fail "part 2: job $held not redone by worker-B"
for j in $(seq 1 20); do
  grep -qE "job $j done by worker-[BC]$" <<<"$out" || fail "part 2: job $j never done"
done
grep -qx "all 20 jobs done; done twice: 0; requeued: 1" <<<"$out" || fail "part 2: summary"

[ "$failures" = 0 ] && echo "PASS" || exit 1
