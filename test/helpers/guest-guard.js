// The one guest guard. vsock traffic is allowed only inside the rig's QEMU
// guest (test/vm/run.mjs): connect() on AF_VSOCK outside it would leave this
// machine through its virtio transport to hosts that are not ours (on a bare
// host even CID 1 may). The rig puts TEST_GUEST_MARKER on the guest kernel's
// command line. Plain CommonJS so that TypeScript tests (test/helpers/guest.ts),
// child-process fixtures and the benchmarks (bench/lib/guard.mjs) share it.
'use strict';
const { readFileSync } = require('node:fs');

/** Word the rig puts on the guest kernel's command line. */
const TEST_GUEST_MARKER = 'hvsock.testguest=1';

/** Whether a kernel command line carries the marker as a whole word. */
function cmdlineHasMarker(cmdline) {
  return cmdline.trim().split(/\s+/).includes(TEST_GUEST_MARKER);
}

let cached;

/** True iff we run inside the rig's guest (/proc/cmdline carries the marker). */
function inTestGuest() {
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

/**
 * Throws unless inTestGuest(): call before any AF_VSOCK connect(). `what`
 * names the refused action, `how` the command that runs it in the guest.
 */
function assertInTestGuest(
  what = "to connect an AF_VSOCK socket here: vsock connect tests must run inside the rig's guest",
  how = 'npm run vm -- node_modules/.bin/vitest run <files>',
) {
  if (inTestGuest()) return;
  throw new Error(
    `Refusing ${what}: ${how} ` + `(no "${TEST_GUEST_MARKER}" in /proc/cmdline; on a bare host even CID 1 may reach other machines).`,
  );
}

module.exports = { TEST_GUEST_MARKER, cmdlineHasMarker, inTestGuest, assertInTestGuest };
