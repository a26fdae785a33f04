#!/usr/bin/env bash
# Starts a troupe_node on a free port, runs client.py against it with
# Debian's Python (which has python3-grpcio), and stops the node.
set -euo pipefail
root="${RUNFILES_DIR:-$0.runfiles}/troupe"
[ -d "$root" ] || root="$PWD"  # under bazel test, the runfiles root is here
source "$root/examples/start_node.sh"
start_node "$root/node/troupe_node"
here="$root/examples/python_client"
PYTHONPATH="$here" /usr/bin/python3 "$here/client.py" --node="$node_addr" "$@"
