// Node's own modules that only some features need, loaded on first use.
// Every program that opens a socket loads hvsock; importing http, https and
// tls at that point (OpenSSL's start-up with them) and child_process cost
// ~8 MiB of RSS per process before a single socket existed, for helpers
// most programs never call (measured: docs/performance.md, "Memory").
// require() caches them: a later call is a lookup.
import type * as ChildProcess from 'node:child_process';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
export const httpModule = (): typeof Http => require('node:http') as typeof Http;
export const httpsModule = (): typeof Https => require('node:https') as typeof Https;
export const tlsModule = (): typeof Tls => require('node:tls') as typeof Tls;
export const childProcessModule = (): typeof ChildProcess => require('node:child_process') as typeof ChildProcess;
/* eslint-enable @typescript-eslint/no-require-imports */
