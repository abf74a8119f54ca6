// Which LeakSanitizer reports fail `npm run test:asan` (test/sanitizers/asan.mjs):
// the leak must have been allocated by our addon, not merely have our frame
// somewhere below Node's own allocation. The first case is the report that
// failed CI once: Node's napi_create_function bundle, leaked by a child that
// left through process.exit().
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM script without types
import { classify } from './asan.mjs';

const ASAN = '#0 0x7f1daf855ffd  (/usr/lib/gcc/x86_64-linux-gnu/12/libasan.so+0xb7ffd)';
const NODE = (n: number) => `#${n} 0x116728d  (/usr/bin/node+0x116728d)`;
const OURS = (n: number) => `#${n} 0x7f1d8aedc424  (/w/build-asan/build/Release/hvsock.node+0x28424) Init native/addon.cc:40`;
const STDCXX = (n: number) => `#${n} 0x7f1d8aedc000  (/usr/lib/x86_64-linux-gnu/libstdc++.so.6+0x1234)`;

function report(kind: 'Direct' | 'Indirect', frames: string[]): string {
  return `==1==ERROR: LeakSanitizer: detected memory leaks\n\n${kind} leak of 64 byte(s) in 1 object(s) allocated from:\n    ${frames.join('\n    ')}\n\n`;
}
const ours = (text: string) => classify(text).map((finding: { ours: boolean }) => finding.ours);

describe('asan leak classification', () => {
  it("ignores Node's own allocation made during our call (napi_create_function)", () => {
    expect(ours(report('Direct', [ASAN, NODE(1), NODE(2), OURS(3), NODE(4)]))).toEqual([false]);
  });
  it('fails on a block our code allocated with new', () => {
    expect(ours(report('Direct', [ASAN, OURS(1), NODE(2)]))).toEqual([true]);
  });
  it('looks through libstdc++ (std::string, std::vector growth) to the caller', () => {
    expect(ours(report('Direct', [ASAN, STDCXX(1), OURS(2), NODE(3)]))).toEqual([true]);
    expect(ours(report('Direct', [ASAN, STDCXX(1), NODE(2), OURS(3)]))).toEqual([false]);
  });
  it('leaves indirect leaks to their direct root', () => {
    expect(ours(report('Indirect', [ASAN, OURS(1), NODE(2)]))).toEqual([false]);
  });
  it('counts every AddressSanitizer and UBSan error as ours', () => {
    const text =
      '==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\nnative/io.cc:3:5: runtime error: load of misaligned address\n';
    expect(
      classify(text)
        .map((finding: { kind: string }) => finding.kind)
        .sort(),
    ).toEqual(['asan', 'ubsan']);
  });
});
