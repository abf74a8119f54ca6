// The protocol helpers (lib/protocols/index.ts) and the wider ecosystem over real
// AF_VSOCK in the rig's guest: http/https agents, listenOn(), undici, HTTP/2
// and WebSocket (ws). One small exchange each: the guest runs under TCG.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Agent as UndiciAgent, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { assertInTestGuest } from '../helpers/guest';
import { hvsock } from '../helpers/hvsock';
import { freshPort, listenOnFreshPort, readAll } from '../helpers/streams';

const fixtures = path.join(__dirname, '..', 'fixtures');
const key = readFileSync(path.join(fixtures, 'tls-key.pem'));
const cert = readFileSync(path.join(fixtures, 'tls-cert.pem'));

beforeAll(() => assertInTestGuest());

// Answers with what it saw of the connection, so tests can check both ends.
// vsockAddressOf() sees through the TLSSocket that https hands the handler.
function describeRequest(request: http.IncomingMessage, response: http.ServerResponse): void {
  const remote = hvsock.vsockAddressOf(request.socket)?.remote;
  response.end(JSON.stringify({ url: request.url, family: remote?.family, cid: remote?.cid }));
}

function get(agent: http.Agent, url: string, module: typeof http | typeof https = http) {
  return new Promise<{ body: unknown; reused: boolean; resumed?: boolean }>((resolve, reject) => {
    const request = module.get({ agent, host: 'hvsock-test', path: url }, async (response) => {
      const resumed = (response.socket as Partial<TLSSocket>).isSessionReused?.();
      resolve({ body: JSON.parse((await readAll(response)).toString()), reused: request.reusedSocket, resumed });
    });
    request.on('error', reject);
  });
}

async function listening<T extends import('node:net').Server>(server: T, address: string | number): Promise<T> {
  hvsock.listenOn(server, address);
  await once(server, 'listening');
  return server;
}

describe('listenOn() + createHttpAgent()', () => {
  it('serves http on a vsock URI and reuses one keep-alive connection', async () => {
    const port = freshPort();
    const web = await listening(http.createServer(describeRequest), `vsock://any:${port}`);
    expect(web.address()).toMatchObject({ family: 'vsock', cid: hvsock.Cid.ANY, port });
    const agent = hvsock.createHttpAgent(`vsock://local:${port}`, { keepAlive: true, maxSockets: 1 });
    const first = await get(agent, '/one');
    const second = await get(agent, '/two');
    expect(first).toMatchObject({ body: { url: '/one', family: 'vsock', cid: hvsock.Cid.LOCAL }, reused: false });
    expect(second).toMatchObject({ body: { url: '/two', family: 'vsock', cid: hvsock.Cid.LOCAL }, reused: true });
    agent.destroy();
    await new Promise((resolve) => web.close(resolve));
    expect(web.address()).toBeNull();
  });

  it('reports bind failures as error and refuses a second listen', async () => {
    const first = hvsock.createServer();
    const port = await listenOnFreshPort(first);
    const web = http.createServer();
    hvsock.listenOn(web, { port });
    const [error] = await once(web, 'error');
    expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', port });
    expect(web.listening).toBe(false);
    await listening(web, freshPort());
    expect(() => hvsock.listenOn(web, freshPort())).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
    expect(() => hvsock.listenOn({} as never, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    web.close();
    first.close();
  });
});

describe('createHttpsAgent()', () => {
  it('runs https with a verified certificate and resumes the TLS session', async () => {
    const port = freshPort();
    const secure = await listening(https.createServer({ key, cert }, describeRequest), port);
    const agent = hvsock.createHttpsAgent({ cid: hvsock.Cid.LOCAL, port }, { ca: cert, maxSockets: 1 });
    // No keep-alive: the second request makes a second connection, which resumes the session.
    const peer = { family: 'vsock', cid: hvsock.Cid.LOCAL };
    expect(await get(agent, '/a', https)).toMatchObject({ body: { url: '/a', ...peer }, reused: false, resumed: false });
    expect(await get(agent, '/b', https)).toMatchObject({ body: { url: '/b', ...peer }, reused: false, resumed: true });
    agent.destroy();
    secure.close();
  });

  it('fails a request with the connect error when nothing listens', async () => {
    const agent = hvsock.createHttpsAgent(`vsock://1:${freshPort()}`, { ca: cert });
    await expect(get(agent, '/', https)).rejects.toMatchObject({ code: 'ECONNRESET', syscall: 'connect' });
  });

  it('checks the address when it is made', () => {
    expect(() => hvsock.createHttpAgent('vsock://1')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => hvsock.createHttpsAgent({ cid: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => hvsock.createUndiciConnector({ cid: 1, port: 1, connectTimeout: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });
});

describe('undici with createUndiciConnector()', () => {
  it('fetches over http and requests over https', async () => {
    const plainPort = freshPort();
    const securePort = freshPort();
    const web = await listening(http.createServer(describeRequest), plainPort);
    const secure = await listening(https.createServer({ key, cert }, describeRequest), securePort);
    const plain = new UndiciAgent({ connect: hvsock.createUndiciConnector(`vsock://1:${plainPort}`) });
    const response = await undiciFetch('http://vsock/fetched', { dispatcher: plain });
    expect(await response.json()).toEqual({ url: '/fetched', family: 'vsock', cid: 1 });
    const tls = new UndiciAgent({ connect: hvsock.createUndiciConnector(`vsock://1:${securePort}`, { ca: cert }) });
    const { statusCode, body } = await undiciRequest('https://hvsock-test/requested', { dispatcher: tls });
    expect(statusCode).toBe(200);
    expect(await body.json()).toMatchObject({ url: '/requested' });
    await Promise.all([plain.close(), tls.close()]);
    web.close();
    secure.close();
  });

  it('passes connect errors to undici', async () => {
    const connector = hvsock.createUndiciConnector(`vsock://1:${freshPort()}`);
    const [error, socket] = await new Promise<unknown[]>((resolve) =>
      connector({ hostname: 'vsock', protocol: 'http:' }, (...args) => resolve(args)),
    );
    expect(error).toMatchObject({ code: 'ECONNRESET', syscall: 'connect' });
    expect(socket).toBeNull();
  });
});

describe('HTTP/2 and WebSocket', () => {
  it('runs an http2 session through createConnection', async () => {
    const h2 = http2.createServer((request, response) => response.end(`h2 ${request.url}`));
    const listener = hvsock.createServer((socket) => h2.emit('connection', socket));
    const port = await listenOnFreshPort(listener);
    const session = http2.connect('http://vsock', { createConnection: () => hvsock.connect({ cid: 1, port }) });
    const stream = session.request({ ':path': '/stream' });
    const [headers] = await once(stream, 'response');
    expect(headers[':status']).toBe(200);
    expect((await readAll(stream)).toString()).toBe('h2 /stream');
    session.close();
    listener.close();
    h2.close();
  });

  it('echoes WebSocket messages (ws) through an http server fed by hvsock', async () => {
    const web = http.createServer();
    const wss = new WebSocketServer({ server: web });
    wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    const listener = hvsock.createServer((socket) => web.emit('connection', socket));
    const port = await listenOnFreshPort(listener);
    const client = new WebSocket('ws://vsock/', { createConnection: () => hvsock.connect(`vsock://1:${port}`) });
    await once(client, 'open');
    client.send('over vsock');
    const [reply] = await once(client, 'message');
    expect(reply.toString()).toBe('over vsock');
    client.close();
    await once(client, 'close');
    wss.close();
    listener.close();
  });
});
