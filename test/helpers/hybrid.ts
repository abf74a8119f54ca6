// Hybrid vsock test plumbing: a temp dir, the VMM-side muxer fixture
// (test/fixtures/hybrid-muxer.js), and stand-in guests served on Unix
// sockets (host tests) — the guest test file plugs in real AF_VSOCK instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';

export interface GuestService {
  port?: number;
  guid?: string;
}
export interface GuestBridge {
  connect(service: GuestService): Duplex;
}
export interface MuxerStats {
  accepted: number;
  ok: number;
  refused: number;
  timeouts: number;
  bad: number;
  dropped: number;
  earlyBytes: number;
  commands: string[];
}
export type Variant = 'firecracker' | 'cloud-hypervisor' | 'vhost-device-vsock' | 'openvmm';
export interface Muxer {
  path: string;
  stats: MuxerStats;
  server: net.Server;
  connectHost(service: GuestService, guestStream: Duplex): net.Socket;
  reset(): void;
  close(): Promise<void>;
}
interface MuxerModule {
  createMuxer(options: {
    path: string;
    variant?: Variant;
    guest: GuestBridge;
    guestTimeout?: number;
    maxConnections?: number;
  }): Promise<Muxer>;
  parseCommand(line: string, config: object): GuestService | undefined;
  VARIANTS: Record<Variant, object>;
}
export const muxerModule: MuxerModule = createRequire(__filename)('../fixtures/hybrid-muxer.js');

/** A fresh temp dir (Unix socket paths must stay short: keep it near /tmp). */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hyb-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Stand-in guests: guest port P is a Unix server at DIR/g-P (started with
 * serve()), ports in `silent` never answer the VMM, anything else refuses.
 */
export function unixGuests(dir: string) {
  const servers: net.Server[] = [];
  const silent = new Set<number | string>();
  const bridge: GuestBridge = {
    connect({ port, guid }) {
      if (silent.has(port ?? (guid as string))) return new PassThrough();
      return net.createConnection({ path: path.join(dir, `g-${port ?? guid}`), allowHalfOpen: true });
    },
  };
  return {
    bridge,
    silent,
    async serve(
      service: number | string,
      onConnection: (socket: net.Socket) => void,
      options: net.ServerOpts = { allowHalfOpen: true },
    ): Promise<net.Server> {
      const server = net.createServer(options, (socket) => {
        socket.on('error', () => undefined); // a VMM that drops both directions makes the guest's writes fail
        onConnection(socket);
      });
      await new Promise<void>((resolve) => server.listen(path.join(dir, `g-${service}`), resolve));
      servers.push(server);
      return server;
    },
    async close(): Promise<void> {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
