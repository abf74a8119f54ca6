// getsockname / getpeername of a descriptor, decoded: the one reader for
// every path (handle, poll, adopted fds, Windows).
import { binding } from '../binding';
import { addressBuffer, decodeEndpoint, type Endpoint } from './index';

/** The local (or, with `peer`, the remote) name of `fd`, or the negative status. */
export function readName<T = Endpoint>(
  fd: number,
  peer: boolean,
  decode: (bytes: Uint8Array) => T = decodeEndpoint as (bytes: Uint8Array) => T,
): T | number {
  const out = addressBuffer();
  const status = peer ? binding().getpeername(fd, out) : binding().getsockname(fd, out);
  return status < 0 ? status : decode(out);
}

/** readName(), with a failure as undefined (address getters report nothing). */
export function nameOrNone<T>(name: T | number): T | undefined {
  return typeof name === 'number' ? undefined : name;
}
