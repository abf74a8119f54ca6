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
 * Connects to a vsock / Hyper-V socket service and returns a net.Socket (a
 * Duplex on the poll path, a message socket for type 'seqpacket').
 * Address by `{ vmId, serviceId }` or, on Linux, `{ cid, port }`, or by a
 * URI string (`vsock://1:5000`, `hvsock://parent/5000`; see parseAddress).
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
