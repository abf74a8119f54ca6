// hvsock: Hyper-V sockets and Linux AF_VSOCK as real net.Socket / net.Server.
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
} from './address/index';
export { isGuid, parseGuid, guidToBytes, guidFromBytes } from './address/guid';
export { HvsockError, type HvsockErrorCode, type HvsockSystemError } from './errors';
export { connect, createConnection, VsockSocket, type ConnectOptions, type HvsockSocket, type VsockAddressInfo } from './handle/socket';
export {
  createServer,
  VsockServer,
  DEFAULT_BACKLOG,
  type ServerOptions,
  type ListenOptions,
  type HvsockServer,
  type SeqpacketServer,
} from './server';
// The poll-driven I/O path and SOCK_SEQPACKET message sockets.
export { PollSocket } from './linux/poll/stream';
export { PollServer } from './linux/poll/server';
export {
  SeqpacketSocket,
  type SeqpacketConnectOptions,
  type SeqpacketOptions,
  type MessageTooLargeError,
  type MessageTruncatedError,
} from './linux/poll/seqpacket';
export { type IoPath } from './io-path';
export { type VsockEndpointGetters } from './linux/poll/common';
export { type SocketSettings, type ConnectSettings } from './settings';
export { getLocalCid } from './linux/local';
export { vsockAddressOf, type VsockConnectionAddresses } from './address-of';
// Windows hosts: Hyper-V service registration (lib/win/registry.ts).
export { registerService, unregisterService, listServices, type ServiceRegistration } from './win/registry';
export { type HyperVSettings } from './win/options';
export { type HyperVAddressInfo } from './win/address';
export { parseAddress, formatAddress, type ParsedAddress } from './address/uri';
// Hybrid vsock: a VMM's Unix socket (Firecracker, Cloud Hypervisor, vhost-device-vsock, OpenVMM).
export { HybridSocket, type HybridConnectOptions, type HybridAddressInfo, type HandshakeError } from './hybrid/connect';
export { DEFAULT_HANDSHAKE_TIMEOUT, type HybridAddressOptions } from './hybrid/endpoint';
export {
  createHttpAgent,
  createHttpsAgent,
  createUndiciConnector,
  listenOn,
  type ConnectTarget,
  type UndiciConnectOptions,
  type UndiciConnectCallback,
} from './protocols/index';
// p8: adopted descriptors and socket activation, reconnecting clients, discovery.
export { socketFromFd, type FromFdOptions, type FdListenOptions } from './linux/fd';
export { listenSystemd, systemdListenFds, type SystemdFd, type SystemdServer, type SystemdOptions } from './systemd';
export { isRetryableConnectError, RETRYABLE_CONNECT_ERRORS, type RetryOptions, type RetryEvent } from './retry';
export { createReconnectingClient, ReconnectingClient, type ReconnectingClientOptions } from './reconnect';
export { getTransportInfo, getWslVmId, TRANSPORT_MODULES, type TransportInfo, type TransportEntry, type TransportName } from './linux/discovery';
export {
  listVms,
  listComputeSystems,
  warnIfWslMissesWildcard,
  type VmInfo,
  type ComputeSystem,
  type DiscoveryOptions,
} from './win/host-discovery';
