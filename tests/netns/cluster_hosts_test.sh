#!/usr/bin/env bash
# The cluster across hosts (README, "Cluster", "Tested across hosts"):
# three hosts and an etcd host, each a network namespace with its own
# address, routed by a router namespace where iptables makes the faults
# (../shared/notes/multi-host-testing.md). Created here, as root, and
# removed on exit. Real troupe_node processes, checked with troupectl from
# inside the hosts, as an operator would.
#
# Embedded: join, members, names and identities across hosts; kill -9 of
# a host's node (down everywhere, its names freed, its identities activated
# elsewhere on the next call); restart; a partition healed with no restart;
# a one-way partition (only 3 -> 1 dropped) ending in a defined state with
# nothing hanging. etcd: join; a partition of the host that runs
# identities, healed: no two activations of an identity overlap in time
# (from the nodes' own logs), the majority keeps ownership, and the
# partitioned node rejoins with no restart.
#
# Times are printed, not asserted (a busy CI machine); every wait is
# bounded and names what it waited for.
set -uo pipefail
node_bin="$(realpath "$1")"
ctl_bin="$(realpath "$2")"
source "$(dirname "$0")/hosts.sh"

keys=(k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 k10 k11)

echo "=== embedded: three hosts join through host 1"
for i in 1 2 3; do start_node "$i" --cluster=mh --seeds="$(addr 1)"; done
all_see_up 3 1 2 3

echo "=== names across hosts"
c2="$(ctl 2 spawn counter c2)" || fail "spawn on host 2"
c3="$(ctl 3 spawn counter c3)" || fail "spawn on host 3"
ctl 1 register shared "$c2" || fail "register from host 1 for host 2's actor"
ctl 2 register on3 "$c3" || fail "register from host 2 for host 3's actor"
[ "$(ctl 3 lookup shared)" = "$c2" ] || fail "host 3 does not find 'shared'"
[ "$(ctl 1 lookup on3)" = "$c3" ] || fail "host 1 does not find 'on3'"
ctl 3 register shared "$c3" >/dev/null 2>&1; [ $? = 7 ] || fail "a taken name was taken again"

echo "=== identities across hosts"
for k in "${keys[@]}"; do
  [ "$(count 1 "$k")" = 1 ] || fail "first call of $k from host 1"
  [ "$(count 2 "$k")" = 2 ] || fail "second call of $k from host 2 did not reach the same activation"
done

echo "=== kill -9 of host 3's node"
t0="$(now_ms)"
kill_node 3
wait_for 300 "host 1 to see host 3 down" is_state 1 3 down || fail "host 1 never saw host 3 down"
wait_for 300 "host 2 to see host 3 down" is_state 2 3 down || fail "host 2 never saw host 3 down"
echo "  down on both other hosts after $(($(now_ms) - t0)) ms (issue: <= 1 s; polled with troupectl)"
wait_for 100 "'on3' to be freed" bash -c "! ip netns exec ${p}h1 timeout 30 $ctl_bin --node=$(addr 1) --secret_file=$dir/secret lookup on3" \
  || fail "the name of host 3's actor was not freed"
[ "$(ctl 1 lookup shared)" = "$c2" ] || fail "host 2's name was lost"
restarted=0 continued=0
for k in "${keys[@]}"; do
  v=""
  for ((try = 0; try < 50; try++)); do
    v="$(count 1 "$k")"
    [ -n "$v" ] && break
    sleep 0.1
  done
  case "$v" in
    1) restarted=$((restarted + 1)) ;;  # it ran on host 3: activated again
    3) continued=$((continued + 1)) ;;
    *) fail "identity $k after the kill answered '$v'" ;;
  esac
done
echo "  identities: $restarted activated again elsewhere, $continued went on counting"
[ "$restarted" -gt 0 ] || fail "no identity ran on host 3: nothing tested"
[ "$continued" -gt 0 ] || fail "every identity restarted"

echo "=== host 3's node restarts at its address: a member again"
start_node 3 --cluster=mh --seeds="$(addr 1)"
all_see_up 3 1 2 3

echo "=== partition of host 3, then healed (no restart)"
isolate -I 3
t0="$(now_ms)"
wait_for 300 "host 1 to see host 3 down" is_state 1 3 down || fail "partition: host 1 never saw host 3 down"
wait_for 300 "host 3 to see host 1 down" is_state 3 1 down || fail "partition: host 3 never saw host 1 down"
echo "  both sides saw the other down after $(($(now_ms) - t0)) ms"
isolate -D 3
t0="$(now_ms)"
all_see_up 3 1 2 3
echo "  healed: all up again after $(($(now_ms) - t0)) ms"

