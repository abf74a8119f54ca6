// Guards for tests that need the real kernel of the rig's QEMU guest
// (test/vm/run.mjs). connect() on AF_VSOCK outside that guest would leave
// this machine through its virtio transport to hosts that are not ours, so
// every test that connects must call assertInTestGuest() first.
import { readFileSync } from 'node:fs';

/** Word the rig puts on the guest kernel's command line. */
export const TEST_GUEST_MARKER = 'hvsock.testguest=1';

/** Whether a kernel command line carries the marker as a whole word. */
export function cmdlineHasMarker(cmdline: string): boolean {
  return cmdline.trim().split(/\s+/).includes(TEST_GUEST_MARKER);
}

let cached: boolean | undefined;

/** True iff we run inside the rig's guest (/proc/cmdline carries the marker). */
export function inTestGuest(): boolean {
  if (cached === undefined) {
    let cmdline = '';
    try {
      cmdline = readFileSync('/proc/cmdline', 'utf8');
    } catch {
      // not Linux, or no /proc: certainly not our guest
    }
    cached = cmdlineHasMarker(cmdline);
  }
  return cached;
}

/** Throws unless inTestGuest(): call before any AF_VSOCK connect() in a test. */
export function assertInTestGuest(): void {
  if (inTestGuest()) return;
  throw new Error(
    'Refusing to connect an AF_VSOCK socket here: vsock connect tests must run inside the rig\'s guest: ' +
      'npm run vm -- node_modules/.bin/vitest run <files> ' +
      `(no "${TEST_GUEST_MARKER}" in /proc/cmdline; on a bare host even CID 1 may reach other machines).`,
  );
}
