#!/usr/bin/env bash
# Starts the custom node on a free port, spawns a greeter on it with
# troupectl, asks it to greet, and stops the node.
set -euo pipefail
root="${RUNFILES_DIR:-$0.runfiles}/troupe"
[ -d "$root" ] || root="$PWD"  # under bazel test, the runfiles root is here
node_bin="$root/examples/custom_node/greeter_node"
ctl="$root/sdk/troupectl"

out="$(mktemp -u)"
mkfifo "$out"
"$node_bin" --listen=127.0.0.1:0 >"$out" 2>&1 &
node_pid=$!
trap 'kill -TERM $node_pid 2>/dev/null; wait $node_pid 2>/dev/null; rm -f "$out"' EXIT
exec 3<"$out"
if ! read -r -t 30 -u 3 ready; then
  echo "custom_node: the node did not start within 30 s" >&2
  exit 1
fi
addr="$(sed -E 's/^troupe node listening on ([^ ]+) .*/\1/' <<<"$ready")"
cat <&3 >/dev/null &  # drain the node's log
echo "node: $ready"
echo "kinds: $("$node_bin" --help 2>&1 | sed -n 's/^  \([a-z]*\): .*/\1/p' | tr '\n' ' ')"
run() { echo "\$ troupectl $*"; "$ctl" --node="$addr" "$@"; }
run spawn greeter g --init_type=google.protobuf.StringValue --init='"Bonjour"'
run ask "troupe://$addr/g" google.protobuf.StringValue '"Ada"'
