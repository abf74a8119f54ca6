// npm node-vsock, the only other Node vsock library, as a transport. Its JS
// wrapper package (`node-vsock`) is not installable here, so this drives its
// prebuilt addon (`node-vsock-linux-x64-gnu`) the way that wrapper does: one
// emit callback per native socket ('_connect', '_data', 'end', '_connection',
// '_error'), blocking writeBuffer(), end() = shutdown(SHUT_RDWR).
// Its design shows in the numbers: a thread per socket reading 8 KiB at a
// time, writes that block the event loop, no backpressure.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { assertInTestGuest } from './guard.mjs';

const require = createRequire(import.meta.url);

class NodeVsockSocket extends EventEmitter {
  constructor(Native, fd) {
    super();
    this.destroyed = false;
    this.connected = fd !== undefined;
    this.native = new Native((error, event, ...args) => this.onNative(error, event, args), fd);
    if (fd !== undefined) this.native.startRecv();
  }

  onNative(error, event, args) {
    if (this.destroyed) return; // its reader thread reports EBADF once we closed
    if (error || event === '_error') {
      const failure = error ?? args[0];
      // Its connect thread retries and, once one attempt succeeded, still
      // reports the failure of an earlier one: not an error of this socket.
      if (this.connected && /Connect socket failed/.test(failure?.message)) return;
      this.emit('error', failure);
    } else if (event === '_connect') {
      this.connected = true;
      this.native.startRecv();
      this.emit('connect');
    } else if (event === '_data') this.emit('data', args[0]);
    else if (event === 'end') this.emit('end');
  }

  connect(cid, port) {
    this.native.connect(cid, port);
  }

  write(buffer) {
    this.native.writeBuffer(buffer); // blocks until the kernel took it all
    return true;
  }

  end() {
    this.native.end();
  }

  // As its own wrapper closes: shutdown first. close() alone leaves the fd
  // alive inside the reader thread's blocking recv(), and the peer never
  // sees the end.
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.native.end();
    } catch {
      // ENOTCONN: the peer is gone already
    }
    this.native.close();
    process.nextTick(() => this.emit('close'));
  }
}

let nextPort = 50000 + Math.floor(Math.random() * 1_000_000);

export function nodeVsockTransport() {
  return {
    async listen(onConnection) {
      assertInTestGuest('vsock connect');
      const { VsockSocket: Native } = require('node-vsock-linux-x64-gnu');
      const port = ++nextPort;
      // Its listener is never closed: its accept thread loops forever on
      // errors once the fd is gone. The worker process exits instead.
      const listener = new Native((error, event, fd) => {
        if (!error && event === '_connection') onConnection(new NodeVsockSocket(Native, fd));
      });
      listener.listen(port);
      return { port, connect: () => dial(port), close: async () => {} };
    },
    dialer: (port) => ({ connect: () => dial(port), close: async () => {} }),
  };
}

function dial(port) {
  assertInTestGuest('vsock connect');
  const { VsockSocket: Native } = require('node-vsock-linux-x64-gnu');
  return new Promise((resolve, reject) => {
    const socket = new NodeVsockSocket(Native);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
    socket.connect(1, port);
  });
}
