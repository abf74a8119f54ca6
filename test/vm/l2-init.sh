#!/bin/busybox sh
# /init of the inner guest (L2) of the boundary rig, booted by
# test/boundary/l2.ts inside the test guest (L1). Its vsock is the real virtio
# guest transport (vmw_vsock_virtio_transport) over L1's vhost_vsock. It
# chroots into L1's root (9p, read-only: the host's node, socat and the
# project at their usual paths) and runs the script named on the kernel
# command line (hvsock.l2script=PATH), output on the console; then powers off.
# With hvsock.l2mode=peer it runs only the static C peer (l2-peer.c) instead.
/bin/busybox --install -s /bin
export PATH=/bin

die() { echo "[l2-init] FATAL: $*"; poweroff -f; exit 1; }

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for ko in /lib/modules/*.ko; do
  insmod "$ko" || die "insmod $ko"
done
[ -c /dev/vsock ] || die "/dev/vsock missing after loading vsock"
echo "[l2-init] $(cut -d' ' -f1 /proc/uptime) s: modules loaded"

# hvsock.l2mode=peer: only the static peer from the initramfs (l2-peer.c).
if tr ' ' '\n' </proc/cmdline | grep -qx 'hvsock.l2mode=peer'; then
  /bin/l2-peer
  poweroff -f
fi

mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose hostroot /newroot || die "mount L1's root"
r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
script=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^hvsock.l2script=//p')
[ -n "$script" ] || die "no hvsock.l2script= on the kernel command line"
# A project under /tmp is mounted inside L1's /tmp: a tmpfs of our own there
# would hide it. Then /tmp stays L1's, read-only (nothing here writes to it).
case $script in
  /tmp/*) ;;
  *) mount -t tmpfs -o mode=1777 tmp $r/tmp ;;
esac
echo "[l2-init] $(cut -d' ' -f1 /proc/uptime) s: running $script"
env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp /bin/busybox chroot $r /bin/sh "$script" </dev/null
echo "[l2-init] $(cut -d' ' -f1 /proc/uptime) s: exit code $?"
poweroff -f
