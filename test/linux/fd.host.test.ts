// Host-side checks of descriptor adoption and socket activation: the
// sd_listen_fds environment rules, adoption of a vsock listener bound on
// the host (bind/listen only: no vsock connect happens here), and fuzzing of
// the new user-input entries (fd arguments, retry options, tool output
// parsers): a result or a typed error, never anything else.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { installFakeBinding } from '../helpers/fake-binding';
import { hvsock } from '../helpers/hvsock';

const load = createRequire(__filename);
const native: import('../../lib/binding').NativeBinding = load('../../dist/binding.js').binding();
const { encodeEndpoint }: typeof import('../../lib/address/index') = load('../../dist/address/index.js');
const systemd: typeof import('../../lib/systemd') = load('../../dist/systemd.js');
const hyperv: typeof import('../../lib/win/host-discovery') = load('../../dist/win/host-discovery.js');
const discovery: typeof import('../../lib/linux/discovery') = load('../../dist/linux/discovery.js');
const retry: typeof import('../../lib/retry') = load('../../dist/retry.js');

describe('parseListenFds() (sd_listen_fds rules)', () => {
  const pid = 4242;
  it.each([
    [{}, []],
    [{ LISTEN_FDS: '2' }, []], // no LISTEN_PID: not activated
    [{ LISTEN_PID: '99', LISTEN_FDS: '2' }, []], // another process's
    [{ LISTEN_PID: '4242' }, []],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '0' }, []],
    [
      { LISTEN_PID: '4242', LISTEN_FDS: '2' },
      [
        { fd: 3, name: 'unknown' },
        { fd: 4, name: 'unknown' },
      ],
    ],
    [
      { LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'vsock:web' },
      [
        { fd: 3, name: 'vsock' },
        { fd: 4, name: 'web' },
      ],
    ],
  ])('%j -> %j', (env, fds) => {
    expect(systemd.parseListenFds(env, pid)).toEqual(fds);
  });

  it.each([
    [{ LISTEN_PID: 'abc', LISTEN_FDS: '1' }, 'LISTEN_PID is not a process id'],
    [{ LISTEN_PID: '0', LISTEN_FDS: '1' }, 'LISTEN_PID is not a process id'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '-1' }, 'LISTEN_FDS is not a count'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '1x' }, 'LISTEN_FDS is not a count'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '99999999999' }, 'LISTEN_FDS is too large'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'one' }, 'LISTEN_FDNAMES has 1 names for 2 descriptors'],
  ])('%j is ERR_HVSOCK_SYSTEMD_ENV', (env, message) => {
    expect(() => systemd.parseListenFds(env, pid)).toThrow(
      expect.objectContaining({ code: 'ERR_HVSOCK_SYSTEMD_ENV', message: expect.stringContaining(message) }),
    );
  });

  describe('in this process', () => {
    afterEach(() => {
      delete process.env.LISTEN_PID;
      delete process.env.LISTEN_FDS;
      delete process.env.LISTEN_FDNAMES;
    });

    it('unsets the variables by default, whatever the outcome, and keeps them on request', () => {
      Object.assign(process.env, { LISTEN_PID: String(process.pid), LISTEN_FDS: '0', LISTEN_FDNAMES: '' });
      expect(hvsock.systemdListenFds({ unsetEnvironment: false })).toEqual([]);
      expect(process.env.LISTEN_PID).toBe(String(process.pid));
      Object.assign(process.env, { LISTEN_FDS: 'junk' });
      expect(() => hvsock.listenSystemd()).toThrow(expect.objectContaining({ code: 'ERR_HVSOCK_SYSTEMD_ENV' }));
      expect([process.env.LISTEN_PID, process.env.LISTEN_FDS, process.env.LISTEN_FDNAMES]).toEqual([undefined, undefined, undefined]);
      expect(hvsock.listenSystemd()).toEqual([]); // not activated (any more)
    });
  });
});

