// Guest project setupFile: every test file must leave the process with the
// descriptors it found (no leaked sockets, pipes or /dev/vsock opens, and
// nothing closed that the file did not open). Registered as root-level hooks,
// so it wraps each file's own beforeAll/afterAll.
import { afterAll, beforeAll, expect } from 'vitest';
import { fdChanges, openFds } from '../helpers/fds';

// Handles close on a later turn of the loop (uv_close callbacks), and a peer
// may still be finishing its close: give them this long before calling it a leak.
const SETTLE_MS = 3000;

let before: string[] = [];

beforeAll(() => {
  before = openFds();
});

afterAll(async () => {
  let changes = fdChanges(before);
  for (let waited = 0; waited < SETTLE_MS && (changes.opened.length > 0 || changes.closed.length > 0); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    changes = fdChanges(before);
  }
  expect(changes, 'descriptors opened and not closed (or closed but not ours) by this test file').toEqual({ opened: [], closed: [] });
});
