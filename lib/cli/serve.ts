// The long-running servers (echo, sink): listen, handle each connection,
// stop on SIGINT/SIGTERM with exit code 0. Bounded by default: at most
// --max-connections at once (more are closed on arrival, as net does past
// server.maxConnections) and --idle-timeout seconds without traffic per
// connection, so a forgotten or hostile peer cannot hold the server's
// descriptors and memory for ever.
import type * as net from 'node:net';
import { createServer, type ParsedAddress } from '../index';
import { detail, integerOption, note, peerName, showAddress, until, type Command, type Options, type Values } from './common';

export const DEFAULT_MAX_CONNECTIONS = 256;
export const DEFAULT_IDLE_TIMEOUT_S = 300;

/** The limit options echo and sink share. */
export const SERVE_OPTIONS: Options = {
  'max-connections': { type: 'string' },
  'idle-timeout': { type: 'string' },
};

/** Usage lines for SERVE_OPTIONS. */
export const SERVE_USAGE = `
  --max-connections N   connections served at once; more are closed on
                        arrival (default ${DEFAULT_MAX_CONNECTIONS})
  --idle-timeout S      close a connection after S seconds without traffic
                        (default ${DEFAULT_IDLE_TIMEOUT_S}; 0: never)
`;

export interface ServeLimits {
  maxConnections: number;
  idleTimeoutMs: number;
}

/** The limits from the command line (usage errors for bad values). */
export function serveLimits(command: Command, values: Values): ServeLimits {
  return {
    maxConnections: integerOption(command, values, 'max-connections', DEFAULT_MAX_CONNECTIONS, 1, 1_000_000),
    idleTimeoutMs: integerOption(command, values, 'idle-timeout', DEFAULT_IDLE_TIMEOUT_S, 0, 86_400) * 1000,
  };
}

export async function serveUntilSignal(
  name: string,
  address: ParsedAddress,
  limits: ServeLimits,
  handle: (socket: net.Socket, peer: string) => void,
  listeningLine = `${name} listening on`,
): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const peer = peerName(socket, address);
    detail(`${name}: connection from ${peer}`);
    socket.once('close', () => detail(`${name}: ${peer} closed`));
    // One peer's failure (EPIPE, reset) must not end the server.
    socket.on('error', (error) => note(`${name}: ${peer}: ${error.message}`));
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs, () => {
        note(`${name}: ${peer}: idle for ${limits.idleTimeoutMs / 1000} s, closed`);
        socket.destroy();
      });
    }
    handle(socket, peer);
  });
  server.maxConnections = limits.maxConnections;
  server.listen(address);
  await until(server, 'listening');
  note(`${listeningLine} ${showAddress(server.address()!)}`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return 0;
}
