// A CommonJS project using hvsock: require() by name, pure helpers, and a
// server bound to CID ANY on an ephemeral port. Never connects (on a bare
// host a vsock connect would leave the machine): safe to run anywhere.
'use strict';
const assert = require('node:assert/strict');
const hvsock = require('hvsock');

assert.equal(hvsock.serviceIdFromPort(5000), '00001388-facb-11e6-bd58-64006a7986d3');
assert.deepEqual(hvsock.parseAddress('vsock://2:5000'), { cid: 2, port: 5000 });
assert.equal(hvsock.formatAddress({ cid: 2, port: 5000 }), 'vsock://2:5000');
assert.ok(Object.isFrozen(hvsock.VmId));
assert.equal(typeof hvsock.vsockAddressOf, 'function');

const server = hvsock.createServer();
server.listen({ cid: hvsock.Cid.ANY, port: hvsock.PORT_ANY }, () => {
  const address = server.address();
  assert.equal(address.family, 'vsock');
  assert.equal(address.cid, hvsock.Cid.ANY);
  server.close(() => console.log(`smoke-cjs ok: listened on vsock port ${address.port}`));
});
