// Servers over real AF_VSOCK (CID 1, in the rig's guest) whose accept fails
// with EMFILE: the server process (test/fixtures/emfile-server.js) fills its
// descriptor table under a low `ulimit -n` while peers connect. Each kind
// must stay bounded (CPU, 'error' count), close the queued peers, and serve
// new ones once descriptors are free: the poll path (lib/linux/poll/accept-overload.ts),
// the seqpacket server (the same accept loop) and Node's own accept path on
// an adopted vsock listener (libuv's uv__emfile_trick).
import { once } from 'node:events';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from '../../helpers/guest';
import { closed, deadline, startEmfileServer, trackClose, type EmfileChild } from '../../helpers/emfile';
import { hvsock } from '../../helpers/hvsock';
import { freshPort } from '../../helpers/streams';

const CLIENTS = 4;

beforeAll(() => assertInTestGuest());

let child: EmfileChild | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

type Kind = 'poll' | 'handle' | 'seqpacket';

function connectTo(kind: Kind, port: number): Promise<ReturnType<typeof hvsock.connect>> {
  const socket = trackClose(
    hvsock.connect({ cid: hvsock.Cid.LOCAL, port, ...(kind === 'seqpacket' ? { type: 'seqpacket' } : { io: kind }) }),
  );
  socket.on('error', () => undefined);
  return once(socket, 'connect').then(() => socket);
}

describe.each<Kind>(['poll', 'seqpacket', 'handle'])('%s server under EMFILE (real vsock)', (kind) => {
  it('stays bounded, closes the queued peers, serves again once descriptors are free', async () => {
    const port = freshPort();
    const server = startEmfileServer({ env: { EMFILE_PORT: String(port), EMFILE_SERVER: kind, EMFILE_WINDOW_MS: '2000' } });
    child = server.child;
    await server.next('exhausted');
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connectTo(kind, port)));
    for (const socket of clients) socket.resume?.(); // streams: see the end
    const report = await server.next('report');
    console.log(`${kind}: EMFILE window: ${JSON.stringify(report)}`);
    // libuv sheds silently on Node's own path; ours says it once.
    expect(report.errors).toBeLessThanOrEqual(kind === 'handle' ? 0 : 3);
    expect(report.cpuMs as number).toBeLessThan(0.5 * (report.wallMs as number));
    expect(report.accepted).toBe(0);
    await Promise.race([Promise.all(clients.map(closed)), deadline(10_000, 'queued peers not closed by the server')]);
    server.child.stdin.write('free\n');
    await server.next('freed');
    const peer = await connectTo(kind, port);
    const echoed = kind === 'seqpacket' ? once(peer, 'message') : once(peer, 'data');
    if (kind === 'seqpacket') (peer as unknown as { send(b: Buffer): void }).send(Buffer.from('hello'));
    else peer.write('hello');
    const [data] = (await Promise.race([echoed, deadline(10_000, 'no echo after freeing descriptors')])) as [Buffer];
    expect(data.toString()).toBe('hello');
    peer.destroy();
    server.child.stdin.end();
    await once(server.child, 'exit');
    expect(server.child.exitCode).toBe(0);
  });
});
