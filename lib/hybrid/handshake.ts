// The VMM's answer to CONNECT: one line, `OK <n>\n`. Firecracker and Cloud
// Hypervisor put the host-side port there (e.g. `OK 1073741824`),
// vhost-device-vsock the guest port, OpenVMM a number or a GUID; Kata's
// client accepts any line with OK in it. We accept `OK` followed by nothing
// or by one token, and keep that token for the caller. The reply may arrive
// split over reads, and the guest's first bytes may share a read with it: the
// parser returns them (`rest`) so nothing after the line is lost.

/** Longest reply we wait for: `OK ` + a GUID + CRLF is 41 bytes; anything longer is not a VMM. */
export const MAX_REPLY_BYTES = 128;

export type ReplyOutcome =
  | { state: 'partial' }
  | {
      state: 'ok';
      /** The line without its newline, e.g. `OK 1073741824`. */ line: string;
      /** The token after OK, if any. */ token: string | undefined;
      rest: Buffer;
    }
  | { state: 'bad'; /** What the VMM sent (printable, shortened), for the error message. */ received: string };

const OK_LINE = /^OK(?:[ \t]+([\x21-\x7e]+))?[ \t]*\r?$/;

function printable(bytes: Buffer): string {
  const text = bytes
    .subarray(0, 60)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return bytes.length > 60 ? `${text}...` : text;
}

/** Accumulates reply bytes until a whole line (or too many bytes) has arrived. */
export class ReplyParser {
  private buffered: Buffer = Buffer.alloc(0);
  private finished = false;

  feed(chunk: Buffer): ReplyOutcome {
    if (this.finished) throw new Error('ReplyParser: fed after the reply was complete');
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const newline = this.buffered.indexOf(0x0a);
    if (newline < 0) {
      if (this.buffered.length < MAX_REPLY_BYTES) return { state: 'partial' };
      this.finished = true;
      return { state: 'bad', received: printable(this.buffered) };
    }
    this.finished = true;
    const lineBytes = this.buffered.subarray(0, newline);
    const match = newline < MAX_REPLY_BYTES ? OK_LINE.exec(lineBytes.toString('latin1')) : null;
    if (!match) return { state: 'bad', received: printable(this.buffered.subarray(0, newline + 1)) };
    return {
      state: 'ok',
      line: lineBytes.toString('latin1').replace(/\r$/, ''),
      token: match[1],
      rest: this.buffered.subarray(newline + 1),
    };
  }

  /** What arrived so far, for an error when the VMM closes mid-line. */
  get received(): string {
    return printable(this.buffered);
  }
}
