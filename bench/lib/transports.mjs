// The transports a scenario runs over, behind one shape:
//   const endpoint = await transport.listen(onConnection); // server side
//   const socket = await endpoint.connect();                // one client
//   await endpoint.close();
// Sockets are net.Socket-like: write/end/destroy, 'data', 'drain', 'close'.
// For the peer-process cases the two ends live in two processes: the server
// side's endpoint says its `port`, and the client side dials it through
//   const dialer = transport.dialer(port); await dialer.connect(); await dialer.close();
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertInTestGuest } from './guard.mjs';
import { nodeVsockTransport } from './node-vsock.mjs';

const require = createRequire(import.meta.url);
const hvsock = () => require('hvsock');
const standIn = () => require('../../dist/testing/standin.js');

// Fresh ports per listen so repeated runs never meet a lingering one.
let nextPort = 30000 + Math.floor(Math.random() * 1_000_000);

async function connected(socket) {
  await once(socket, 'connect');
  return socket;
}

/** `dial(port)` returns a connecting socket; the endpoint of a listening net.Server-like `server`. */
function netEndpoint(server, port, dial, stop = () => {}) {
  return {
    port,
    connect: () => connected(dial(port)),
    close: () => new Promise((resolve) => server.close(() => resolve())).finally(stop),
  };
}

const simpleDialer = (dial) => (port) => ({ connect: () => connected(dial(port)), close: async () => {} });

/** Our library over real vsock loopback (CID 1): guest only. `io` picks the I/O path. */
function hvsockTransport({ bufferSize, io } = {}) {
  const settings = { ...(bufferSize ? { bufferSize } : {}), ...(io ? { io } : {}) };
  const dial = (port) => {
    assertInTestGuest('vsock connect');
    const { connect, Cid } = hvsock();
    return connect({ cid: Cid.LOCAL, port, ...settings });
  };
  return {
    async listen(onConnection) {
      assertInTestGuest('vsock connect');
      const server = hvsock().createServer(settings, onConnection);
      const port = ++nextPort;
      server.listen({ port });
      await once(server, 'listening');
      return netEndpoint(server, port, dial);
    },
    dialer: simpleDialer(dial),
  };
}

/**
 * A transport over AF_UNIX socketpairs from the addon (host only): `wrap`
 * turns each end's descriptor into a socket; the client end is awaited until
 * it says 'connect' when `waitConnect` is set.
 */
function socketpairTransport(wrap, { waitConnect = false } = {}) {
  return () => ({
    async listen(onConnection) {
      const { standInPair } = standIn();
      return {
        connect: async () => {
          const [client, server] = standInPair();
          onConnection(wrap(server));
          const socket = wrap(client);
          if (waitConnect) await once(socket, 'connect');
          return socket;
        },
        close: async () => {},
      };
    },
  });
}

// Our socket machinery (adopted Pipe handle + VsockSocket, net's own connect
// completion), our second I/O path (PollSocket: uv_poll + read/writev), and
// Node's own net adopting the descriptor itself (new net.Socket({ fd })).
const standInTransport = socketpairTransport((fd) => standIn().standInSocket(fd), { waitConnect: true });
const standInPollTransport = socketpairTransport((fd) => standIn().standInPollSocket(fd));
const netPairTransport = socketpairTransport((fd) => new net.Socket({ fd, readable: true, writable: true }));

function netTcpTransport() {
  const dial = (port) => net.connect({ host: '127.0.0.1', port });
  return {
    async listen(onConnection) {
      const server = net.createServer(onConnection);
      server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 });
      await once(server, 'listening');
      return netEndpoint(server, server.address().port, dial);
    },
    dialer: simpleDialer(dial),
  };
}

const unixPath = () => join(tmpdir(), `hvsock-bench-${process.pid}-${++nextPort}.sock`);

async function netUnixServer(onConnection) {
  const path = unixPath();
  const server = net.createServer(onConnection);
  server.listen({ path, backlog: 4096 });
  await once(server, 'listening');
  return { server, path };
}

function netUnixTransport() {
  return {
    async listen(onConnection) {
      const { server, path } = await netUnixServer(onConnection);
      return netEndpoint(server, path, (where) => net.connect({ path: where }));
    },
  };
}

/** Starts socat with `addresses`; resolves with the process once it listens (its -d -d log says so). */
async function socat(...addresses) {
  const child = spawn('socat', ['-d', '-d', ...addresses], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      if (log.length < 65536) log += chunk;
      if (/listening on/.test(log)) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`socat ${addresses.join(' ')} exited (${code}): ${log.trim()}`)));
  });
  return child;
}

/**
 * The bridge alternative: Node's net on unix sockets at both ends, socat
 * carrying each over vsock (`VSOCK-LISTEN:P,fork UNIX-CONNECT:...` in front
 * of the server, `UNIX-LISTEN:...,fork VSOCK-CONNECT:1:P` for the client):
 * what a Node program without a vsock library runs.
 */
function socatNetTransport() {
  return {
    async listen(onConnection) {
      assertInTestGuest('vsock connect');
      const { server, path } = await netUnixServer(onConnection);
      const port = ++nextPort;
      const bridge = await socat(`VSOCK-LISTEN:${port},fork,reuseaddr`, `UNIX-CONNECT:${path}`);
      return netEndpoint(
        server,
        port,
        (where) => net.connect({ path: where }),
        () => bridge.kill(),
      );
    },
    dialer(port) {
      assertInTestGuest('vsock connect');
      const path = unixPath();
      const bridge = socat(`UNIX-LISTEN:${path},fork`, `VSOCK-CONNECT:1:${port}`);
      bridge.catch(() => {}); // reported by connect()
      return {
        connect: async () => {
          await bridge;
          return connected(net.connect({ path }));
        },
        close: async () => (await bridge).kill(),
      };
    },
  };
}

const factories = {
  hvsock: hvsockTransport,
  'hvsock-poll': (options) => hvsockTransport({ ...options, io: 'poll' }),
  standin: standInTransport,
  'standin-poll': standInPollTransport,
  'net-pair': netPairTransport,
  'net-tcp': netTcpTransport,
  'net-unix': netUnixTransport,
  'node-vsock': nodeVsockTransport,
  'socat-net': socatNetTransport,
};

export function transport(name, options) {
  const make = factories[name];
  if (!make) throw new Error(`unknown transport ${name}`);
  return make(options);
}
