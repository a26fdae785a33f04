#!/usr/bin/env bash
# Starts a troupe_node on a free port, runs client.py against it with
# Debian's Python (which has python3-grpcio), and stops the node.
set -euo pipefail
root="${RUNFILES_DIR:-$0.runfiles}/troupe"
[ -d "$root" ] || root="$PWD"  # under bazel test, the runfiles root is here
node_bin="$root/node/troupe_node"
here="$root/examples/python_client"

out="$(mktemp -u)"
mkfifo "$out"
"$node_bin" --listen=127.0.0.1:0 >"$out" 2>&1 &
node_pid=$!
trap 'kill -TERM $node_pid 2>/dev/null; wait $node_pid 2>/dev/null; rm -f "$out"' EXIT
exec 3<"$out"
if ! read -r -t 30 -u 3 ready; then
  echo "python_client: the node did not start within 30 s" >&2
  exit 1
fi
addr="$(sed -E 's/^troupe node listening on ([^ ]+) .*/\1/' <<<"$ready")"
echo "node: $ready"
cat <&3 >/dev/null &  # drain the node's log
PYTHONPATH="$here" /usr/bin/python3 "$here/client.py" --node="$addr" "$@"
