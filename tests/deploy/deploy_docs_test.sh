#!/usr/bin/env bash
# The README's deployment examples (README, "Deploying a cluster"), as far
# as this machine can check them: the systemd unit passes
# `systemd-analyze verify` and its command line starts a node that leaves
# cleanly on SIGTERM; the Kubernetes manifest parses, has a headless
# Service whose name is the seed, a readiness probe on the node's
# grpc.health.v1 port, and a container command line that starts a node.
set -uo pipefail
readme="$(realpath "$1")"
node_bin="$(realpath "$2")"
dir="$(mktemp -d)"
node_pid=""
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$dir"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
printf 'deploy-secret\n' >"$dir/secret"

# block MARKER: the fenced block after <!-- deploy:MARKER --> in the README.
block() {
  awk -v m="<!-- deploy:$1 -->" '
    $0 == m { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$readme"
}

# starts NAME ARGS...: the node starts (prints its ready line) and, on
# SIGTERM, leaves and exits 0.
starts() {
  local name="$1"; shift
  "$node_bin" "$@" >"$dir/$name.log" 2>&1 &
  node_pid=$!
  for ((t = 0; t < 300; t++)); do
    grep -q "^troupe node listening" "$dir/$name.log" && break
    sleep 0.1
  done
  grep -q "^troupe node listening" "$dir/$name.log" || fail "$name: no node: $(cat "$dir/$name.log")"
  kill -TERM "$node_pid"
  wait "$node_pid"; local rc=$?
  node_pid=""
  [ "$rc" = 0 ] || fail "$name: exit $rc on SIGTERM"
}

echo "=== systemd unit"
block systemd >"$dir/troupe.service"
[ -s "$dir/troupe.service" ] || fail "no systemd unit in the README"
exec_line="$(sed -nE 's/^ExecStart=(.*)/\1/p' "$dir/troupe.service")"
[[ "$exec_line" == /usr/local/bin/troupe_node\ * ]] || fail "ExecStart does not run troupe_node: $exec_line"
if command -v systemd-analyze >/dev/null; then
  # The binary this test built, and a user that exists here.
  sed -e "s|/usr/local/bin/troupe_node|$node_bin|" -e "s|^User=.*|User=root|" \
    "$dir/troupe.service" >"$dir/check.service"
  out="$(systemd-analyze verify "$dir/check.service" 2>&1)" || fail "systemd-analyze verify: $out"
else
  fail "systemd-analyze is missing (Debian's systemd; bazel/bootstrap.sh installs it)"
fi
read -r -a args <<<"${exec_line#* }"
# Here: loopback, a free port, the seeds unreachable (retried), this
# test's secret.
args=("${args[@]/--listen=*/--listen=127.0.0.1:0}")
args=("${args[@]/--seeds=*/--seeds=127.0.0.1:1}")
args=("${args[@]/--secret_file=*/--secret_file=$dir/secret}")
starts systemd "${args[@]}"

echo "=== Kubernetes manifest"
block kubernetes >"$dir/troupe.yaml"
checked="$(/usr/bin/python3 - "$dir/troupe.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
service = next(d for d in docs if d["kind"] == "Service")
sets = next(d for d in docs if d["kind"] == "StatefulSet")
assert service["spec"]["clusterIP"] == "None", "the Service is not headless"
assert sets["spec"]["serviceName"] == service["metadata"]["name"]
pod = sets["spec"]["template"]["spec"]
container = pod["containers"][0]
port = container["ports"][0]["containerPort"]
assert container["readinessProbe"]["grpc"]["port"] == port, "readiness not on the node's port"
args = container["args"]
seeds = [a for a in args if a.startswith("--seeds=")]
assert seeds and seeds[0].startswith("--seeds=" + service["metadata"]["name"] + "."), "the seed is not the headless Service"
assert any(a.startswith("--secret_file=") for a in args), "no secret"
assert any(a == "--advertise=$(POD_IP):%d" % port for a in args), "no advertised pod address"
print(" ".join(args))
PY
)" || fail "the manifest: $checked"
read -r -a kargs <<<"$checked"
kargs=("${kargs[@]/\$(POD_IP)/127.0.0.1}")
kargs=("${kargs[@]/--listen=*/--listen=0.0.0.0:0}")
kargs=("${kargs[@]/--secret_file=*/--secret_file=$dir/secret}")
starts kubernetes "${kargs[@]}"

[ "$failures" = 0 ] && echo "PASS" || { echo "$failures failure(s)"; exit 1; }
