#!/bin/busybox sh
# /init of the test guest (busybox, in the initramfs built by setup.mjs).
# Builds the root the command runs in: the host's / read-only (9p) under a
# tmpfs overlay, so host binaries and libraries work at the same paths, and
# the project dir read-write at its host path. Then runs /run/hvsock/cmd.sh
# (written by run.mjs) with stdout/stderr on two virtio-serial ports, leaves
# the exit code in the control dir, and powers off. Any failure here powers
# off without an exit code: run.mjs then prints this console's log.
/bin/busybox --install -s /bin
export PATH=/bin

die() { echo "[guest-init] FATAL: $*" >/dev/console; poweroff -f; exit 1; }
step() { [ -z "$debug" ] || echo "[guest-init] $(cut -d' ' -f1 /proc/uptime) s: $*" >/dev/console; }

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
grep -q 'hvsock.debug=1' /proc/cmdline && debug=1
step "loading modules"

for ko in /lib/modules/*.ko; do
  insmod "$ko" || die "insmod $ko"
done
# The boundary rig (HVSOCK_VM_VHOST=1): this guest becomes a vsock host too
# (/dev/vhost-vsock, local CID 2) for an inner guest it boots itself.
if grep -q 'hvsock.vhost=1' /proc/cmdline; then
  for ko in /lib/modules/vhost/*.ko; do
    insmod "$ko" || die "insmod $ko"
  done
  [ -c /dev/vhost-vsock ] || die "/dev/vhost-vsock missing after loading vhost_vsock"
fi

step "mounting"
p9=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$p9" hvsock.ctl /ctl || die "mount control dir"
read -r project </ctl/project || die "no project path in control dir"

# cache=loose was the fastest for node's many stat()/read() calls.
mount -t 9p -o "$p9,ro,cache=loose" hvsock.root /lower || die "mount host root"
mount -t tmpfs -o mode=0755 rw /rw && mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work root /newroot || die "mount overlay"
r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm $r/tmp $r/run/hvsock
mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 shm $r/dev/shm
mount -t tmpfs -o mode=1777 tmp $r/tmp
mount --bind /ctl $r/run/hvsock
# Last, so a project under /tmp is not hidden by the guest's /tmp.
mkdir -p "$r$project" && mount -t 9p -o "$p9,cache=loose" hvsock.project "$r$project" || die "mount project $project"
[ -c /dev/vsock ] || die "/dev/vsock missing after loading vsock"
ip link set lo up

# Ports are announced by the host asynchronously after virtio_console probes: wait for them.
port() {
  for _ in $(seq 200); do
    for n in /sys/class/virtio-ports/*/name; do
      [ "$(cat "$n" 2>/dev/null)" = "$1" ] && { d=${n%/name}; echo "/dev/${d##*/}"; return; }
    done
    usleep 10000
  done
  die "virtio-serial port $1 not found"
}
step "waiting for output ports"
out=$(port hvsock.out) && err=$(port hvsock.err) || die "output ports"

step "running cmd.sh"
env -i /bin/busybox chroot $r /bin/sh /run/hvsock/cmd.sh </dev/null >"$out" 2>"$err"
echo $? >/ctl/rc
step "exit code $(cat /ctl/rc), syncing"
sync
poweroff -f
