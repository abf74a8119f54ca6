// The package under test, loaded by its own name through Node's loader (as a
// user's require('hvsock') would), not through the test runner's transform.
import { createRequire } from 'node:module';

const load = createRequire(__filename);
export const hvsock: typeof import('../../lib/index') = load('hvsock');
