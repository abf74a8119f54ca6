// Stream helpers for tests: ports, listening, checksummed transfers.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type * as net from 'node:net';
import { hvsock } from './hvsock';

// A random base per test file so that files running one after another in
// the same guest never collide on a port still in TIME_WAIT-like states.
let nextPort = 20000 + Math.floor(Math.random() * 1_000_000);

/** A vsock port no other test in this process uses. */
export function freshPort(): number {
  nextPort += 1;
  return nextPort;
}

/** Starts `server` on a fresh port on CID ANY and resolves once listening. */
export async function listenOnFreshPort(server: ReturnType<typeof hvsock.createServer>): Promise<number> {
  const port = freshPort();
  server.listen({ port });
  await once(server, 'listening');
  return port;
}

/** What connect() returns on either I/O path (a VsockSocket or a PollSocket). */
export type VsockSocket = import('../../lib/index').HvsockSocket;

/** Connects to CID 1 (loopback) and resolves once connected. */
export async function connectLoopback(port: number, options: Record<string, unknown> = {}): Promise<VsockSocket> {
  const socket = hvsock.connect({ cid: hvsock.Cid.LOCAL, port, ...options });
  await once(socket, 'connect');
  return socket;
}

// Event-based on purpose: `for await` destroys the stream when it ends,
// which would hide half-open behaviour (a socket writable after 'end').
function consume(stream: NodeJS.ReadableStream, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', onChunk);
    stream.once('end', resolve);
    stream.once('error', reject);
  });
}

/** Reads a stream to its end; resolves with the byte count and SHA-256. */
export async function digestUntilEnd(stream: NodeJS.ReadableStream): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await consume(stream, (chunk) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  return { bytes, sha256: hash.digest('hex') };
}

/** Collects a stream to its end (the stream stays usable for writing). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await consume(stream, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks);
}

export interface SendResult {
  bytes: number;
  sha256: string;
  /** Most bytes ever queued in the socket's writable buffer: shows backpressure was honoured. */
  maxQueued: number;
}

/**
 * Writes `total` bytes of distinct chunks (a random block rotated differently
 * per chunk, so loss or reordering changes the digest), honouring
 * backpressure, then ends the stream.
 */
export async function sendPattern(socket: net.Socket, total: number, chunkSize = 64 * 1024): Promise<SendResult> {
  const { randomBytes } = await import('node:crypto');
  const block = randomBytes(chunkSize);
  const hash = createHash('sha256');
  let sent = 0;
  let index = 0;
  let maxQueued = 0;
  while (sent < total) {
    const size = Math.min(chunkSize, total - sent);
    const shift = (index * 7919) % chunkSize;
    const chunk = Buffer.concat([block.subarray(shift), block.subarray(0, shift)]).subarray(0, size);
    hash.update(chunk);
    sent += size;
    index += 1;
    const more = socket.write(chunk);
    maxQueued = Math.max(maxQueued, socket.writableLength);
    if (!more) await once(socket, 'drain');
  }
  socket.end();
  return { bytes: sent, sha256: hash.digest('hex'), maxQueued };
}
