#!/bin/sh
# conntrack-backport test plan: one configuration in a fresh namespace topology.
#   ctb-config.sh CONFIG TRIALS TIMEOUT_MS MAX_SECONDS BIN_DIR [PREFIX]
# client (10.77.1.2, .3) -- router (ip_forward) -- server 1 (10.77.2.2), server 2 (10.77.3.2);
# the Service VIP 10.77.9.9:53 exists only as DNAT rules in the router. Prints "@@ctb" lines:
# the router's counters before and after (sb/sa, with the form read), the reproducer's result,
# and with CTB_EVERY_MS set the figures so far every that many ms (sp/partial, from ctb_race).
# Runs the same on the VM's busybox sh and on a host's sh (the probe); removes what it made.
# The rules and the race mode of CONFIG come from BIN_DIR/configs/CONFIG.sh (configs.ts).
CFG=$1; TRIALS=$2; TMO=$3; MAXS=$4; BIN=$5; P=${6:-ctb}
IPT=${CTB_IPTABLES:-iptables}
# busybox sh runs its own applets before PATH: name iproute2 by path where it matters.
IP=${CTB_IP:-ip}
VIP=10.77.9.9; S1=10.77.2.2; S2=10.77.3.2
say() { echo "@@ctb $*"; }
# Where the time goes: "@@ctb t PHASE SECONDS" (uptime, or the host's clock in the probe).
mark() { say "t $1 $(cut -d' ' -f1 /proc/uptime)"; }
ns() { n=$1; shift; $IP netns exec "$P-$n" "$@"; }
cleanup() {
	[ -n "$SP1" ] && kill "$SP1" 2>/dev/null
	[ -n "$SP2" ] && kill "$SP2" 2>/dev/null
	wait 2>/dev/null
	for n in cli rtr s1 s2; do $IP netns del "$P-$n" 2>/dev/null; done
}
trap cleanup EXIT
fail() { say "error $CFG $*"; exit 1; }

stats() {
	# $1: sb|sa. The proc file needs CONFIG_NF_CONNTRACK_PROCFS; conntrack -S needs netlink.
	if ns rtr test -r /proc/net/stat/nf_conntrack; then
		say "$1-form proc"
		ns rtr cat /proc/net/stat/nf_conntrack | while read -r l; do say "$1 $l"; done
	elif command -v conntrack >/dev/null 2>&1 && ns rtr conntrack -S >/dev/null 2>&1; then
		say "$1-form netlink"
		ns rtr conntrack -S | while read -r l; do say "$1 $l"; done
	else
		say "$1-form none"
	fi
}

say "begin $CFG"
mark begin
for n in cli rtr s1 s2; do $IP netns add "$P-$n" || fail "ip netns add"; done
$IP link add "${P}c0" netns "$P-cli" type veth peer name "${P}r0" netns "$P-rtr" || fail "veth (CONFIG_VETH?)"
$IP link add "${P}x1" netns "$P-s1" type veth peer name "${P}r1" netns "$P-rtr" || fail veth
$IP link add "${P}x2" netns "$P-s2" type veth peer name "${P}r2" netns "$P-rtr" || fail veth
# One ip process per namespace (-n, -batch): under TCG every process start costs.
batch() { n=$1; shift; printf '%s\n' "$@" | $IP -n "$P-$n" -batch - || fail "ip -n $P-$n: $*"; }
batch cli "link set lo up" "addr add 10.77.1.2/24 dev ${P}c0" "addr add 10.77.1.3/24 dev ${P}c0" "link set ${P}c0 up" \
	"route add default via 10.77.1.1"
batch rtr "link set lo up" "addr add 10.77.1.1/24 dev ${P}r0" "link set ${P}r0 up" "addr add 10.77.2.1/24 dev ${P}r1" \
	"link set ${P}r1 up" "addr add 10.77.3.1/24 dev ${P}r2" "link set ${P}r2 up"
batch s1 "link set lo up" "addr add $S1/24 dev ${P}x1" "link set ${P}x1 up" "route add default via 10.77.2.1"
batch s2 "link set lo up" "addr add $S2/24 dev ${P}x2" "link set ${P}x2 up" "route add default via 10.77.3.1"
ns rtr sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
mark topology

# The configuration's rules and race (configs.ts, written beside this script as configs/CFG.sh):
# it sets MODE, DST, EXTRA and SPAN, and calls rule once per iptables rule.
rule() { ns rtr $IPT "$@" || fail "$IPT $*"; }
SPAN_BASE=10.80.0.1; SPAN_N=1000000
[ -r "$BIN/configs/$CFG.sh" ] || fail "unknown configuration (no $BIN/configs/$CFG.sh)"
. "$BIN/configs/$CFG.sh"
if [ "$SPAN" = 1 ]; then
	# A fresh destination per trial: server 1 answers all of 10.80.0.0/12 as its own.
	batch s1 "route add local 10.80.0.0/12 dev lo"
	batch rtr "route add 10.80.0.0/12 via $S1"
fi
mark rules
# Started directly (not through ns()), so $! is the server itself and cleanup can stop it.
$IP netns exec "$P-s1" "$BIN/ctb_srv" 1 53 "$MAXS" & SP1=$!
$IP netns exec "$P-s2" "$BIN/ctb_srv" 2 53 "$MAXS" & SP2=$!
# The servers are up when a first datagram comes back (bounded: 50 x 0.1 s).
i=0; while [ $i -lt 50 ]; do
	ns cli "$BIN/ctb_race" serial $S1 53 1 100 2 2>/dev/null | grep -q 'replies=2' && ns cli "$BIN/ctb_race" serial $S2 53 1 100 2 2>/dev/null | grep -q 'replies=2' &&
		{ [ "$SPAN" != 1 ] || ns cli "$BIN/ctb_race" serial $SPAN_BASE 53 1 100 2 2>/dev/null | grep -q 'replies=2'; } && break
	i=$((i + 1)); sleep 0.1
done
[ $i -lt 50 ] || fail "servers did not answer"
mark servers
stats sb
# Figures while racing: the router's counter file is opened in the router's namespace (fd 7, a
# /proc/net file keeps the namespace it was opened in) and inherited by ctb_race in the client's,
# which rewinds and reads it between trials.
if [ "${CTB_EVERY_MS:-0}" -gt 0 ] && ns rtr test -r /proc/net/stat/nf_conntrack; then
	R=$(CTB_CFG=$CFG CTB_STAT_FD=7 ns rtr sh -c 'exec 7</proc/net/stat/nf_conntrack && exec "$@"' sh \
		$IP netns exec "$P-cli" "$BIN/ctb_race" $MODE $DST 53 "$TRIALS" "$TMO" "$MAXS" $EXTRA) || fail "ctb_race failed"
else
	R=$(ns cli "$BIN/ctb_race" $MODE $DST 53 "$TRIALS" "$TMO" "$MAXS" $EXTRA) || fail "ctb_race failed"
fi
mark race
stats sa
say "result $CFG $R"
say "end $CFG"