echo "=== one-way partition: only host 3 -> host 1 dropped"
fw -I FORWARD -s 10.201.3.2 -d 10.201.1.2 -j DROP
t0="$(now_ms)"
wait_for 300 "host 1 to see host 3 down" is_state 1 3 down || fail "one-way: host 1 never saw host 3 down"
wait_for 300 "host 3 to see host 1 down" is_state 3 1 down || fail "one-way: host 3 never saw host 1 down"
echo "  defined state (1 and 3 see each other down) after $(($(now_ms) - t0)) ms"
[ "$(state 2 1)" = up ] && [ "$(state 2 3)" = up ] || fail "one-way: host 2 lost a member it can reach"
for i in 1 2 3; do  # nothing hangs: every node answers
  ctl "$i" members >/dev/null; rc=$?
  [ "$rc" = 0 ] || fail "one-way: host $i's node did not answer (exit $rc)"
  count "$i" k0 >/dev/null; rc=$?
  [ "$rc" != 124 ] || fail "one-way: a call through host $i hung"
done
fw -D FORWARD -s 10.201.3.2 -d 10.201.1.2 -j DROP
all_see_up 3 1 2 3
for i in 1 2 3; do kill_node "$i"; done

echo "=== etcd: three hosts and etcd on host 9"
ip netns exec "${p}h9" "$etcd_bin" --name=mh --data-dir="$dir/etcd" \
  --listen-client-urls=http://10.201.9.2:2379 --advertise-client-urls=http://10.201.9.2:2379 \
  --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
  --initial-cluster=mh=http://127.0.0.1:2380 --log-level=error >"$dir/etcd.log" 2>&1 &
pids[etcd]=$!
for i in 1 2 3; do start_node "$i" --cluster=me --etcd=10.201.9.2:2379; done
all_see_up 3 1 2 3
for k in "${keys[@]}"; do [ "$(count 1 "$k")" = 1 ] || fail "etcd: first call of $k"; done

echo "=== etcd: partition of host 3 (from the hosts and etcd), calls from both sides"
: >"$dir/side1"; : >"$dir/side3"
calls() {  # calls I OUT: every key through host I, again and again, logged
  while [ ! -e "$dir/stop" ]; do
    for k in "${keys[@]}"; do echo "$(now_ms) $k $(count "$1" "$k")" >>"$2"; done
  done
}
isolate -I 3
t_cut="$(now_ms)"
calls 1 "$dir/side1" & pids[side1]=$!
calls 3 "$dir/side3" & pids[side3]=$!
wait_for 300 "host 1 to see host 3 down" is_state 1 3 down || fail "etcd partition: host 1 never saw host 3 down"
echo "  host 3 down for host 1 after $(($(now_ms) - t_cut)) ms (its lease expired)"
# Every identity answers again through host 1 (the ones host 3 ran, from
# a new activation once host 3's claims expired).
all_answer() { for k in "${keys[@]}"; do [ -n "$(count 1 "$k")" ] || return 1; done; }
wait_for 300 "every identity to answer through host 1" all_answer || fail "etcd partition: some identity never answered on the majority side"
sleep 1
isolate -D 3
t_heal="$(now_ms)"
all_see_up 3 1 2 3
echo "  healed: host 3 up again everywhere after $(($(now_ms) - t_heal)) ms, with no restart"
touch "$dir/stop"; wait "${pids[side1]}" "${pids[side3]}" 2>/dev/null
# After the heal, calls through host 3 reach the majority's activations:
# their counts go on from what host 1 saw.
for k in "${keys[@]}"; do
  last1="$(awk -v k="$k" '$2 == k && $3 != "" {v = $3} END {print v}' "$dir/side1")"
  v3="$(count 3 "$k")"
  [ -n "$v3" ] && [ "$v3" -gt "${last1:-0}" ] || fail "etcd: after the heal, $k through host 3 answered '$v3' (host 1 last saw '$last1')"
done
# No overlap: from the nodes' logs, each identity's activations, on any
# node, one after another (an activation ends before the next begins).
for i in 1 2 3; do
  sed -nE "s/^([0-9:.]+) troupe I cluster: identity counter:([a-z0-9]+) (activated|ended) here.*/\1 \2 \3 $i/p" "$dir/node$i.log"
done | sort >"$dir/activations"
overlaps="$(awk '
  { t = $1; k = $2; what = $3; node = $4
    if (what == "activated") { if (running[k] > 0) print k " on " node " at " t " while " holder[k] " ran it"; running[k]++; holder[k] = node }
    else if (running[k] > 0) running[k]-- }' "$dir/activations")"
[ -z "$overlaps" ] || fail "etcd: two activations of an identity at once: $overlaps"
echo "  activations: $(grep -c activated "$dir/activations") started; side 3 answered $(awk '$3 != ""' "$dir/side3" | wc -l) calls, side 1 $(awk '$3 != ""' "$dir/side1" | wc -l)"

if [ "$failures" = 0 ]; then echo "PASS"; else echo "$failures failure(s)"; for i in 1 2 3; do echo "--- node $i"; tail -20 "$dir/node$i.log"; done; exit 1; fi
