// Guards for tests that need the real kernel of the rig's QEMU guest
// (test/vm/run.mjs): every test that connects AF_VSOCK calls
// assertInTestGuest() first. The implementation is test/helpers/guest-guard.js,
// shared with the child-process fixtures and the benchmarks.
export { TEST_GUEST_MARKER, cmdlineHasMarker, inTestGuest, assertInTestGuest } from './guest-guard';
