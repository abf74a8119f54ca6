#!/usr/bin/env node
// `npm run test:asan`: the real-socket suites against an ASan+UBSan build of
// the addon, in the test guest.
//
// On the host: builds build-asan/ (test/sanitizers/build.mjs), then runs this
// file again inside the guest (test/vm/run.mjs) with --in-guest.
// In the guest: runs vitest with the sanitizer runtime preloaded (Node itself
// is not instrumented, and ASan must come first in the process) and
// HVSOCK_ADDON_PATH pointing lib/binding.ts at the sanitizer build, then reads
// every report the runtimes wrote and fails on:
//   - any AddressSanitizer error (use-after-free, overflow, double free, ...)
//     or UBSan runtime error anywhere: these also abort the process at once
//     (halt_on_error, -fno-sanitize-recover=all), so the suite fails too;
//   - any LeakSanitizer *direct* leak allocated by hvsock.node: the first
//     frame below the allocator (libasan, libstdc++, libc) is in our addon.
//     Blocks Node allocates for us (napi_create_function's callback bundle,
//     napi_wrap's reference) have a Node frame there and our frame further
//     down: Node owns and frees them at environment teardown, which
//     process.exit() skips, so a child that exits that way leaks them now and
//     then (LSan cannot see pointers held only in V8's mmap'd heap). Leaks
//     allocated by Node/V8/libuv are counted and ignored: not ours to fix.
//     The price: a napi_ref we forgot to delete would pass as Node's.
//     Indirect leaks are blocks reachable only from other leaked blocks: a
//     leak of ours always has a direct root allocated by us, while indirect
//     ones with our frames are V8 objects our init created, still held by
//     Node's own leaked heap.
//     (A suppression file cannot express this: LSan suppresses a leak when
//     any frame matches, and every leak of ours has Node frames below it.)
//
//   node test/sanitizers/asan.mjs [vitest file filters...]
// Without filters: DEFAULT_FILES, then POLL_FILES again with HVSOCK_IO=poll.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asanAddon, asanDir, buildAsan } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_FILES = ['test/socket.test.ts', 'test/server.test.ts', 'test/lifecycle.test.ts', 'test/linux/poll/seqpacket.test.ts'];
// A second pass with HVSOCK_IO=poll: the stream poll path (native/addon_io.cc
// read/writev, native/addon_poller.cc, the accept loop and its EMFILE handling),
// which the default pass reaches only through seqpacket. The overload test's
// server children inherit LD_PRELOAD and the sanitizer build.
const POLL_FILES = ['test/socket.test.ts', 'test/linux/poll/accept-overload.test.ts'];
// The 1 GiB transfers run through Node's own Pipe handle, not the addon, and
// take minutes under TCG with the ASan allocator: the main suite covers them.
const SKIP_BULK = ['-t', '^(?!.*1 GiB)'];
// A frame in our addon: its module path, or one of its sources when symbolized.
const OUR_FRAME = /hvsock\.node|native\/\w+\.(?:cc|h):/;
// Frames of the allocator itself, skipped to find who asked for the memory.
const ALLOCATOR_FRAME = /\/(?:libasan|libstdc\+\+|libc|libgcc_s)[.-][^)]*\)/;

/** Whether a leak's allocating frame (the first one past the allocator) is ours. */
function allocatedByUs(body) {
  const frames = body.split('\n').filter((line) => /^\s*#\d+ /.test(line));
  const caller = frames.find((frame) => !ALLOCATOR_FRAME.test(frame));
  return caller !== undefined && OUR_FRAME.test(caller);
}

function libasan() {
  const found = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim();
  if (!found || !found.startsWith('/')) throw new Error('libasan not found (gcc -print-file-name=libasan.so): install gcc');
  return found;
}

/** Splits one sanitizer log into reports; classifies each. */
export function classify(text) {
  const findings = [];
  // LeakSanitizer: one block per leak, "Direct/Indirect leak of N byte(s) ..." then frames.
  const leakBlocks = text.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1);
  for (const block of leakBlocks) {
    const body = block.split(/\n\n/)[0];
    findings.push({ kind: 'leak', ours: body.startsWith('Direct') && allocatedByUs(body), text: body });
  }
  for (const match of text.matchAll(/ERROR: AddressSanitizer: [^\n]*/g))
    findings.push({ kind: 'asan', ours: true, text: text.slice(match.index, match.index + 4000) });
  for (const match of text.matchAll(/[^\n]*runtime error: [^\n]*/g))
    findings.push({ kind: 'ubsan', ours: true, text: text.slice(match.index, match.index + 4000) });
  return findings;
}

