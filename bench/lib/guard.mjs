// vsock traffic is allowed only inside the rig's QEMU guest: the benchmarks
// use the one guard of test/helpers/guest-guard.js.
import guard from '../../test/helpers/guest-guard.js';

export const { TEST_GUEST_MARKER, inTestGuest } = guard;

export function assertInTestGuest(what) {
  guard.assertInTestGuest(`${what} outside the test guest`, 'run it through npm run bench');
}
