// Which I/O path the guest suite is exercising: `npm run test:poll` runs the
// socket/server/lifecycle/protocols files with HVSOCK_IO=poll, so that every
// connect() and createServer() in them goes through the uv_poll Duplex path
// (lib/linux/poll/stream.ts) instead of Node's adopted handles. Assertions that
// only hold on one path branch on this explicitly.
import type { IoPath } from '../../lib/io-path';

export const ioPath: IoPath = process.env.HVSOCK_IO === 'poll' ? 'poll' : 'handle';
export const onPollPath = ioPath === 'poll';
