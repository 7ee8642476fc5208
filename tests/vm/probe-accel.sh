#!/bin/bash
# Prints "kvm" if a real KVM boot of a stock kernel reaches user space,
# else "tcg".  Nested KVM here often exists but cannot run the guest, so a
# real boot is the only trustworthy probe.  The answer is cached per boot
# of the host in /tmp (ORBIT_ACCEL overrides).
set -u
if [ -n "${ORBIT_ACCEL:-}" ]; then echo "$ORBIT_ACCEL"; exit 0; fi
cache=/tmp/orbit-accel.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
if [ -s "$cache" ]; then cat "$cache"; exit 0; fi
answer=tcg
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | head -1)
if [ -w /dev/kvm ] && [ -n "$kernel" ] && command -v busybox >/dev/null; then
	w=$(mktemp -d)
	mkdir -p "$w/r/bin" "$w/r/dev"
	cp "$(command -v busybox)" "$w/r/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox mount -t devtmpfs d /dev\necho KVM-PROBE-OK > /dev/ttyS0\n/bin/busybox poweroff -f\n' > "$w/r/init"
	chmod 755 "$w/r/init"
	(cd "$w/r" && find . | cpio -o -H newc --quiet) > "$w/i"
	( timeout -s KILL 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 \
		-kernel "$kernel" -initrd "$w/i" -append "console=ttyS0 quiet" \
		-nographic -no-reboot -monitor none -serial "file:$w/out" \
		>/dev/null 2>&1 ) 2>/dev/null
	grep -q KVM-PROBE-OK "$w/out" 2>/dev/null && answer=kvm
	rm -rf "$w"
fi
echo "$answer" > "$cache"
echo "$answer"
