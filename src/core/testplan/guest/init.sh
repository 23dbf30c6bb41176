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
CONFIGS=masq; TRIALS=100; TMO=10; MAXS=300; IPTV=legacy
for a in $(cat /proc/cmdline); do
	case "$a" in
		ctb.configs=*) CONFIGS=${a#ctb.configs=} ;;
		ctb.trials=*) TRIALS=${a#ctb.trials=} ;;
		ctb.timeout=*) TMO=${a#ctb.timeout=} ;;
		ctb.max=*) MAXS=${a#ctb.max=} ;;
		ctb.iptables=*) IPTV=${a#ctb.iptables=} ;;
	esac
done
export CTB_IPTABLES=iptables-$IPTV
echo "@@ctb boot $(cat /proc/uptime | cut -d' ' -f1) $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
for c in $(echo "$CONFIGS" | tr , ' '); do
	sh /ctb/ctb-config.sh "$c" "$TRIALS" "$TMO" "$MAXS" /ctb ctb
done
echo "@@ctb done"
sync
echo o > /proc/sysrq-trigger
sleep 1
echo b > /proc/sysrq-trigger
poweroff -f
