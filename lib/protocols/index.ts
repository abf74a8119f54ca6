// Plugging hvsock into Node's protocol stacks and their ecosystem: http(s)
// agents, an undici connector, and listenOn() for servers that should accept
// on a vsock address directly. Everything rides on real net.Sockets, so TLS,
// HTTP/1.1, HTTP/2 and WebSocket libraries run unchanged.
import type * as http from 'node:http';
import type * as https from 'node:https';
import type * as net from 'node:net';
import { Server } from 'node:net';
import type * as tls from 'node:tls';
import { httpModule, httpsModule, tlsModule } from '../builtins';
import { describeEndpoint, resolveVsockAddress, type Endpoint, type VsockAddressInfo } from '../address/index';
import { invalidArgType } from '../errors';
import { handleOf, type StreamHandle } from '../handle/handles';
import { connect } from '../connect';
import { adoptAcceptedSocket } from '../handle/socket';
import { listenVsock } from '../linux/listen';
import { pickBacklog, pickConnectSettings, pickListenArguments, type ConnectOptions, type ListenOptions } from '../options';
import { parseAddress } from '../address/uri';
import { isHybridAddress, pickHandshakeTimeout, resolveHybridAddress } from '../hybrid/endpoint';
import { listenHybrid } from '../hybrid/listen';

/** Where a helper connects: connect() options or a URI string. */
export type ConnectTarget = ConnectOptions | string;

// Checked once, when the helper is made: a typo should fail there, not on
// the first request deep inside an agent.
function checkTarget(target: ConnectTarget): ConnectOptions {
  const options: ConnectOptions = typeof target === 'string' ? parseAddress(target) : target;
  if (isHybridAddress(options)) {
    // Hybrid vsock (lib/hybrid/): the VMM's Unix socket and a guest port.
    resolveHybridAddress(options, 'address');
    pickHandshakeTimeout((options as ConnectOptions).connectTimeout, 'address.connectTimeout');
    return { ...options };
  }
  resolveVsockAddress(options, 'connect', 'address');
  pickConnectSettings(options, 'address');
  return { ...options };
}

// A raw vsock socket under a TLS session: a failed connect is raised on the
// raw socket, which nobody else listens to, so it ends the TLS socket too.
function secureOver(target: ConnectOptions, connectTls: (socket: net.Socket) => tls.TLSSocket): tls.TLSSocket {
  const raw = connect(target);
  const secure = connectTls(raw);
  raw.once('error', (error) => secure.destroy(error));
  return secure;
}

/**
 * An http.Agent whose connections go to `address` (options or URI); the
 * request's host only fills the Host header. Keep-alive pooling works as
 * usual (`{ keepAlive: true }` in agentOptions).
 *
 * @param address - Where every connection goes: connect() options or a URI.
 * @param agentOptions - http.Agent's own options (keepAlive, maxSockets, ...).
 * @returns The agent: pass it as `agent` to http.request() / http.get().
 * @throws TypeError for an address connect() would reject.
 * @example
 * ```js
 * const http = require('node:http');
 * const hvsock = require('hvsock');
 *
 * const agent = hvsock.createHttpAgent('vsock://3:8080', { keepAlive: true });
 * http.get({ agent, host: 'vm', path: '/status' }, (res) => res.pipe(process.stdout));
 * ```
 */
export function createHttpAgent(address: ConnectTarget, agentOptions?: http.AgentOptions): http.Agent {
  const target = checkTarget(address);
  const agent = new (httpModule().Agent)(agentOptions);
  agent.createConnection = () => connect(target);
  return agent;
}

/**
 * An https.Agent that runs TLS over connections to `address`. TLS options
 * (ca, servername, ...) go in agentOptions or the request; the server name
 * defaults to the request's host. TLS sessions are cached and resumed as
 * https.Agent does.
 *
 * @param address - Where every connection goes: connect() options or a URI.
 * @param agentOptions - https.Agent's options, TLS options included.
 * @returns The agent, for https.request() / https.get().
 * @throws TypeError for an address connect() would reject.
 */
export function createHttpsAgent(address: ConnectTarget, agentOptions?: https.AgentOptions): https.Agent {
  const target = checkTarget(address);
  const agent = new (httpsModule().Agent)(agentOptions);
  const createTlsConnection = agent.createConnection.bind(agent);
  // https.Agent's own createConnection calls tls.connect(options) with the
  // cached session; handing it our socket keeps that behaviour.
  agent.createConnection = (options) =>
    secureOver(target, (socket) => createTlsConnection({ ...options, socket } as https.RequestOptions) as tls.TLSSocket);
  return agent;
}

