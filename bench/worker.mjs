// A benchmark worker for one transport, forked by lib/suite.mjs with
// --expose-gc. It stays up across cases (under TCG a Node start costs ~1.5 s)
// and answers each { scenario, params, options } message with one sample
// { sample } or { error }. Transports never share a process, a heap or a
// libuv loop, and node-vsock's leftover threads die with its worker.
import { scenarios } from './lib/scenarios.mjs';
import { transport } from './lib/transports.mjs';

const name = process.argv[2];

process.on('message', async (job) => {
  try {
    const run = scenarios[job.scenario];
    if (!run) throw new Error(`unknown scenario ${job.scenario}`);
    process.send({ sample: await run(transport(name, job.options), job.params) });
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
