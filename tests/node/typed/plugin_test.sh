#!/usr/bin/env bash
# protoc-gen-troupe refuses what a typed actor cannot serve, naming the rpc:
# a client-streaming or bidi rpc, and an rpc whose name would hide a member
# of the generated classes. (What it accepts is compiled and run by
# typed_actor_test.)
set -uo pipefail
protoc="$1"
plugin="$2"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
failures=0

# expect_refused NAME RPC_LINE PATTERN
expect_refused() {
  cat >"$dir/$1.proto" <<PROTO
syntax = "proto3";
package t;
message M {}
service S {
  $2
}
PROTO
  out="$("$protoc" -I"$dir" --plugin=protoc-gen-troupe="$plugin" \
    --troupe_out="$dir" "$dir/$1.proto" 2>&1)"
  rc=$?
  if [ "$rc" = 0 ]; then
    echo "FAIL: $1: protoc accepted '$2'"; failures=$((failures + 1))
  elif ! grep -qE -- "$3" <<<"$out"; then
    echo "FAIL: $1: '$out' lacks /$3/"; failures=$((failures + 1))
  fi
}

expect_refused client_stream "rpc Up(stream M) returns (M);" \
  "t.S.Up streams from the client"
expect_refused bidi "rpc Chat(stream M) returns (stream M);" \
  "t.S.Chat streams from the client"
expect_refused reserved "rpc Receive(M) returns (M);" \
  "t.S.Receive would hide Receive"

# A file with no service gives empty but compilable files.
printf 'syntax = "proto3";\npackage t;\nmessage M {}\n' >"$dir/plain.proto"
if ! "$protoc" -I"$dir" --plugin=protoc-gen-troupe="$plugin" \
  --troupe_out="$dir" "$dir/plain.proto"; then
  echo "FAIL: a file without services"; failures=$((failures + 1))
fi

[ "$failures" = 0 ] && echo "PASS" || exit 1
