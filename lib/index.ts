// hvsock: Hyper-V sockets and Linux AF_VSOCK as real net.Socket / net.Server.
// The public entry, grouped by topic. Everything a user (or the CLI) needs is
// exported from here; nothing below lib/ is public.

// Addressing: VM ids, service ids, CIDs and ports, URIs, GUIDs.
export {
  VmId,
  Cid,
  PORT_ANY,
  serviceIdFromPort,
  portFromServiceId,
  isVsockServiceId,
  vmIdFromCid,
  formatEndpoint,
  type AddressOptions,
  type Endpoint,
  type VsockAddressInfo,
} from './address/index';
export { parseAddress, formatAddress, type ParsedAddress } from './address/uri';
export { isGuid, parseGuid, guidToBytes, guidFromBytes } from './address/guid';
export { vsockAddressOf, type VsockConnectionAddresses } from './address-of';
export { type HyperVAddressInfo } from './win/address';
export { type HybridAddressOptions, DEFAULT_HANDSHAKE_TIMEOUT } from './hybrid/endpoint';

// Errors.
export { HvsockError, type HvsockErrorCode, type HvsockSystemError } from './errors';

// Clients: connect(), its options, and the sockets it returns.
export { connect, createConnection, type HvsockSocket } from './connect';
export { checkAddress, type ConnectOptions } from './options';
export { VsockSocket } from './handle/socket';
export { type SocketSettings, type ConnectSettings, type HyperVSettings } from './settings';
export { type IoPath } from './io-path';
export { isRetryableConnectError, RETRYABLE_CONNECT_ERRORS, type RetryOptions, type RetryEvent } from './retry';
export { createReconnectingClient, ReconnectingClient, type ReconnectingClientOptions } from './reconnect';
export { HybridSocket, type HybridConnectOptions, type HybridAddressInfo, type HandshakeError } from './hybrid/connect';

// Servers: createServer(), listen options, and the server kinds.
export {
  createServer,
  VsockServer,
  DEFAULT_BACKLOG,
  type ServerOptions,
  type ListenOptions,
  type HvsockServer,
  type SeqpacketServer,
} from './server';

// The poll-driven I/O path and SOCK_SEQPACKET message sockets (Linux).
export { PollSocket } from './linux/poll/stream';
export { PollServer, type AcceptedConnection } from './linux/poll/server';
export { OverlappedSocket } from './win/overlapped';
export { DuplexSocket, type DuplexSocketOptions } from './duplex/socket';
export { type VsockEndpointGetters } from './duplex/getters';
export {
  SeqpacketSocket,
  type SeqpacketConnectOptions,
  type SeqpacketOptions,
  type MessageTooLargeError,
  type MessageTruncatedError,
  type SendCallback as SeqpacketSendCallback,
} from './linux/poll/seqpacket';

// Adopted descriptors and systemd socket activation (Linux).
export { socketFromFd, type FromFdOptions, type FdListenOptions } from './linux/fd';
export { listenSystemd, systemdListenFds, type SystemdFd, type SystemdServer, type SystemdOptions } from './systemd';

// Protocols over vsock: HTTP(S) agents, undici, any net.Server.
export {
  createHttpAgent,
  createHttpsAgent,
  createUndiciConnector,
  listenOn,
  type ConnectTarget,
  type UndiciConnectOptions,
  type UndiciConnectCallback,
} from './protocols/index';

// Discovery: this machine's CID and transports (Linux), VMs and services (Windows hosts).
export { getLocalCid } from './linux/local';
export {
  getTransportInfo,
  getWslVmId,
  TRANSPORT_MODULES,
  type TransportInfo,
  type TransportEntry,
  type TransportName,
  type WslVmIdOptions,
} from './linux/discovery';
export {
  listVms,
  listComputeSystems,
  warnIfWslMissesWildcard,
  type VmInfo,
  type ComputeSystem,
  type DiscoveryOptions,
} from './win/host-discovery';
export { registerService, unregisterService, listServices, type ServiceRegistration } from './win/registry';
