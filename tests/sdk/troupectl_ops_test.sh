#!/usr/bin/env bash
# troupectl's operator commands against real nodes: actors (pages, kinds,
# every page), inspect, and top driven through tmux (send-keys, then
# capture-pane) as a person at a terminal would. Every wait is bounded and
# ends on what the screen or the output shows, not on time.
set -uo pipefail
node_bin="$1"
ctl="$2"
source "${TEST_SRCDIR:-}/troupe/tests/testing/sh_lib.sh" ||
  { echo "FAIL: cannot read tests/testing/sh_lib.sh (data: //tests/testing:sh_lib)"; exit 1; }
sock="troupe_top_$$"
extra_cleanup() { tmux -L "$sock" kill-server 2>/dev/null; }
command -v tmux >/dev/null || die "tmux is not installed (bazel/bootstrap.sh installs it)"

start_node "$node_bin" "$dir/node1.out"
a="$addr"; a_incarnation="$incarnation"
ctl() { timeout 30 "$ctl" --node="$a" "$@"; }
# stats_match NODE REGEX: NODE's stats (JSON, kept in $out) match REGEX.
stats_match() { out=$(timeout 30 "$ctl" --node="$1" stats 2>&1) && grep -qE "$2" <<<"$out"; }

# --- actors and inspect ---
for i in $(seq 1 25); do ctl spawn counter "c$i" >/dev/null || fail "spawn c$i"; done
ctl spawn echo >/dev/null || fail "spawn echo"
out=$(ctl actors --all 2>&1) || fail "actors --all: $out"
[ "$(grep -c ' counter ' <<<"$out")" = 25 ] || fail "actors --all lists $(grep -c ' counter ' <<<"$out") counters: $out"
grep -qE '^ID +KIND +DEPTH +HANDLED +AGE$' <<<"$out" || fail "no header: $out"
grep -qE '^[0-9]+ actors on 127\.0\.0\.1:[0-9]+, [0-9]+ pages, in ' <<<"$out" || fail "no summary: $out"
out=$(ctl actors --kind=counter --page_size=10 2>&1) || fail "actors page: $out"
[ "$(grep -c ' counter ' <<<"$out")" = 10 ] || fail "a page of 10 holds: $out"
token=$(sed -n 's/^(more: --page_token=\(.*\))$/\1/p' <<<"$out")
[ -n "$token" ] || fail "no next page token: $out"
listed=$(grep -c ' counter ' <<<"$out")
while [ -n "$token" ]; do
  out=$(ctl actors --kind=counter --page_size=10 --page_token="$token" 2>&1) || { fail "page $token: $out"; break; }
  listed=$((listed + $(grep -c ' counter ' <<<"$out")))
  token=$(sed -n 's/^(more: --page_token=\(.*\))$/\1/p' <<<"$out")
done
[ "$listed" = 25 ] || fail "paging by hand listed $listed counters, not 25"
out=$(ctl actors --page_token=junk 2>&1); rc=$?
[ "$rc" = 2 ] || fail "a bad token: exit $rc: $out"
for i in 1 2 3; do
  ctl tell "troupe://$a/c7" troupe.v1.CounterAdd '{"delta": 1}' || fail "tell"
done
handled3() { out=$(ctl inspect c7 2>&1) && grep -qE '^handled +[3-9] messages$' <<<"$out"; }
wait_for 10 handled3 || fail "inspect c7 never showed 3 handled: $out"
grep -q "^kind      counter$" <<<"$out" || fail "inspect kind: $out"
grep -q "^parent    (top level)$" <<<"$out" || fail "inspect parent: $out"
grep -q "^ref       troupe://$a/c7$" <<<"$out" || fail "inspect ref: $out"
out=$(ctl inspect nobody 2>&1); rc=$?
[ "$rc" = 4 ] || fail "inspect of nobody: exit $rc: $out"

