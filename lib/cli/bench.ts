import { randomBytes } from 'node:crypto';
import { addressArgument, CliError, connectedPeer, EXIT_USAGE, until, type Command, type Values } from './common';
import { CLIENT_OPTIONS, CLIENT_USAGE, connectClient } from './client';

const MiB = 1024 * 1024;
/** Bytes of the peer's reply kept: a sink's byte count line ("<u64>\n") and some room. */
const REPLY_KEPT = 64;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: MiB, g: 1024 * MiB };

function bytesOption(values: Values): number {
  const text = values.bytes ?? '256M';
  const match = typeof text === 'string' ? /^(\d+)([kmg]?)$/i.exec(text) : null;
  const bytes = match ? Number(match[1]) * UNITS[match[2].toLowerCase()] : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new CliError(
      `bench: --bytes must be a positive size like 1048576, 64M or 1G, got ${JSON.stringify(text)} (see hvsock bench --help)`,
      EXIT_USAGE,
    );
  }
  return bytes;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'throughput to a sink on ADDR (hvsock sink)',
  usage: `usage: hvsock bench ADDR [--bytes SIZE] [-w S] [-r N]

Sends SIZE bytes (default 256M; suffixes K, M, G) to ADDR as fast as the
connection takes them, half-closes and waits for the peer to close, then
prints the throughput. Run hvsock sink ADDR on the other side: it answers
with the byte count it received, which bench checks. A peer that just
reads and closes (socat -u VSOCK-LISTEN:5001 /dev/null) works too. On a
terminal, a progress line goes to stderr.

  -b, --bytes SIZE      bytes to send (default 256M)
${CLIENT_USAGE}
  hvsock bench vsock://2:5001 --bytes 1G
`,
  options: { bytes: { type: 'string', short: 'b' }, ...CLIENT_OPTIONS },
  async run(values, positionals) {
    const address = addressArgument(benchCommand, positionals);
    const total = bytesOption(values);
    const socket = await connectClient(benchCommand, values, address, positionals[0], { allowHalfOpen: true });
    // A sink answers one decimal line; keep that much and only count the
    // rest (an echo server would send everything back).
    let reply: Buffer = Buffer.alloc(0);
    let replyBytes = 0;
    socket.on('data', (chunk: Buffer) => {
      replyBytes += chunk.length;
      if (reply.length < REPLY_KEPT) reply = Buffer.concat([reply, chunk.subarray(0, REPLY_KEPT - reply.length)]);
    });
    const chunk = randomBytes(256 * 1024);
    const start = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - start) / 1e9;
    const rate = (bytes: number): string => `${(bytes / MiB / seconds()).toFixed(1)} MiB/s`;
    let sent = 0;
    const progress = process.stderr.isTTY
      ? setInterval(() => process.stderr.write(`\r${(sent / MiB).toFixed(0)} / ${(total / MiB).toFixed(0)} MiB  ${rate(sent)}   `), 250)
      : undefined;
    try {
      while (sent < total) {
        const size = Math.min(chunk.length, total - sent);
        sent += size;
        if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) await until(socket, 'drain');
      }
      socket.end();
      await until(socket, 'end');
    } finally {
      if (progress) {
        clearInterval(progress);
        process.stderr.write('\n');
      }
    }
    const peer = connectedPeer(socket, address);
    const answer = replyBytes <= REPLY_KEPT ? reply.toString().trim() : '';
    if (replyBytes > REPLY_KEPT || (answer !== '' && answer !== String(total))) {
      throw new CliError(
        /^\d+$/.test(answer)
          ? `bench: the sink received ${answer} bytes, ${total} were sent`
          : `bench: the peer sent back ${replyBytes} bytes: bench expects a sink (hvsock sink ADDR)`,
      );
    }
    process.stdout.write(`bench ${peer}: ${total} bytes in ${seconds().toFixed(3)} s, ${rate(total)}\n`);
    return 0;
  },
};
