#!/usr/bin/env bash
# The cluster across hosts on a slow, lossy network (README, "Tested across
# hosts"): three hosts in network namespaces (hosts.sh) join; then every
# packet between them is held 100 ms +- 20 ms each way by the NFQUEUE
# delayer and 10 % are dropped each way, for 60 s. No node may declare
# another down (no MemberDown, no NODE_DOWN in any node's log), and every
# ask made meanwhile, through each host, is answered.
set -uo pipefail
node_bin="$(realpath "$1")"
ctl_bin="$(realpath "$2")"
delayer_bin="$(realpath "$3")"
source "$(dirname "$0")/hosts.sh"
keys=(k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 k10 k11)
span_s="${LATENCY_TEST_SECONDS:-60}"

echo "=== three hosts join (embedded); every link up before the faults"
for i in 1 2 3; do start_node "$i" --cluster=ml --seeds="$(addr 1)"; done
all_see_up 3 1 2 3
for k in "${keys[@]}"; do [ "$(count 1 "$k")" = 1 ] || fail "first call of $k"; done

echo "=== 100 ms +- 20 ms each way and 10 % loss each way, for $span_s s"
ip netns exec "${p}r" "$delayer_bin" --queue=7 --delay=100ms --jitter=20ms \
  >"$dir/delayer.log" 2>&1 &
pids[delayer]=$!
wait_for 100 "the delayer to bind its queue" grep -q "^delayer ready" "$dir/delayer.log" \
  || { fail "the delayer did not start: $(cat "$dir/delayer.log")"; exit 1; }
fw -I FORWARD -j NFQUEUE --queue-num 7
fw -I FORWARD -m statistic --mode random --probability 0.1 -j DROP  # first
for i in 1 2 3; do wc -l <"$dir/node$i.log" >"$dir/mark$i"; done
# Each host's measured round trips to its peers (SRTT, Stats), in ms.
round_trips() {
  ctl "$1" stats 2>/dev/null | sed -nE 's/.*"round_trip_seconds": ?([0-9.e-]+).*/\1/p' |
    awk '{printf "%s%.0f", (NR > 1 ? " " : ""), $1 * 1000}'
}
asks=0 answered=0 slowest=0
: >"$dir/took"
t_end=$(($(now_ms) + span_s * 1000))
n=0
while [ "$(now_ms)" -lt "$t_end" ]; do
  for i in 1 2 3; do
    k="${keys[$((n % ${#keys[@]}))]}"; n=$((n + 1))
    t0="$(now_ms)"
    v="$(count "$i" "$k" 25s)"
    took=$(($(now_ms) - t0))
    asks=$((asks + 1))
    if [ -n "$v" ]; then answered=$((answered + 1)); else fail "an ask of $k through host $i was not answered (after $took ms)"; fi
    [ "$took" -gt "$slowest" ] && slowest="$took"
    echo "$took" >>"$dir/took"
  done
done
rtts=""
for i in 1 2 3; do rtts="$rtts host $i: [$(round_trips "$i")]"; done
fw -D FORWARD -m statistic --mode random --probability 0.1 -j DROP
fw -D FORWARD -j NFQUEUE --queue-num 7
kill -TERM "${pids[delayer]}"; wait "${pids[delayer]}" 2>/dev/null
delayed="$(sed -nE 's/^delayer: ([0-9]+) packets delayed$/\1/p' "$dir/delayer.log")"
[ "${delayed:-0}" -gt 1000 ] || fail "the delayer held only '${delayed}' packets: the fault was not applied"
median="$(sort -n "$dir/took" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')"
echo "  $answered of $asks asks answered (troupectl, each through a host's own node); median $median ms, slowest $slowest ms; $delayed packets delayed"
echo "  measured round trips (ms) at the end of the faults:$rtts"
for i in 1 2 3; do
  downs="$(tail -n +"$(($(cat "$dir/mark$i") + 1))" "$dir/node$i.log" |
    grep -E "cluster: member .* down|is down" || true)"
  [ -z "$downs" ] || fail "host $i saw a false down: $downs"
done
all_see_up 3 1 2 3

if [ "$failures" = 0 ]; then echo "PASS"; else echo "$failures failure(s)"; exit 1; fi
