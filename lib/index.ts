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
} from './address';
export { isGuid, parseGuid, guidToBytes, guidFromBytes } from './guid';
export { HvsockError, type HvsockErrorCode, type HvsockSystemError } from './errors';
export { connect, createConnection, VsockSocket, type ConnectOptions, type HvsockSocket, type VsockAddressInfo } from './socket';
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
export { PollSocket } from './poll-socket';
export { PollServer } from './poll-server';
export {
  SeqpacketSocket,
  type SeqpacketConnectOptions,
  type SeqpacketOptions,
  type MessageTooLargeError,
  type MessageTruncatedError,
} from './seqpacket';
export { type IoPath } from './io-path';
export { type VsockEndpointGetters } from './poll-common';
export { type SocketSettings, type ConnectSettings } from './settings';
export { getLocalCid } from './local';
export { parseAddress, formatAddress, type ParsedAddress } from './uri';
export {
  createHttpAgent,
  createHttpsAgent,
  createUndiciConnector,
  listenOn,
  type ConnectTarget,
  type UndiciConnectOptions,
  type UndiciConnectCallback,
} from './protocols';
