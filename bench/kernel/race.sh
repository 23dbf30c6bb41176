#!/usr/bin/env bash
# Validation against this machine's kernel (model.md, "a real kernel"): a thin caller of
# `conntrack-backport probe`, which races two UDP sends of one socket through a router
# namespace doing SNAT (MASQUERADE) or DNAT to two endpoints with the test plan's reproducers
# (src/core/testplan/repro), and prints the router's real counters beside the model's prediction.
#   sudo bash bench/kernel/race.sh [snat|dnat] [rounds]     (needs iproute2, iptables, gcc)
# Only namespaces the probe creates are touched; it removes them itself.
set -euo pipefail
MODE=${1:-snat}
ROUNDS=${2:-3000}
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$MODE" in
  snat) CONFIGS=masq ;;
  dnat) CONFIGS=dnat2-random ;;
  *) echo "mode: snat or dnat" >&2; exit 2 ;;
esac
exec node "$root/dist/cli.js" probe --configs "$CONFIGS" --trials "$ROUNDS"