describe('systemdListenFds() with a huge LISTEN_FDS', () => {
  it('stops at the first descriptor that is not open, before building an entry per claimed fd', () => {
    // In a child: the variables must name its own pid, and the old code
    // built ~2^31 entries (minutes, then out of memory) before any check.
    const script = `
      process.env.LISTEN_PID = String(process.pid);
      process.env.LISTEN_FDS = '2147483640';
      const started = Date.now();
      try {
        require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'index.js'))}).systemdListenFds();
        console.log(JSON.stringify({ ok: true }));
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, message: error.message, ms: Date.now() - started }));
      }`;
    const child = spawnSync(process.execPath, ['--max-old-space-size=256', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(child.signal, 'the child was killed (timeout)').toBeNull();
    const outcome = JSON.parse(child.stdout.trim());
    expect(outcome).toMatchObject({
      code: 'ERR_HVSOCK_SYSTEMD_ENV',
      message: expect.stringMatching(/^LISTEN_FDS names fd \d+, which is not open here/),
    });
    expect(outcome.ms).toBeLessThan(1000);
  });
});

describe('adopting a vsock listener bound on the host (no connect)', () => {
  it('listen({ fd }) reports the bound address, and close() closes the descriptor', async () => {
    const fd = native.socket(1);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(native.bind(fd, encodeEndpoint({ cid: hvsock.Cid.ANY, port: hvsock.PORT_ANY }))).toBe(0);
    expect(() => hvsock.VsockSocket.fromFd(fd)).toThrow(`fd ${fd} is not connected`);
    const server = hvsock.createServer();
    server.listen({ fd, backlog: 8 });
    await once(server, 'listening');
    const address = server.address()!;
    expect(address).toMatchObject({ cid: hvsock.Cid.ANY, family: 'vsock' });
    expect(address.port).not.toBe(hvsock.PORT_ANY); // the kernel's ephemeral port, read back
    expect(native.isListening!(fd)).toBe(1);
    expect(() => server.listen({ fd })).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
    await new Promise((resolve) => server.close(resolve));
    expect(native.describe(fd)).toBe(-9); // EBADF: the server owned and closed it
  });

  it('u64 option values past 2^53 read back exactly, as bigints (never as a negative status)', () => {
    const fd = native.socket(1);
    try {
      // -1 crosses the boundary as u64 2^64 - 1: what other code sharing an adopted fd may set.
      expect(native.setOption(fd, 2, -1)).toBe(0); // BUFFER_MAX_SIZE
      expect(native.setOption(fd, 0, -1)).toBe(0); // BUFFER_SIZE
      expect(native.getOption(fd, 2)).toBe(2n ** 64n - 1n);
      expect(native.getOption(fd, 0)).toBe(2n ** 64n - 1n);
      expect(native.getOption(fd, 1)).toBe(128); // BUFFER_MIN_SIZE: a plain number while exact
      expect(native.setConnectTimeout(fd, 2 ** 62)).toBe(0);
      expect(typeof native.getConnectTimeout(fd)).toBe('bigint');
      expect(native.getOption(987654, 0)).toBe(-9); // errors stay negative numbers
    } finally {
      native.close(fd);
    }
  });

  it('listen({ fd, bufferSize }) on a descriptor whose buffer max is past 2^63 (set by its creator) listens', async () => {
    const fd = native.socket(1);
    expect(native.bind(fd, encodeEndpoint({ cid: hvsock.Cid.ANY, port: hvsock.PORT_ANY }))).toBe(0);
    expect(native.setOption(fd, 2, -1)).toBe(0); // BUFFER_MAX_SIZE = 2^64 - 1
    const server = hvsock.createServer();
    server.listen({ fd, bufferSize: 65536 });
    await once(server, 'listening'); // rejects on 'error' (it was EPERM: the max read back as -1)
    expect(native.getOption(fd, 0)).toBe(65536);
    await new Promise((resolve) => server.close(resolve));
  });

  it("listen({ fd }) whose adoption fails leaves the descriptor open: it is still the caller's", async () => {
    const fd = native.socket(1);
    expect(native.bind(fd, encodeEndpoint({ cid: hvsock.Cid.ANY, port: hvsock.PORT_ANY }))).toBe(0);
    const installed = installFakeBinding({ setOption: -22 }); // the settings step fails (EINVAL)
    try {
      const server = hvsock.createServer();
      server.listen({ fd, bufferSize: 65536 });
      const [error] = await once(server, 'error');
      expect(error).toMatchObject({ code: 'EINVAL', errno: -22 });
      expect(server.listening).toBe(false);
    } finally {
      installed.restore();
    }
    expect(native.describe(fd)).toEqual([native.constants.AF_VSOCK, native.constants.SOCK_STREAM]); // not closed
    expect(native.close(fd)).toBe(0); // the caller closes it
  });
});

// ------------------------------------------------------------------ fuzz

const anything = fc.oneof(
  fc.anything(),
  fc.integer({ min: -5, max: 64 }),
  fc.double(),
  fc.bigInt(),
  fc.constantFrom(NaN, Infinity, -0, 2 ** 31, 2 ** 53),
);

function typedOrResult(run: () => unknown, codes: readonly string[]): void {
  try {
    run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (!(error instanceof Error) || typeof code !== 'string' || !codes.includes(code)) throw error;
  }
}

describe('fuzz: new entries give a result or a typed error', () => {
  const FD_CODES = ['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE', 'ERR_HVSOCK_BAD_FD', 'EBADF'];
  it('VsockSocket.fromFd(anything) (no vsock socket is connected on the host: never adopts)', () => {
    fc.assert(
      fc.property(anything, anything, (fd, options) => {
        typedOrResult(() => {
          const socket = hvsock.VsockSocket.fromFd(fd as number, options as never);
          socket.destroy();
          throw new Error(`adopted ${String(fd)}`);
        }, FD_CODES);
      }),
      { numRuns: 3000 },
    );
  });

  it('server.listen({ fd: anything, backlog: anything })', () => {
    fc.assert(
      fc.property(anything, anything, (fd, backlog) => {
        const server = hvsock.createServer();
        server.on('error', () => undefined);
        typedOrResult(() => server.listen({ fd: fd as number, backlog: backlog as number }), [...FD_CODES, 'ERR_SERVER_ALREADY_LISTEN']);
        server.close();
      }),
      { numRuns: 3000 },
    );
  });

  it('retry options', () => {
    const options = fc.oneof(
      anything,
      fc.record({ attempts: anything, minDelay: anything, maxDelay: anything, signal: anything }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(options, (value) => typedOrResult(() => retry.pickRetryOptions(value), ['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE'])),
      { numRuns: 5000 },
    );
  });

  it('tool output parsers and the systemd environment', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.json(), fc.constant('[{"Id":"')),
        fc.dictionary(fc.constantFrom('LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'), fc.string()),
        (text, env) => {
          typedOrResult(() => hyperv.parseGetVmJson(text), ['ERR_HVSOCK_DISCOVERY']);
          expect(Array.isArray(hyperv.parseHcsdiagList(text))).toBe(true);
          expect(Array.isArray(hyperv.parseWslRunning(Buffer.from(text)))).toBe(true);
          typedOrResult(() => discovery.parseWslVmId(text), ['ERR_HVSOCK_DISCOVERY']);
          expect(
            discovery.transportsFrom({ procModules: text, sysModules: text.split('/'), modulesBuiltin: text }).transports,
          ).toBeInstanceOf(Array);
          typedOrResult(() => systemd.parseListenFds(env, 1), ['ERR_HVSOCK_SYSTEMD_ENV']);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
