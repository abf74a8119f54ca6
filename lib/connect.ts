// connect(): the public client dispatcher. The arguments become one request
// (lib/options.ts), which goes to exactly one mechanism: hybrid vsock
// (lib/hybrid/), Windows AF_HYPERV (lib/win/), or Linux AF_VSOCK on the
// handle path (lib/linux/connect.ts) or the poll path (lib/linux/poll/).
import { connectHybrid, type HybridConnectOptions, type HybridSocket } from './hybrid/connect';
import type { VsockSocket } from './handle/socket';
import { connectVsockStream } from './linux/connect';
import { connectPollSocket, type PollSocket } from './linux/poll/stream';
import { connectSeqpacket, type SeqpacketConnectOptions, type SeqpacketSocket } from './linux/poll/seqpacket';
import { normaliseConnect, type ConnectOptions } from './options';
import { connectHyperV } from './win/connect';
import type { OverlappedSocket } from './win/overlapped';

/**
 * What connect() returns for a stream: a net.Socket (a HybridSocket for
 * udsPath), or a Duplex on the poll path (Linux) and the overlapped path
 * (Windows).
 */
export type HvsockSocket = VsockSocket | PollSocket | OverlappedSocket | HybridSocket;

/**
 * Connects to a vsock / Hyper-V socket service, as net.connect() does: the
 * socket is returned at once and connects in the background; writes made
 * before 'connect' are buffered; a failure is an 'error' event, then 'close'.
 *
 * @param target - Where to connect: `{ vmId, serviceId }`, on Linux
 *   `{ cid, port }`, for hybrid vsock `{ udsPath, port }`, or a URI string
 *   (`vsock://2:5000`, `hvsock://parent/5000`, `hvsock:///run/fc/v.sock:5000`;
 *   see parseAddress), plus options: `connectTimeout`, `timeout`, `signal`,
 *   `allowHalfOpen`, `retry`, `io`, `type`, buffer sizes, Windows options.
 * @param connectListener - Added as a listener for the 'connect' event.
 * @returns A VsockSocket (a net.Socket), a PollSocket on the poll path, an
 *   OverlappedSocket on Windows' default path, a HybridSocket for a VMM's
 *   Unix socket, or a SeqpacketSocket for `type: 'seqpacket'`.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` and
 *   RangeError `ERR_OUT_OF_RANGE` for bad arguments (naming the argument),
 *   HvsockError `ERR_HVSOCK_UNSUPPORTED_ADDRESS` for an address this platform
 *   cannot express, `ERR_HVSOCK_UNSUPPORTED_PLATFORM` for the other
 *   platform's options. Failures to connect are not thrown: they are the
 *   socket's 'error' event, a system error with `code`, `errno`, `syscall`,
 *   the address fields and, where known, a hint in the message.
 * @example
 * ```js
 * const hvsock = require('hvsock');
 *
 * // From a guest: port 5000 on the host (CID 2).
 * const socket = hvsock.connect({ cid: hvsock.Cid.HOST, port: 5000 }, () => socket.end('hello\n'));
 * socket.on('data', (data) => console.log(data.toString()));
 * socket.on('error', (error) => console.error(error.message));
 * ```
 */
export function connect(target: HybridConnectOptions, connectListener?: () => void): HybridSocket;
export function connect(target: SeqpacketConnectOptions, connectListener?: () => void): SeqpacketSocket;
export function connect(target: ConnectOptions | string, connectListener?: () => void): HvsockSocket;
export function connect(target: ConnectOptions | string, connectListener?: () => void): HvsockSocket | SeqpacketSocket {
  const normalised = normaliseConnect(target, connectListener);
  switch (normalised.transport) {
    case 'hybrid':
      return connectHybrid(normalised.options as HybridConnectOptions, connectListener);
    case 'hyperv':
      return connectHyperV(normalised.options, connectListener, normalised.io);
    case 'vsock':
      if (normalised.type === 'seqpacket') return connectSeqpacket(normalised.request, connectListener);
      if (normalised.io === 'poll') return connectPollSocket(normalised.request, connectListener);
      return connectVsockStream(normalised.request, connectListener);
  }
}

/** Alias of connect(), as in node:net. */
export const createConnection = connect;
