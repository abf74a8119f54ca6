// A benchmark worker for one transport, forked by lib/suite.mjs with
// --expose-gc. It stays up across cases (under TCG a Node start costs ~1.5 s)
// and answers each { scenario, params, options } message with one sample
// { sample } or { error }. Transports never share a process, a heap or a
// libuv loop, and node-vsock's leftover threads die with its worker.
import { clientEnd, scenarios, serverEnd } from './lib/scenarios.mjs';
import { transport } from './lib/transports.mjs';

const name = process.argv[2];

// With job.role 'server' it answers twice: { ready: port } once listening,
// then { sample: {} } when the client has gone; with 'client' it dials job.port.
process.on('message', async (job) => {
  try {
    const ends = { server: serverEnd, client: clientEnd }[job.role] ?? scenarios;
    const run = ends[job.scenario];
    if (!run) throw new Error(`unknown scenario ${job.role ?? ''} ${job.scenario}`);
    const chosen = transport(name, job.options);
    if (job.role === 'server') {
      const { port, done } = await run(chosen, job.params);
      process.send({ ready: port });
      process.send({ sample: await done });
    } else if (job.role === 'client') process.send({ sample: await run(chosen, job.port, job.params) });
    else process.send({ sample: await run(chosen, job.params) });
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
