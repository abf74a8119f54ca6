// net.Socket's idle timeout, for hvsock's own Duplex sockets (and the
// SOCK_SEQPACKET socket): no Node handle keeps one for them.
import type { EventEmitter } from 'node:events';
import { invalidArgType, outOfRange } from '../errors';

/**
 * net's idle timeout: 'timeout' is emitted after `ms` without activity
 * (touch()), 0 disables it. The timer never keeps the process alive.
 */
export class IdleTimer {
  private timer: NodeJS.Timeout | null = null;
  ms = 0;

  constructor(private readonly owner: EventEmitter) {}

  set(ms: unknown, callback?: unknown): void {
    if (typeof ms !== 'number') throw invalidArgType('msecs', 'of type number', ms);
    if (!(ms >= 0) || !Number.isFinite(ms)) throw outOfRange('msecs', 'a non-negative finite number', ms);
    if (callback !== undefined && typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    this.ms = ms;
    if (callback) {
      if (ms === 0) this.owner.removeListener('timeout', callback as () => void);
      else this.owner.once('timeout', callback as () => void);
    }
    this.touch();
  }

  touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.ms === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.owner.emit('timeout');
    }, this.ms);
    this.timer.unref();
  }

  clear(): void {
    this.ms = 0;
    this.touch();
  }
}
