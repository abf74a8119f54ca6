#!/usr/bin/env node
// HTTP over vsock, the host side: undici's fetch with a dispatcher whose
// connections are vsock sockets (hvsock.createUndiciConnector). The URL's
// host only fills the Host header; the connector decides where bytes go.
//   node host-fetch.js CID PORT [/path]
//     Linux/KVM host: CID is the guest's (QEMU guest-cid=N); 1 is loopback
//   node host-fetch.js hvsock://VMID/PORT [/path]
//     Windows host: VMID from (Get-VM NAME).Id; PORT maps to service id
//     PORT-facb-11e6-bd58-64006a7986d3
// Needs undici next to hvsock: npm install hvsock undici. (undici.fetch,
// not the global fetch: Node's built-in fetch may not accept a dispatcher
// made by a different undici version.)
// Prints the status line and the body; exits 1 unless the status is 2xx.
'use strict';
const undici = require('undici');
const hvsock = require('hvsock');

async function main() {
  const args = process.argv.slice(2);
  const address = args[0]?.includes('://') ? args.shift() : { cid: Number(args.shift()), port: Number(args.shift()) };
  const path = args[0] ?? '/hello';
  const dispatcher = new undici.Agent({ connect: hvsock.createUndiciConnector(address) });
  try {
    const response = await undici.fetch(`http://vsock${path}`, { dispatcher });
    console.log(`${response.status} ${response.statusText}`);
    process.stdout.write(await response.text());
    if (!response.ok) process.exitCode = 1;
  } finally {
    await dispatcher.close();
  }
}

main().catch((error) => {
  // fetch wraps the socket's error: the vsock one (code, hint) is its cause.
  console.error(`host-fetch: ${error.cause?.message ?? error.message}`);
  process.exitCode = 1;
});
