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

/** Our library over real vsock loopback (CID 1): guest only. */
function hvsockTransport({ bufferSize } = {}) {
  return {
    async listen(onConnection) {
      assertInTestGuest('vsock connect');
      const { createServer, connect, Cid } = hvsock();
      const settings = bufferSize ? { bufferSize } : {};
      const server = createServer(settings, onConnection);
      const port = ++nextPort;
      server.listen({ port });
      await once(server, 'listening');
      return netEndpoint(server, () => connect({ cid: Cid.LOCAL, port, ...settings }));
    },
  };
}

/** Our library's socket machinery on AF_UNIX socketpairs (host stand-in, test-only switch). */
function standInTransport() {
  return {
    async listen(onConnection) {
      const { standInPair, standInSocket } = standIn();
      return {
        connect: async () => {
          const [client, server] = standInPair();
          const accepted = standInSocket(server);
          const socket = standInSocket(client);
          onConnection(accepted);
          await once(socket, 'connect');
          return socket;
        },
        close: async () => {},
      };
    },
  };
}

/** Node's own net over a socketpair it adopts itself (new net.Socket({ fd })). */
function netPairTransport() {
  return {
    async listen(onConnection) {
      const { standInPair } = standIn();
      return {
        connect: async () => {
          const [client, server] = standInPair();
          onConnection(new net.Socket({ fd: server, readable: true, writable: true }));
          return new net.Socket({ fd: client, readable: true, writable: true });
        },
        close: async () => {},
      };
    },
  };
}

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
  standin: standInTransport,
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
