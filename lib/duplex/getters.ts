// Getters on the prototypes of hvsock's own Duplex sockets: the vsock
// address getters they all carry (as VsockSocket's), and the helper that
// installs a set of them. Each class fills them from its own connection
// (lib/linux/poll/common.ts, lib/win/overlapped.ts).

/** The address getters of a VsockSocket, on the poll path's classes. */
export interface VsockEndpointGetters {
  /** The peer's context id. */
  readonly remoteCid: number | undefined;
  /** The peer's VM id, for the well-known CIDs (PARENT, LOOPBACK). */
  readonly remoteVmId: string | undefined;
  /** The peer's port as a service id (VSOCK template). */
  readonly remoteServiceId: string | undefined;
  /** The peer's CID as text, as net's remoteAddress. */
  readonly remoteAddress: string | undefined;
  /** The peer's port. */
  readonly remotePort: number | undefined;
  /** 'vsock' once there is a peer. */
  readonly remoteFamily: string | undefined;
  /** This end's context id as the kernel reports it (a client sees CID ANY). */
  readonly localCid: number | undefined;
  /** This end's VM id, for the well-known CIDs. */
  readonly localVmId: string | undefined;
  /** This end's port as a service id. */
  readonly localServiceId: string | undefined;
  /** This end's CID as text, as net's localAddress. */
  readonly localAddress: string | undefined;
  /** This end's port. */
  readonly localPort: number | undefined;
  /** 'vsock' once connected. */
  readonly localFamily: string | undefined;
  /** The receive buffer in bytes (SO_VM_SOCKETS_BUFFER_SIZE; a bigint past 2^53 - 1). */
  readonly vsockBufferSize: number | bigint | undefined;
  /** The connect timeout in ms as the kernel holds it (a bigint past 2^53 - 1). */
  readonly connectTimeout: number | bigint | undefined;
}

/** Defines non-enumerable getters on `prototype`, each given the instance. */
export function defineGetters<T>(prototype: object, getters: Record<string, (self: T) => unknown>): void {
  for (const [name, get] of Object.entries(getters)) {
    Object.defineProperty(prototype, name, {
      configurable: true,
      enumerable: false,
      get(this: T) {
        return get(this);
      },
    });
  }
}
