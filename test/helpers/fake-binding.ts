// A scripted native binding for fault tests: real AF_UNIX socketpair
// descriptors and the real uv_poll watcher, with the kernel's *answers*
// (connect status, SO_ERROR, setsockopt, bind) scripted. It runs the library's
// whole connect/listen path on any machine without a single vsock packet.
import { createRequire } from 'node:module';
import * as net from 'node:net';
import type { NativeBinding, NativePoller, NativePollerConstructor } from '../../lib/binding';

const load = createRequire(__filename);
// The same module instance the package uses (require('hvsock') resolves here too).
const bindingModule: typeof import('../../lib/binding') = load('../../dist/binding.js');

export interface Script {
  /** socket(): a negative status instead of a descriptor. */
  socket?: number;
  /** connect(): 0, -115 (EINPROGRESS) or a failure. Default -115. */
  connect?: number;
  /**
   * SO_ERROR read once the watcher reports writability. Default 0. A list
   * answers successive connect attempts in turn (the last one repeats).
   */
  soError?: number | number[];
  setOption?: number;
  bind?: number;
  /**
   * A listener stand-in: listen() answers 0 (a socketpair end can't really
   * listen) and getsockname() reports CID ANY, port 5000, so a server's
   * listen path runs; the watcher sees the far end's writes as "readable".
   */
  listener?: boolean;
  /** accept(): what the library sees instead of the real call (default: the real one). */
  accept?(real: NativeBinding['accept'], fd: number, peer: Uint8Array): number;
  /** Wraps every watcher's start(events): e.g. a failure status instead of the real call. */
  pollStart?(real: (events: number) => number, events: number): number;
  /**
   * The poll path's data calls, wrapped: each gets the real call (on the
   * socketpair) and decides what the library sees (EAGAIN storms, short
   * writes, flags). Unset: the real call.
   */
  io?: {
    read?(real: NonNullable<NativeBinding['read']>, fd: number, buffer: Uint8Array): number;
    writev?(real: NonNullable<NativeBinding['writev']>, fd: number, buffers: readonly Uint8Array[]): number;
    recvmsg?(real: NonNullable<NativeBinding['recvmsg']>, fd: number, buffer: Uint8Array, flags: Int32Array): number;
  };
}

export interface FakeKernel {
  /** The far end of the last socketpair handed out as a "vsock" socket. */
  peerFd(): number;
  /** As peerFd(), and the caller now owns (closes) it: restore() won't. */
  takePeerFd(): number;
  /**
   * Resolves true once the far end of every socketpair handed out sees EOF
   * (or a reset): the library closed its descriptor. False after 2 s.
   */
  allClosed(): Promise<boolean>;
  calls: string[];
}

// Kernel defaults of the vsock buffer options (size, min, max).
const OPTION_DEFAULTS = [262144, 128, 262144];

function seesEof(fd: number): Promise<boolean> {
  const peer = new net.Socket({ fd, readable: true, writable: false });
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), 2000);
    function done(closed: boolean): void {
      clearTimeout(timer);
      peer.destroy();
      resolve(closed);
    }
    peer.on('data', () => undefined);
    peer.once('end', () => done(true));
    peer.once('error', () => done(true));
  });
}

/** The real watcher class with start() going through `start`. */
function wrapPoller(Real: NativePollerConstructor, start: NonNullable<Script['pollStart']>): NativePollerConstructor {
  return class implements NativePoller {
    private readonly inner: NativePoller;
    constructor(fd: number, onEvent: (status: number, events: number) => void, ownsFd?: boolean) {
      this.inner = new Real(fd, onEvent, ownsFd);
    }
    start(events: number): number {
      return start((bits) => this.inner.start(bits), events);
    }
    stop(): number {
      return this.inner.stop();
    }
    close(): void {
      this.inner.close();
    }
    release(): void {
      this.inner.release();
    }
    ref(): void {
      this.inner.ref();
    }
    unref(): void {
      this.inner.unref();
    }
  };
}

/** Installs a scripted binding; returns the fake kernel and an uninstall function. */
export function installFakeBinding(script: Script): { kernel: FakeKernel; restore: () => void } {
  bindingModule.replaceBindingForTesting();
  const real = bindingModule.binding();
  const peers: number[] = [];
  const calls: string[] = [];
  const fake: NativeBinding = {
    ...real,
    socket(type) {
      calls.push(`socket(${type})`);
      if (script.socket !== undefined) return script.socket;
      const pair = real.standInPair!();
      if (!Array.isArray(pair)) return pair;
      peers.push(pair[1]);
      return pair[0];
    },
    connect(fd) {
      calls.push(`connect(${fd})`);
      return script.connect ?? -115;
    },
    takeError(fd) {
      calls.push(`takeError(${fd})`);
      const { soError = 0 } = script;
      if (!Array.isArray(soError)) return soError;
      return soError.length > 1 ? (soError.shift() as number) : soError[0];
    },
    setOption(_fd, name, value) {
      calls.push(`setOption(${name}, ${value})`);
      return script.setOption ?? 0;
    },
    getOption(_fd, name) {
      return OPTION_DEFAULTS[name] ?? -92;
    },
    bind(fd) {
      calls.push(`bind(${fd})`);
      return script.bind ?? 0;
    },
    accept(fd, peer) {
      calls.push(`accept(${fd})`);
      return script.accept ? script.accept(real.accept, fd, peer) : real.accept(fd, peer);
    },
    listen(fd, backlog) {
      calls.push(`listen(${fd})`);
      return script.listener ? 0 : real.listen(fd, backlog);
    },
    getsockname(fd, out) {
      if (!script.listener) return real.getsockname(fd, out);
      out.fill(0);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      view.setUint32(0, 0xffffffff, true); // CID ANY
      view.setUint32(4, 5000, true);
      return 0;
    },
    Poller: script.pollStart ? wrapPoller(real.Poller, script.pollStart) : real.Poller,
    read: (fd, buffer) => (script.io?.read ? script.io.read(real.read!, fd, buffer) : real.read!(fd, buffer)),
    writev: (fd, buffers) => (script.io?.writev ? script.io.writev(real.writev!, fd, buffers) : real.writev!(fd, buffers)),
    recvmsg: (fd, buffer, flags) =>
      script.io?.recvmsg ? script.io.recvmsg(real.recvmsg!, fd, buffer, flags) : real.recvmsg!(fd, buffer, flags),
  };
  bindingModule.replaceBindingForTesting(fake);
  const restore = (): void => {
    for (const fd of peers.splice(0)) real.close(fd);
    bindingModule.replaceBindingForTesting();
  };
  const allClosed = async (): Promise<boolean> => {
    const results = await Promise.all(peers.splice(0).map(seesEof)); // the net.Sockets own the fds now
    return results.every(Boolean);
  };
  const peerFd = (): number => peers[peers.length - 1];
  const takePeerFd = (): number => peers.pop() as number;
  return { kernel: { peerFd, takePeerFd, allClosed, calls }, restore };
}

/**
 * For a test file: returns script(), which installs a scripted binding that
 * the next afterEach() removes again.
 */
export function useScriptedKernel(afterEachHook: (fn: () => void) => void): (script: Script) => FakeKernel {
  let restore: (() => void) | undefined;
  afterEachHook(() => {
    restore?.();
    restore = undefined;
  });
  return (script) => {
    const installed = installFakeBinding(script);
    restore = installed.restore;
    return installed.kernel;
  };
}
