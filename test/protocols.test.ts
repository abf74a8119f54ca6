// Node's own protocol stacks over hvsock sockets, in the rig's guest.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from './helpers/guest';
import { hvsock } from './helpers/hvsock';
import { listenOnFreshPort, readAll } from './helpers/streams';

const fixtures = path.join(__dirname, 'fixtures');
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
          resolve({ body: (await readAll(response)).toString(), family: response.headers['x-remote-family'], reused: request.reusedSocket });
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
});
