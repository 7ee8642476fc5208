#!/bin/bash
# Lists the test kernels: the newest Debian cloud kernel of the 6.1 and of
# the 6.12 series whose image and headers are both installed.
for series in 6.1 6.12; do
	for img in /boot/vmlinuz-$series.*-cloud-amd64; do
		[ -e "$img" ] || continue
		k=${img#/boot/vmlinuz-}
		[ -d "/usr/src/linux-headers-$k" ] && echo "$k"
	done | sort -V | tail -n 1
done