/** Appends function and source line to frames in our addon ("(…/hvsock.node+0x1234)"). */
function symbolizeOurFrames(text) {
  return text.replace(/\((\/[^()\s]*hvsock\.node)\+(0x[0-9a-f]+)\)/g, (whole, module, offset) => {
    const out = spawnSync('addr2line', ['-f', '-C', '-e', module, offset], { encoding: 'utf8' }).stdout?.trim().split('\n');
    return out?.length === 2 ? `${whole} ${out[0]} ${out[1]}` : whole;
  });
}

function inGuest(passes) {
  const logs = join(asanDir, 'logs');
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  // symbolize=0 and a short malloc_context_size: Node leaks ~600 objects
  // when a script calls process.exit(), and collecting/symbolizing 40-frame
  // stacks for them took ~45 s per process exit under TCG (5 s like this).
  // Frames in our addon are symbolized afterwards with addr2line.
  const common = `log_path=${join(logs, 'report')}:print_stacktrace=1:halt_on_error=1:symbolize=0`;
  const env = {
    ...process.env,
    LD_PRELOAD: libasan(),
    HVSOCK_ADDON_PATH: asanAddon,
    HVSOCK_FIXTURE_TIMEOUT_MS: '150000', // fixtures' exits are leak-checked (seconds each under TCG)
    // detect_leaks runs LSan at process exit. The default fast (frame
    // pointer) unwinder is enough: Node's official builds keep frame
    // pointers, so a leak allocated inside Node on our behalf (a napi
    // reference never deleted) still shows our frames; the slow unwinder
    // made the run 6x slower.
    ASAN_OPTIONS: `${common}:detect_leaks=1:malloc_context_size=12:abort_on_error=0:exitcode=66`,
    LSAN_OPTIONS: 'exitcode=0', // leaks decide below, by whose frames they have
    UBSAN_OPTIONS: `${common}:abort_on_error=0:exitcode=67`,
  };
  const started = Date.now();
  // Threads, not vitest's default forks: vitest kills its fork workers, so
  // LSan never runs in them; worker threads end with the process, which
  // exits normally and checks everything (the build is linked -z nodelete so
  // the addon's frames stay nameable after a Worker unloads it).
  // One file at a time: the suites compare /proc/self/fd counts, which
  // threads share.
  const statuses = passes.map(({ files, io }) => {
    const args = ['run', '--pool=threads', '--no-file-parallelism', '--testTimeout=200000', ...files, ...SKIP_BULK];
    const passEnv = io === undefined ? env : { ...env, HVSOCK_IO: io };
    console.log(`\n[asan] vitest ${files.join(' ')}${io === undefined ? '' : ` (HVSOCK_IO=${io})`}`);
    const vitest = spawnSync(join(root, 'node_modules', '.bin', 'vitest'), args, { cwd: root, env: passEnv, stdio: 'inherit' });
    return vitest.status ?? vitest.signal;
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const findings = readdirSync(logs).flatMap((name) => classify(readFileSync(join(logs, name), 'utf8')).map((f) => ({ ...f, file: name })));
  const fatal = findings.filter((f) => f.ours);
  const foreign = findings.filter((f) => !f.ours);
  for (const f of fatal) console.log(`\n[asan] ${f.kind} (${f.file}):\n${symbolizeOurFrames(f.text)}`);
  console.log(
    `\n[asan] vitest exit ${statuses.join(', ')} in ${seconds}s; sanitizer reports: ${fatal.length} in our code, ${foreign.length} leaks of Node/V8 (ignored)`,
  );
  return statuses.every((status) => status === 0) && fatal.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--in-guest') {
    const files = args.slice(1);
    // Files given: one pass over them, on the I/O path the environment picks.
    const passes = files.length ? [{ files }] : [{ files: DEFAULT_FILES }, { files: POLL_FILES, io: 'poll' }];
    process.exit(inGuest(passes));
  }
  buildAsan();
  const rig = spawnSync(
    process.execPath,
    [join(root, 'test', 'vm', 'run.mjs'), 'node', 'test/sanitizers/asan.mjs', '--in-guest', ...args],
    { cwd: root, stdio: 'inherit' },
  );
  process.exit(rig.status ?? 1);
}
