// AbortSignal handling shared by every connect path (handle, poll,
// seqpacket, hybrid, Windows) and the retry loop.

/** Node's AbortError shape (name 'AbortError', code 'ABORT_ERR', the reason as cause). */
export function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  error.name = 'AbortError';
  error.code = 'ABORT_ERR';
  return error;
}

// The signal is handled here rather than by net.Socket's `signal` option: in
// Node 20 that option destroys the stream through the Duplex base on a later
// tick, outside net's connect path, and can leave the peer's accepted end open.
// Shared by the handle and poll paths, hence the structural type.
export function destroyOnAbort(
  socket: { destroy(error: Error): unknown; once(event: 'close', listener: () => void): unknown },
  signal: AbortSignal,
): void {
  const onAbort = (): void => {
    socket.destroy(abortError(signal));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  socket.once('close', () => signal.removeEventListener('abort', onAbort));
}
