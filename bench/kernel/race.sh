#!/usr/bin/env bash
# One kernel race run in network namespaces on the running kernel (bench/kernel.bench.ts calls
# it once per scenario of src/core/model/validation.ts):
#   bash bench/kernel/race.sh CLIENT DST PORT ROUNDS < router-rules
# CLIENT: same | serial | udp2 | tcp2 (see race.c). DST: server (10.99.2.2) or vip (10.99.9.9).
# router-rules: one command per line, run inside the router namespace with {OUT} replaced by its
# server-side interface (e.g. "iptables -t nat -A POSTROUTING -o {OUT} -j MASQUERADE").
# Prints the router's conntrack -S totals before and after, and the client's answer counts.
# Needs root, iproute2, iptables, conntrack, gcc. Touches only the namespaces it creates.
set -euo pipefail
CLIENT=$1 DSTNAME=$2 PORT=$3 ROUNDS=$4
here=$(cd "$(dirname "$0")" && pwd)
P=cbk$$
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in cli rtr srv; do ip netns del "$P-$n" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
for cmd in ip iptables conntrack gcc; do command -v $cmd >/dev/null || { echo "missing: $cmd (apt-get install iproute2 iptables conntrack gcc)" >&2; exit 2; }; done
gcc -O2 -pthread -o "$tmp/race" "$here/race.c"

for n in cli rtr srv; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
ip link add "${P}c" netns "$P-cli" type veth peer name "${P}r0" netns "$P-rtr"
ip link add "${P}s" netns "$P-srv" type veth peer name "${P}r1" netns "$P-rtr"
ip -n "$P-cli" addr add 10.99.1.2/24 dev "${P}c"; ip -n "$P-cli" link set "${P}c" up
ip -n "$P-rtr" addr add 10.99.1.1/24 dev "${P}r0"; ip -n "$P-rtr" link set "${P}r0" up
ip -n "$P-rtr" addr add 10.99.2.1/24 dev "${P}r1"; ip -n "$P-rtr" link set "${P}r1" up
ip -n "$P-srv" addr add 10.99.2.2/24 dev "${P}s"; ip -n "$P-srv" addr add 10.99.2.3/24 dev "${P}s"; ip -n "$P-srv" link set "${P}s" up
ip -n "$P-cli" route add default via 10.99.1.1
ip -n "$P-srv" route add default via 10.99.2.1
ip netns exec "$P-rtr" sysctl -qw net.ipv4.ip_forward=1
# The router tracks connections even before any nat rule: a conntrack match loads nf_conntrack there.
ip netns exec "$P-rtr" iptables -A FORWARD -m conntrack --ctstate INVALID -j ACCEPT
while IFS= read -r rule; do
  [ -z "$rule" ] && continue
  rule=${rule//\{OUT\}/${P}r1}
  # shellcheck disable=SC2086
  ip netns exec "$P-rtr" $rule
done

# Two answering servers (ids A and B), one per endpoint address.
ip netns exec "$P-srv" "$tmp/race" serve 10.99.2.2 53 A & pids+=($!)
ip netns exec "$P-srv" "$tmp/race" serve 10.99.2.3 53 B & pids+=($!)
sleep 0.2
case "$DSTNAME" in server) DST=10.99.2.2 ;; vip) DST=10.99.9.9 ;; *) echo "DST: server or vip" >&2; exit 2 ;; esac
ip netns exec "$P-rtr" conntrack -S > "$tmp/before.txt"
t0=$(date +%s%N)
ip netns exec "$P-cli" "$tmp/race" "$CLIENT" "$DST" "$PORT" "$ROUNDS" > "$tmp/client.txt"
t1=$(date +%s%N)
ip netns exec "$P-rtr" conntrack -S > "$tmp/after.txt"
echo "kernel=$(uname -r) cpus=$(nproc) ms=$(( (t1 - t0) / 1000000 ))"
cat "$tmp/client.txt"
echo "--- before"; cat "$tmp/before.txt"
echo "--- after"; cat "$tmp/after.txt"
