#!/usr/bin/env bash
# Validation against this machine's kernel (model.md, "a real kernel"): race two UDP sends of
# one socket through a router namespace doing SNAT (MASQUERADE) or DNAT to two endpoints, then
# print the router's real `conntrack -S` beside the model's prediction for the same scenario.
#   sudo bash bench/kernel/race.sh [snat|dnat] [rounds]     (needs iproute2, iptables, conntrack, gcc)
# Only namespaces this script creates are touched; it removes them on exit.
set -euo pipefail
MODE=${1:-snat}
ROUNDS=${2:-3000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
P=cbk$$
tmp=$(mktemp -d)
cleanup() { for n in cli rtr srv; do ip netns del "$P-$n" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

for cmd in ip iptables conntrack gcc; do command -v $cmd >/dev/null || { echo "missing: $cmd (apt-get install iproute2 iptables conntrack gcc)" >&2; exit 2; }; done
gcc -O2 -pthread -o "$tmp/udp_race" "$here/udp_race.c"

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
# Replies to closed ports would come back as ICMP errors; the server drops quietly instead.
ip netns exec "$P-srv" iptables -A INPUT -p udp --dport 53 -j DROP

case "$MODE" in
  snat)
    ip netns exec "$P-rtr" iptables -t nat -A POSTROUTING -o "${P}r1" -j MASQUERADE
    DST=10.99.2.2; SCENARIO=dns-snat ;;
  dnat)
    ip netns exec "$P-rtr" iptables -t nat -A PREROUTING -d 10.99.9.9 -p udp --dport 53 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.99.2.2
    ip netns exec "$P-rtr" iptables -t nat -A PREROUTING -d 10.99.9.9 -p udp --dport 53 -j DNAT --to-destination 10.99.2.3
    DST=10.99.9.9; SCENARIO=dns-vip ;;
  *) echo "mode: snat or dnat" >&2; exit 2 ;;
esac

ip netns exec "$P-rtr" conntrack -F >/dev/null 2>&1 || true
t0=$(date +%s%N)
ip netns exec "$P-cli" "$tmp/udp_race" "$DST" 53 "$ROUNDS"
t1=$(date +%s%N)
ip netns exec "$P-rtr" conntrack -S > "$tmp/stats.txt"
echo "kernel $(uname -r): $ROUNDS racing pairs through $MODE in $(( (t1 - t0) / 1000000 )) ms; router's conntrack -S:"
cat "$tmp/stats.txt"
echo
echo "what conntrack-backport reads in it:"
node "$root/dist/cli.js" stats "$tmp/stats.txt"
echo
echo "the model, same scenario, for kernels with the 2024 reverse-collision change (>= 6.13) and for a bionic 4.15 base:"
for v in reverse2024 none; do
  node "$root/dist/cli.js" simulate --scenario "$SCENARIO" --variant "$v" --trials "$ROUNDS" --seed 1 | grep -E '^(variant|packets dropped|conntrack -S|cpu=)' || true
done