# A second node linked to the first: listed on it, and in top's links. It
# allows its peers 3 s of silence (--failure_threshold), as its stats say.
start_node "$node_bin" "$dir/node2.out" --peers="$a" --failure_threshold=3s
b="$addr"
wait_for 10 stats_match "$b" '"allowed_silence_seconds": ([3-5](\.[0-9]+)?|6),?$' || fail "node2's link to $a does not allow 3 s of silence: $out"
out=$(ctl actors --on="$b" 2>&1) || fail "actors --on=$b: $out"
grep -q "^troupe.operations " <<<"$out" || fail "actors --on lists: $out"

# --- top, in a terminal ---
screen() { tmux -L "$sock" capture-pane -p -t top; }
run_top() {
  tmux -L "$sock" kill-server 2>/dev/null
  rm -f "$dir/top.exit"
  tmux -L "$sock" new-session -d -s top -x 120 -y 40 \
    "$ctl --node=$a top; echo \$? >$dir/top.exit"
}
shows() { screen | grep -qE "$1"; }
run_top
wait_for 10 shows "node $a  incarnation $a_incarnation" || fail "top header: $(screen)"
# Traffic until top shows the counters busy (a rate from two samples).
( while :; do "$ctl" --node="$a" tell "troupe://$a/c1" troupe.v1.CounterAdd '{"delta": 1}' >/dev/null 2>&1; done ) &
traffic=$!
pids+=($traffic)
busy() { shows '^counter +25 +[1-9][0-9]*$'; }
wait_for 30 busy || fail "top never showed the counters busy: $(screen)"
shows '^messages/s [1-9]' || fail "top shows no messages/s: $(screen)"
shows 'dead letters/s [0-9]+ +actors alive [0-9]+' || fail "top summary: $(screen)"
linked() { shows "^$b +up "; }
wait_for 10 linked || fail "top never showed the link to $b up: $(screen)"
kill "$traffic"
tmux -L "$sock" send-keys -t top q
ended() { [ -s "$dir/top.exit" ]; }
wait_for 10 ended || fail "q did not end top: $(screen)"
[ "$(cat "$dir/top.exit" 2>/dev/null)" = 0 ] || fail "top after q exited $(cat "$dir/top.exit" 2>/dev/null)"
run_top
wait_for 10 shows "node $a " || fail "top (second run): $(screen)"
tmux -L "$sock" send-keys -t top C-c
wait_for 10 ended || fail "Ctrl-C did not end top: $(screen)"
[ "$(cat "$dir/top.exit" 2>/dev/null)" = 0 ] || fail "top after Ctrl-C exited $(cat "$dir/top.exit" 2>/dev/null)"
out=$("$ctl" --node="$a" top </dev/null 2>&1 | cat); rc=${PIPESTATUS[0]}
grep -q "top draws on a terminal" <<<"$out" || fail "top without a terminal: $out"

# --- a leaving node cuts, and names, calls its peer never closes ---
# node3 links to node1 with a 60 s failure threshold (its detector cannot
# end the call first); node1 is frozen and node3 told to stop: it waits
# 2.5 s for node1 to read and close, then cuts the call, saying so.
start_node "$node_bin" "$dir/node3.out" --peers="$a" --failure_threshold=60s
c="$addr"; c_pid=${pids[-1]}; a_pid=${pids[0]}
wait_for 10 stats_match "$c" '"state": "up"' || fail "node3 never linked to $a: $out"
kill -STOP "$a_pid"
kill -TERM "$c_pid"
stopped3() { grep -q "^troupe node stopped" "$dir/node3.out"; }
wait_for 30 stopped3 || fail "node3 did not stop within 30 s: $(cat "$dir/node3.out")"
kill -CONT "$a_pid"
grep -qE "calls with (.*, )?$a(,.*)? had not ended 2\.5s after this node left; they are cut" "$dir/node3.out" ||
  fail "node3 did not name the call it cut: $(cat "$dir/node3.out")"

finish
