#!/usr/bin/env bash
# TLS with certificates generated here by Debian's openssl (none committed):
# clients must trust the node's CA, a client certificate from another CA is
# refused, plaintext to a TLS node is refused, and node links are mutual TLS.
set -uo pipefail
node_bin="$1"
ctl="$2"
dir="$(mktemp -d)"
failures=0
pids=()
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

# make_ca NAME; make_cert CA NAME: EC keys, valid one day, for 127.0.0.1.
make_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$1.key" -out "$dir/$1.pem" -days 1 -subj "/CN=$1" 2>/dev/null
}
make_cert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$2.key" -out "$dir/$2.csr" -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$dir/$2.ext"
  openssl x509 -req -in "$dir/$2.csr" -CA "$dir/$1.pem" -CAkey "$dir/$1.key" \
    -CAcreateserial -out "$dir/$2.pem" -days 1 -extfile "$dir/$2.ext" 2>/dev/null
}
make_ca ca && make_cert ca node-a && make_cert ca node-b && make_cert ca client \
  && make_ca other && make_cert other stranger || { echo "FAIL: openssl"; exit 1; }

# start_node NAME CERT CA [flags]: sets addr_NAME.
start_node() {
  local name="$1" cert="$2" ca="$3"; shift 3
  mkfifo "$dir/$name.out"
  "$node_bin" --listen=127.0.0.1:0 --tls_cert="$dir/$cert.pem" \
    --tls_key="$dir/$cert.key" --tls_ca="$dir/$ca.pem" "$@" >"$dir/$name.out" 2>&1 &
  pids+=($!)
  local ready
  exec {fd}<"$dir/$name.out"
  read -r -t 10 -u "$fd" ready || { fail "$name: not ready"; return; }
  cat <&"$fd" >"$dir/$name.log" &
  printf -v "addr_$name" '%s' "$(sed -E 's/^troupe node listening on ([^ ]+) .*/\1/' <<<"$ready")"
}
start_node a node-a ca
start_node b node-b ca
start_node c stranger other
printf 's3cret\n' >"$dir/secret"
start_node d node-a ca --secret_file="$dir/secret"

# expect CODE -- troupectl args
expect() {
  local code="$1"; shift 2
  out="$(timeout 30 "$ctl" --timeout=3s "$@" 2>&1)"; rc=$?
  [ "$rc" = "$code" ] || fail "troupectl $*: exit $rc, expected $code: $out"
}

client_cert=(--tls_ca="$dir/ca.pem" --tls_cert="$dir/client.pem" --tls_key="$dir/client.key")
expect 0 -- --node="$addr_a" "${client_cert[@]}" stats
# TLS without a secret: trusting the CA is not enough, a client presents a
# certificate the CA signed.
expect 6 -- --node="$addr_a" --tls_ca="$dir/ca.pem" stats
grep -q "present a certificate" <<<"$out" || fail "no-certificate message: $out"
# TLS with a secret: the secret identifies the client.
expect 0 -- --node="$addr_d" --tls_ca="$dir/ca.pem" --secret_file="$dir/secret" stats
expect 6 -- --node="$addr_d" --tls_ca="$dir/ca.pem" stats
expect 3 -- --node="$addr_a" stats                             # plaintext
expect 3 -- --node="$addr_a" --tls_ca="$dir/other.pem" \
  --tls_cert="$dir/client.pem" --tls_key="$dir/client.key" stats  # does not trust A
expect 3 -- --node="$addr_a" --tls_ca="$dir/ca.pem" \
  --tls_cert="$dir/stranger.pem" --tls_key="$dir/stranger.key" stats  # cert from another CA
expect 2 -- --node="$addr_a" --tls_ca="$dir/ca.pem" --tls_cert="$dir/client.pem" stats

# A links to B over mutual TLS: spawn on B through A.
expect 0 -- --node="$addr_a" "${client_cert[@]}" spawn counter far --on="$addr_b"
grep -q "^troupe://$addr_b/far\$" <<<"$out" || fail "spawn on B through A: $out"
# C (another CA) cannot link to A.
make_cert other stranger-client
expect 3 -- --node="$addr_c" --tls_ca="$dir/other.pem" --tls_cert="$dir/stranger-client.pem" \
  --tls_key="$dir/stranger-client.key" spawn counter --on="$addr_a"

# Flags: TLS needs all three on a node; with TLS a public bind is allowed.
out="$("$node_bin" --listen=127.0.0.1:0 --tls_ca="$dir/ca.pem" 2>&1)"; rc=$?
[ "$rc" = 2 ] || fail "node with only --tls_ca: exit $rc: $out"
grep -q "TLS needs all of" <<<"$out" || fail "node TLS flags message: $out"
out="$(timeout 10 "$node_bin" --listen=0.0.0.0:0 --advertise=127.0.0.1:1 \
  --tls_cert="$dir/node-a.pem" --tls_key="$dir/node-a.key" --tls_ca="$dir/ca.pem" \
  --run_for=100ms 2>&1)"; rc=$?
[ "$rc" = 0 ] || fail "public bind with TLS: exit $rc: $out"

[ "$failures" = 0 ] && echo "PASS" || exit 1
