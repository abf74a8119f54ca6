// Windows sockets: VsockSocket with Hyper-V addresses. The descriptor is an
// AF_HYPERV SOCKET in Node's TCP handle; VM and service ids come from here.
import * as net from 'node:net';
import { nameOrNone, readName } from '../address/names';
import { handleOf } from '../handle/handles';
import { VsockSocket } from '../handle/socket';
import { decodeHvEndpoint, describeHvEndpoint, type HvEndpoint, type HyperVAddressInfo } from './address';
import { readConnectTimeout } from './options';
import { usingStandIn } from './transport';

const kPeer = Symbol('hvsock.hvPeer');
const kLocal = Symbol('hvsock.hvLocal');

/** The endpoint a SOCKET's getsockname / getpeername reports, if any. */
export function readHvName(fd: number, peer: boolean): HvEndpoint | undefined {
  return nameOrNone(readName(fd, peer, (bytes) => decodeHvEndpoint(bytes, usingStandIn())));
}

/**
 * A Hyper-V socket stream. `remoteAddress` is the peer's VM id,
 * `remoteFamily` 'hyperv'; the cid/port getters of VsockSocket are
 * undefined (Linux-only).
 */
export class HyperVSocket extends VsockSocket {
  declare [kPeer]: HvEndpoint | undefined;
  declare [kLocal]: HvEndpoint | undefined;

  override get remoteCid(): number | undefined {
    return undefined;
  }
  override get remoteVmId(): string | undefined {
    return this[kPeer]?.vmId;
  }
  override get remoteServiceId(): string | undefined {
    return this[kPeer]?.serviceId;
  }
  override get localCid(): number | undefined {
    return undefined;
  }
  override get localVmId(): string | undefined {
    return this.hvLocal()?.vmId;
  }
  override get localServiceId(): string | undefined {
    return this.hvLocal()?.serviceId;
  }
  override get vsockBufferSize(): number | undefined {
    return undefined;
  }
  /** HVSOCKET_CONNECT_TIMEOUT as Windows holds it, in ms. */
  override get connectTimeout(): number | undefined {
    const handle = handleOf(this);
    return handle ? readConnectTimeout(handle.fd) : undefined;
  }

  override _getpeername(): Partial<HyperVAddressInfo> {
    const peer = this[kPeer];
    return peer ? describeHvEndpoint(peer) : {};
  }

  override _getsockname(): Partial<HyperVAddressInfo> {
    const local = this.hvLocal();
    return local ? describeHvEndpoint(local) : {};
  }

  private hvLocal(): HvEndpoint | undefined {
    if (this[kLocal] === undefined && !this.connecting) {
      const handle = handleOf(this);
      if (handle) this[kLocal] = readHvName(handle.fd, false);
    }
    return this[kLocal];
  }
}

export function setPeer(socket: HyperVSocket, peer: HvEndpoint | undefined): void {
  socket[kPeer] = peer;
}

/** Makes a socket net created for an accepted connection a HyperVSocket. */
export function adoptAcceptedHyperV(socket: net.Socket, peer: HvEndpoint | undefined): HyperVSocket {
  const adopted = Object.setPrototypeOf(socket, HyperVSocket.prototype) as HyperVSocket;
  adopted[kPeer] = peer;
  return adopted;
}
