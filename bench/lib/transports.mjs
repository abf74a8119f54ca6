// The transports a scenario runs over, behind one shape:
//   const endpoint = await transport.listen(onConnection); // server side
//   const socket = await endpoint.connect();                // one client
//   await endpoint.close();
// Sockets are net.Socket-like: write/end/destroy, 'data', 'drain', 'close'.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertInTestGuest } from './guard.mjs';
import { nodeVsockTransport } from './node-vsock.mjs';

const require = createRequire(import.meta.url);
const hvsock = () => require('hvsock');
const standIn = () => require('../../dist/standin.js');

// Fresh ports per listen so repeated runs never meet a lingering one.
let nextPort = 30000 + Math.floor(Math.random() * 1_000_000);

function netEndpoint(server, dial) {
  return {
    connect: async () => {
      const socket = dial();
      await once(socket, 'connect');
      return socket;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Our library over real vsock loopback (CID 1): guest only. `io` picks the I/O path. */
function hvsockTransport({ bufferSize, io } = {}) {
  return {
    async listen(onConnection) {
      assertInTestGuest('vsock connect');
      const { createServer, connect, Cid } = hvsock();
      const settings = { ...(bufferSize ? { bufferSize } : {}), ...(io ? { io } : {}) };
      const server = createServer(settings, onConnection);
      const port = ++nextPort;
      server.listen({ port });
      await once(server, 'listening');
      return netEndpoint(server, () => connect({ cid: Cid.LOCAL, port, ...settings }));
    },
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
  return {
    async listen(onConnection) {
      const server = net.createServer(onConnection);
      server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 });
      await once(server, 'listening');
      const { port } = server.address();
      return netEndpoint(server, () => net.connect({ host: '127.0.0.1', port }));
    },
  };
}

function netUnixTransport() {
  return {
    async listen(onConnection) {
      const path = join(tmpdir(), `hvsock-bench-${process.pid}-${++nextPort}.sock`);
      const server = net.createServer(onConnection);
      server.listen({ path, backlog: 4096 });
      await once(server, 'listening');
      return netEndpoint(server, () => net.connect({ path }));
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
};

export function transport(name, options) {
  const make = factories[name];
  if (!make) throw new Error(`unknown transport ${name}`);
  return make(options);
}
