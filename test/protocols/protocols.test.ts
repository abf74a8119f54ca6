// Node's own protocol stacks over hvsock sockets, in the rig's guest.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from '../helpers/guest';
import { hvsock } from '../helpers/hvsock';
import { freshPort, listenOnFreshPort, readAll } from '../helpers/streams';

const fixtures = path.join(__dirname, '..', 'fixtures');
const key = readFileSync(path.join(fixtures, 'tls-key.pem'));
const cert = readFileSync(path.join(fixtures, 'tls-cert.pem'));

beforeAll(() => assertInTestGuest());

describe('protocols over hvsock', () => {
  it('serves http.createServer() over an hvsock server, with keep-alive through an Agent', async () => {
    const web = http.createServer((request, response) => {
      response.setHeader('x-remote-family', String(request.socket.remoteFamily));
      response.end(`hello ${request.url}`);
    });
    const listener = hvsock.createServer((socket) => web.emit('connection', socket));
    const port = await listenOnFreshPort(listener);
    let connections = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    (agent as unknown as { createConnection: unknown }).createConnection = () => {
      connections += 1;
      return hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
    };
    const get = (url: string) =>
      new Promise<{ body: string; family: string | string[] | undefined; reused: boolean }>((resolve, reject) => {
        const request = http.get({ agent, host: 'vsock', path: url }, async (response) => {
          resolve({
            body: (await readAll(response)).toString(),
            family: response.headers['x-remote-family'],
            reused: request.reusedSocket,
          });
        });
        request.on('error', reject);
      });
    const first = await get('/one');
    const second = await get('/two');
    expect(first).toEqual({ body: 'hello /one', family: 'vsock', reused: false });
    expect(second).toEqual({ body: 'hello /two', family: 'vsock', reused: true });
    expect(connections).toBe(1);
    agent.destroy();
    listener.close();
    web.close();
  });

  it('runs a TLS session on top, certificate verified', async () => {
    const secure = tls.createServer({ key, cert }, (socket) => socket.pipe(socket));
    const listener = hvsock.createServer((socket) => secure.emit('connection', socket));
    const port = await listenOnFreshPort(listener);
    const raw = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
    const client = tls.connect({ socket: raw, ca: cert, servername: 'hvsock-test' });
    await once(client, 'secureConnect');
    expect(client.authorized).toBe(true);
    expect(client.getProtocol()).toBe('TLSv1.3');
    client.end('over tls over vsock');
    expect((await readAll(client)).toString()).toBe('over tls over vsock');
    listener.close();
  });

  it('reports vsock addresses through TLS on both ends: vsockAddressOf() under listenOn(tls server) and tls.connect', async () => {
    const port = freshPort();
    let serverSide: ReturnType<typeof hvsock.vsockAddressOf>;
    const secure = tls.createServer({ key, cert }, (socket) => {
      serverSide = hvsock.vsockAddressOf(socket);
      socket.end('bye');
    });
    hvsock.listenOn(secure, port);
    await once(secure, 'listening');
    const client = tls.connect({ socket: hvsock.connect({ cid: hvsock.Cid.LOCAL, port }), ca: cert, servername: 'hvsock-test' });
    await once(client, 'secureConnect');
    // What the TLS socket itself says: nothing vsock (why the helper exists).
    expect((client as unknown as { remoteCid?: number }).remoteCid).toBeUndefined();
    const clientSide = hvsock.vsockAddressOf(client);
    expect((await readAll(client)).toString()).toBe('bye');
    expect(clientSide?.remote).toMatchObject({ family: 'vsock', cid: hvsock.Cid.LOCAL, port, serviceId: hvsock.serviceIdFromPort(port) });
    expect(clientSide?.local).toMatchObject({ family: 'vsock', cid: hvsock.Cid.ANY });
    expect(serverSide?.local).toMatchObject({ family: 'vsock', cid: hvsock.Cid.LOCAL, port });
    // The server's peer is this client's own port: the two ends agree.
    expect(serverSide?.remote).toMatchObject({ family: 'vsock', cid: hvsock.Cid.LOCAL, port: clientSide?.local?.port });
    expect(serverSide?.remote?.vmId).toBe(hvsock.VmId.LOOPBACK);
    secure.close();
  });

  it('vsockAddressOf() is undefined for sockets that are not vsock and rejects non-objects', () => {
    const tcp = new net.Socket();
    expect(hvsock.vsockAddressOf(tcp)).toBeUndefined();
    expect(hvsock.vsockAddressOf(new tls.TLSSocket(tcp))).toBeUndefined();
    expect(() => hvsock.vsockAddressOf(undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
