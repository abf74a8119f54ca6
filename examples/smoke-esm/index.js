// An ES module project using hvsock: named imports must come through Node's
// CommonJS interop (static analysis of the CommonJS build), the default
// import is module.exports. Never connects: safe to run anywhere.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import hvsock, { Cid, PORT_ANY, createServer, parseAddress, serviceIdFromPort, vsockAddressOf } from 'hvsock';

assert.equal(serviceIdFromPort(5000), '00001388-facb-11e6-bd58-64006a7986d3');
assert.deepEqual(parseAddress('hvsock://parent/00001388-facb-11e6-bd58-64006a7986d3'), {
  vmId: hvsock.VmId.PARENT,
  serviceId: '00001388-facb-11e6-bd58-64006a7986d3',
});
assert.equal(hvsock.createServer, createServer);
assert.equal(typeof vsockAddressOf, 'function');

const server = createServer().listen({ cid: Cid.ANY, port: PORT_ANY });
await once(server, 'listening');
const { family, port } = server.address();
assert.equal(family, 'vsock');
server.close();
await once(server, 'close');
console.log(`smoke-esm ok: listened on vsock port ${port}`);
