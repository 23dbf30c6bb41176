#!/bin/sh
# conntrack-backport test plan: /init of the VM. Reads ctb.* from the kernel command line, runs
# each configuration, and powers the VM off (qemu runs with -no-reboot and a time limit).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /tmp
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /run/netns
CONFIGS=masq; TRIALS=100; TMO=30; MAXS=300; IPTV=legacy; EVERY=0
for a in $(cat /proc/cmdline); do
	case "$a" in
		ctb.configs=*) CONFIGS=${a#ctb.configs=} ;;
		ctb.trials=*) TRIALS=${a#ctb.trials=} ;;
		ctb.timeout=*) TMO=${a#ctb.timeout=} ;;
		ctb.max=*) MAXS=${a#ctb.max=} ;;
		ctb.iptables=*) IPTV=${a#ctb.iptables=} ;;
		ctb.every=*) EVERY=${a#ctb.every=} ;;
	esac
done
export CTB_IPTABLES=iptables-$IPTV CTB_IP=/sbin/ip CTB_EVERY_MS=$EVERY
echo "@@ctb boot $(cat /proc/uptime | cut -d' ' -f1) $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)" | tee -a /tmp/ctb.out
# Everything also goes to /tmp/ctb.out, written raw to the second disk at the end: the serial
# console can lose characters on a loaded host, a disk does not.
for c in $(echo "$CONFIGS" | tr , ' '); do
	sh /ctb/ctb-config.sh "$c" "$TRIALS" "$TMO" "$MAXS" /ctb ctb 2>&1 | tee -a /tmp/ctb.out
done
echo "@@ctb done" | tee -a /tmp/ctb.out
[ -b /dev/vdb ] && cat /tmp/ctb.out > /dev/vdb
sync
echo o > /proc/sysrq-trigger
sleep 1
echo b > /proc/sysrq-trigger
poweroff -f
