// The benchmark's own logic, on the host: the rig's instruction-clock hook
// (HVSOCK_VM_ICOUNT) and the report's spread and cost-bound arithmetic.
// The benchmarks themselves are scripts (npm run bench), never timed tests.
import { afterEach, describe, expect, it } from 'vitest';

// The bench and rig are plain .mjs files: load them by a computed path.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (path: string): Promise<any> => import(path);

describe('rig: HVSOCK_VM_ICOUNT', () => {
  const saved = process.env.HVSOCK_VM_ICOUNT;
  afterEach(() => {
    if (saved === undefined) delete process.env.HVSOCK_VM_ICOUNT;
    else process.env.HVSOCK_VM_ICOUNT = saved;
  });
  const machine = { vmlinux: 'k', initramfs: 'i', append: 'a', consoleLog: 'c', shares: {}, ports: {} };
  // QEMU takes the last -smp given.
  const lastSmp = (args: string[]) => args[args.lastIndexOf('-smp') + 1];

  it('boots one vCPU on the instruction clock when set', async () => {
    const { qemuArgs } = await load('./vm/qemu.mjs');
    process.env.HVSOCK_VM_ICOUNT = '1';
    const args: string[] = qemuArgs({ ...machine, accel: 'tcg' });
    expect(args.slice(args.indexOf('-icount'), args.indexOf('-icount') + 2)).toEqual(['-icount', 'shift=0,sleep=off,align=off']);
    expect(lastSmp(args)).toBe('1');
  });

  it('leaves the plain TCG machine (2 vCPUs, no icount) when unset, and KVM alone', async () => {
    const { qemuArgs } = await load('./vm/qemu.mjs');
    delete process.env.HVSOCK_VM_ICOUNT;
    const plain: string[] = qemuArgs({ ...machine, accel: 'tcg' });
    expect(plain).not.toContain('-icount');
    expect(lastSmp(plain)).toBe('2');
    process.env.HVSOCK_VM_ICOUNT = '1';
    expect(qemuArgs({ ...machine, accel: 'kvm' })).not.toContain('-icount');
  });
});

describe('bench report', () => {
  const MiB = 2 ** 20;
  const sample = (seconds: number, extra = {}) => ({ seconds, bytes: 64 * MiB, ops: 1, ...extra });
  const result = (transport: string, samples: object[], scenario = 'bulk', place = 'peers') => ({
    place,
    case: scenario === 'bulk' ? '2p bulk 64 KiB c2s' : '2p rtt 64 B',
    scenario,
    params: {},
    transport,
    samples,
  });

  it('gives every median its spread across runs', async () => {
    const { summarize, table } = await load('../bench/lib/report.mjs');
    const rows = summarize([result('hvsock', [sample(1), sample(1.02), sample(0.99)])]);
    expect(rows[0].values.hvsock).toBe(64);
    expect(rows[0].spreads.hvsock).toBeCloseTo(0.0196, 4); // 64 MiB in 1.02 s: 62.7 MiB/s against the median 64
    expect(table(rows, 'peers')).toContain('64 ±2.0%');
  });

  it('checks (hvsock − C vsock) ≤ 1.1 × (net over TCP − C over TCP) per MiB', async () => {
    const { summarize, targets } = await load('../bench/lib/report.mjs');
    // Seconds per 64 MiB: hvsock 3, C vsock 2 (ours: 1); net 2.5, C TCP 1.5 (Node's: 1) → 1.0, met.
    const rows = summarize([
      result('hvsock', [sample(3)]),
      result('c-vsock', [sample(2)]),
      result('net-tcp', [sample(2.5)]),
      result('c-tcp', [sample(1.5)]),
      result('hvsock-poll', [sample(2.4)]),
    ]);
    const checks = targets(rows);
    const cost = checks.find((c: { what: string }) => c.what.includes('(hvsock − c-vsock)'));
    expect(cost.value).toBeCloseTo(1.0, 6);
    expect(cost.met).toBe(true);
    const poll = checks.find((c: { what: string }) => c.what.includes('default ÷ poll'));
    expect(poll.value).toBeCloseTo(0.8, 6); // 2.4 s ÷ 3 s as a speed
    expect(poll.met).toBe(false);
  });

  it("checks the host's every stand-in case against net on the same socketpair (≥ 0.95, round trips ≤ 1.1)", async () => {
    const { summarize, targets } = await load('../bench/lib/report.mjs');
    const conn = (seconds: number) => ({ seconds, bytes: 0, ops: 1000 });
    const rtt = (medianUs: number) => ({ seconds: 1, bytes: 0, ops: 1000, medianUs, p99Us: medianUs * 2 });
    const rows = summarize([
      { ...result('standin', [sample(1)], 'bulk', 'host'), case: 'bulk 64 KiB c2s' },
      { ...result('net-pair', [sample(0.96)], 'bulk', 'host'), case: 'bulk 64 KiB c2s' },
      { ...result('standin', [conn(1)], 'conn', 'host'), case: 'conn x1' },
      { ...result('net-pair', [conn(0.9)], 'conn', 'host'), case: 'conn x1' },
      { ...result('standin', [rtt(11)], 'rtt', 'host'), case: 'rtt 64 B' },
      { ...result('net-pair', [rtt(10)], 'rtt', 'host'), case: 'rtt 64 B' },
    ]);
    const host = Object.fromEntries(
      targets(rows)
        .filter((c: { place: string; what: string }) => c.place === 'host' && c.what.includes('net-pair'))
        .map((c: { what: string; value: number; met: boolean }) => [c.what, [Number(c.value.toFixed(3)), c.met]]),
    );
    expect(host).toEqual({
      'bulk 64 KiB c2s vs net-pair': [0.96, true], // 64 MiB in 1 s against 0.96 s
      'conn x1 vs net-pair': [0.9, false],
      'rtt 64 B median vs net-pair': [1.1, true],
    });
  });

  it('compares run k with run k: a slow run slows every transport of it alike', async () => {
    const { summarize, targets } = await load('../bench/lib/report.mjs');
    // Run 2 is twice as slow for both (the instruction clock's interleaving): per run 0.8 and 0.8;
    // the ratio of the medians (2 s ÷ 3 s) would say 0.67.
    const rows = summarize([
      result('hvsock', [sample(2.5), sample(5), sample(2)]),
      result('hvsock-poll', [sample(2), sample(4), sample(1.6)]),
    ]);
    const poll = targets(rows).find((c: { what: string }) => c.what.includes('default ÷ poll'));
    expect([poll.value, poll.low, poll.high].map((v: number) => Number(v.toFixed(3)))).toEqual([0.8, 0.8, 0.8]);
  });

  it('checks round trips by their median', async () => {
    const { summarize, targets } = await load('../bench/lib/report.mjs');
    const rtt = (medianUs: number) => ({ seconds: 1, bytes: 0, ops: 1000, medianUs, p99Us: medianUs * 2 });
    const rows = summarize([
      result('hvsock', [rtt(300)], 'rtt'),
      result('c-vsock', [rtt(100)], 'rtt'),
      result('net-tcp', [rtt(250)], 'rtt'),
      result('c-tcp', [rtt(80)], 'rtt'),
    ]);
    const cost = targets(rows).find((c: { what: string }) => c.what.includes('(hvsock − c-vsock)'));
    expect(cost.value).toBeCloseTo(200 / 170, 6);
    expect(cost.met).toBe(false);
  });
});
