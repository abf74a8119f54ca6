// Windows-only API on Linux: clear typed errors, thrown synchronously before
// any socket exists (so nothing here ever opens, let alone connects, a vsock
// socket).
import { describe, expect, it } from 'vitest';
import { hvsock } from './helpers/hvsock';

const unsupported = (option: string) => ({
  code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
  message: expect.stringContaining(`${option} is a Windows (AF_HYPERV) option (not supported on linux)`),
});

describe('Windows-only options on Linux', () => {
  it.each(['connectedSuspend', 'containerPassthru', 'highVtl'])('%s is refused by connect, createServer and listen', (option) => {
    const catchOf = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('did not throw');
    };
    for (const value of [true, false]) {
      expect(catchOf(() => hvsock.connect({ cid: 1, port: 5000, [option]: value }))).toMatchObject(unsupported(`options.${option}`));
      expect(catchOf(() => hvsock.createServer({ [option]: value }))).toMatchObject(unsupported(`options.${option}`));
      const server = hvsock.createServer();
      expect(catchOf(() => server.listen({ port: 5000, [option]: value }))).toMatchObject(unsupported(`options.${option}`));
      expect(server.listening).toBe(false);
    }
  });

  it('the registry helpers say they are Windows-only', () => {
    const serviceId = hvsock.serviceIdFromPort(5000);
    for (const call of [
      () => hvsock.registerService(serviceId, 'name'),
      () => hvsock.unregisterService(serviceId),
      () => hvsock.listServices(),
    ]) {
      expect(call).toThrow(
        expect.objectContaining({
          code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
          message: expect.stringMatching(/exists only on Windows hosts \(not supported on linux; Linux needs none\)/),
        }),
      );
    }
  });
});