/** The options undici passes to a `connect` function (a subset of its own type). */
export interface UndiciConnectOptions {
  /** The request's host name (only used as the TLS server name). */
  hostname: string;
  /** 'http:' or 'https:' (https gets TLS). */
  protocol: string;
  /** The TLS server name, when undici sets one. */
  servername?: string;
}

/** undici's connect callback: `(null, socket)` or `(error, null)`. */
export type UndiciConnectCallback = (...args: [null, net.Socket] | [Error, null]) => void;

/**
 * A `connect` function for undici (`new Agent({ connect })`, `new Client(origin,
 * { connect })`) that opens its connections to `address`. TLS for
 * `https:` origins, with `tlsOptions` (e.g. `ca`) and the origin's host as the
 * default server name. Needs no undici import: it only matches the signature.
 *
 * @param address - Where every connection goes: connect() options or a URI.
 * @param tlsOptions - TLS options for `https:` origins (ca, cert, ...).
 * @returns The connect function.
 * @throws TypeError for an address connect() would reject.
 * @example
 * ```js
 * const undici = require('undici');
 * const hvsock = require('hvsock');
 *
 * const dispatcher = new undici.Agent({ connect: hvsock.createUndiciConnector('vsock://3:8080') });
 * undici.fetch('http://vm/status', { dispatcher }).then((res) => res.text()).then(console.log);
 * ```
 */
export function createUndiciConnector(
  address: ConnectTarget,
  tlsOptions: tls.ConnectionOptions = {},
): (options: UndiciConnectOptions, callback: UndiciConnectCallback) => void {
  const target = checkTarget(address);
  return (options, callback) => {
    const secure = options.protocol === 'https:';
    const socket: net.Socket = secure
      ? secureOver(target, (raw) =>
          tlsModule().connect({
            servername: options.servername || options.hostname,
            ALPNProtocols: ['http/1.1'],
            ...tlsOptions,
            socket: raw,
          }),
        )
      : connect(target);
    const ready = secure ? 'secureConnect' : 'connect';
    const onError = (error: Error): void => {
      socket.off(ready, onReady);
      callback(error, null);
    };
    const onReady = (): void => {
      socket.off('error', onError);
      callback(null, socket);
    };
    socket.once(ready, onReady);
    socket.once('error', onError);
  };
}

interface ListenedOn {
  handle: StreamHandle;
  local: Endpoint;
}
const listened = new WeakMap<net.Server, ListenedOn>();

// address() on a server listening on vsock: net's TCP handle formats only
// IP addresses, so report the vsock endpoint while that handle is in use.
function vsockAddress(this: net.Server): VsockAddressInfo | net.AddressInfo | string | null {
  const state = listened.get(this);
  if (state && this.listening && handleOf(this) === state.handle) return describeEndpoint(state.local);
  return Server.prototype.address.call(this);
}

/**
 * Makes any net.Server (http, https, http2, tls, ...) listen on a vsock
 * address (options, a port number or a URI), as `server.listen()` would on
 * TCP. Accepted sockets get the vsock getters (remoteCid, ...) and
 * `server.address()` reports the vsock endpoint. A TLS server (tls, https)
 * hands its handlers a TLSSocket without those getters: read its addresses
 * with vsockAddressOf(socket). Returns the server.
 *
 * @param server - Any net.Server: http.createServer(), https, http2, tls.
 * @param address - A vsock address: options, a port number or a URI.
 * @param listeningListener - Added as a 'listening' listener.
 * @returns The server.
 * @throws TypeError for a bad address; bind failures are the server's 'error' event.
 * @example
 * ```js
 * const http = require('node:http');
 * const hvsock = require('hvsock');
 *
 * hvsock.listenOn(http.createServer((req, res) => res.end('ok\n')), 'vsock://any:8080');
 * ```
 */
export function listenOn<T extends net.Server>(server: T, address: ListenOptions | number | string, listeningListener?: () => void): T {
  if (!(server instanceof Server)) throw invalidArgType('server', 'an instance of net.Server', server);
  const given = typeof address === 'string' ? parseAddress(address) : address;
  if (isHybridAddress(given)) {
    listenHybrid(server, given, pickBacklog((given as ListenOptions).backlog), listeningListener);
    return server;
  }
  listenVsock(server, pickListenArguments(given, listeningListener), listeningListener, {}, (handle, backlog, local) => {
    if (!listened.has(server)) {
      // Before the server's own handler, which may wrap the socket (TLS).
      server.prependListener('connection', adoptAcceptedSocket);
      server.address = vsockAddress;
    }
    listened.set(server, { handle, local });
    server.listen(handle, backlog);
  });
  return server;
}
