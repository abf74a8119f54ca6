import { randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import { addressArgument, CliError, connectedPeer, integerOption, type Command } from './common';
import { CLIENT_OPTIONS, CLIENT_USAGE, connectClient } from './client';

// Resolves with exactly `size` bytes from the socket (which must be flowing).
// An echo peer never has more than one message outstanding: anything past
// `limit` bytes is not an echo, and fails the read instead of piling up.
function bytesReader(socket: net.Socket, limit: number): (size: number) => Promise<Buffer> {
  let buffered: Buffer = Buffer.alloc(0);
  let waiting: { size: number; resolve: (data: Buffer) => void; reject: (error: Error) => void } | undefined;
  let failure: Error | undefined;
  const settle = (): void => {
    if (waiting && buffered.length >= waiting.size) {
      const { size, resolve } = waiting;
      waiting = undefined;
      resolve(buffered.subarray(0, size));
      buffered = buffered.subarray(size);
    }
  };
  const fail = (error: Error): void => {
    failure ??= error;
    waiting?.reject(error);
    waiting = undefined;
  };
  socket.on('data', (chunk: Buffer) => {
    if (buffered.length + chunk.length > limit) {
      buffered = Buffer.alloc(0);
      fail(new CliError('ping: the peer sent more than it was sent (is it an echo server?)'));
      socket.destroy();
      return;
    }
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    settle();
  });
  socket.on('end', () => fail(new CliError('ping: the peer closed the connection (is it an echo server?)')));
  socket.on('error', fail);
  return (size) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      waiting = { size, resolve, reject };
      settle();
    });
}

/** Value at quantile q (0..1) of sorted samples, nearest rank. */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

export const pingCommand: Command = {
  name: 'ping',
  summary: 'round-trip times to an echo server on ADDR',
  usage: `usage: hvsock ping ADDR [--count N] [--size BYTES] [-w S] [-r N]

Sends --count messages of --size bytes (default 10 of 64) one after another
to an echo server (hvsock echo ADDR) and prints the round-trip times in
microseconds: min, median, p99, max.

  -c, --count N         messages to send (default 10)
  -s, --size BYTES      bytes per message (default 64, at most 1048576)
${CLIENT_USAGE}
  hvsock ping vsock://2:5000 --count 1000
`,
  options: { count: { type: 'string', short: 'c' }, size: { type: 'string', short: 's' }, ...CLIENT_OPTIONS },
  async run(values, positionals) {
    const address = addressArgument(pingCommand, positionals);
    const count = integerOption(pingCommand, values, 'count', 10, 1, 1_000_000);
    const size = integerOption(pingCommand, values, 'size', 64, 1, 1 << 20);
    const socket = await connectClient(pingCommand, values, address, positionals[0]);
    const read = bytesReader(socket, size);
    const payload = randomBytes(size);
    const samples: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const start = process.hrtime.bigint();
      socket.write(payload);
      const echoed = await read(size);
      samples.push(Number(process.hrtime.bigint() - start) / 1000);
      if (!echoed.equals(payload)) throw new CliError('ping: the reply differs from what was sent (is the peer an echo server?)');
    }
    const peer = connectedPeer(socket, address);
    socket.destroy();
    samples.sort((a, b) => a - b);
    const us = (value: number): string => `${value.toFixed(1)} µs`;
    process.stdout.write(
      `ping ${peer}: ${count} × ${size} bytes, round trip ` +
        `min ${us(samples[0])}, median ${us(quantile(samples, 0.5))}, ` +
        `p99 ${us(quantile(samples, 0.99))}, max ${us(samples[samples.length - 1])}\n`,
    );
    return 0;
  },
};
