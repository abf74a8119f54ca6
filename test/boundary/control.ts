// The host end of the control connection to the inner guest's Node process
// (test/fixtures/boundary/guest.js): JSON lines, one request and one reply
// per id. Every wait is bounded and fails with L2's console.
import type { Socket } from 'node:net';
import { within, type L2 } from './l2';

export interface Reply {
  id: number;
  ok: boolean;
  error?: { code?: string; errno?: number; syscall?: string; message: string };
  [key: string]: unknown;
}

export class Control {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private buffered = '';
  readonly hello: Promise<Record<string, unknown>>;

  constructor(
    readonly socket: Socket,
    private readonly l2: L2,
  ) {
    let gotHello: (hello: Record<string, unknown>) => void = () => undefined;
    this.hello = new Promise((resolve) => (gotHello = resolve));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const message = JSON.parse(this.buffered.slice(0, nl)) as Reply & { hello?: boolean };
        this.buffered = this.buffered.slice(nl + 1);
        if (message.hello) gotHello(message);
        else this.waiting.get(message.id)?.(message);
      }
    });
  }

  /** Runs `op` in the guest; rejects on its error or after `ms`. */
  async call(op: string, args: Record<string, unknown>, ms: number): Promise<Reply> {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.socket.write(JSON.stringify({ id, op, ...args }) + '\n');
    const r = await within(reply, ms, `the guest's reply to ${op}`, this.l2);
    this.waiting.delete(id);
    if (!r.ok) throw Object.assign(new Error(`guest ${op} failed: ${r.error?.message}`), r.error);
    return r;
  }
}
