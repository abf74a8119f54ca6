// vsock traffic is allowed only inside the rig's QEMU guest: on a bare host
// even CID 1 leaves the machine through its virtio transport. Same marker as
// test/helpers/guest.ts (the rig puts it on the guest kernel command line).
import { readFileSync } from 'node:fs';

export const TEST_GUEST_MARKER = 'hvsock.testguest=1';

export function inTestGuest() {
  try {
    return readFileSync('/proc/cmdline', 'utf8').trim().split(/\s+/).includes(TEST_GUEST_MARKER);
  } catch {
    return false;
  }
}

export function assertInTestGuest(what) {
  if (inTestGuest()) return;
  throw new Error(`refusing ${what} outside the test guest (no "${TEST_GUEST_MARKER}" in /proc/cmdline): run it through npm run bench`);
}
