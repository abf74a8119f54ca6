// Which socket Windows code makes: AF_HYPERV, or (TEST-ONLY, switched by
// setInetStandInForTesting() below, which test/win/ calls) an AF_INET loopback stand-in that runs the very same
// socket threads, handle adoption and net machinery where there is no
// Hyper-V (Wine in CI).
import { binding, SOCKET_STREAM } from '../binding';
import { winBinding } from './binding';

let standIn = false;

/** TEST-ONLY: route new Windows sockets through the AF_INET stand-in. */
export function setInetStandInForTesting(on: boolean): void {
  standIn = on;
}

export function usingStandIn(): boolean {
  return standIn;
}

/** A new stream socket (fd or negative status). */
export function openSocket(): number {
  return standIn ? winBinding().standInInet() : binding().socket(SOCKET_STREAM);
}

let sendCap = 0;

/**
 * TEST-ONLY fault injection for the overlapped path: each WSASend of
 * sockets opened from now on carries at most `bytes` (0: no cap), so every
 * larger write completes partially and only the native send loop delivers
 * the rest.
 */
export function setSendCapForTesting(bytes: number): void {
  sendCap = bytes;
}

export function sendCapForTesting(): number {
  return sendCap;
}
