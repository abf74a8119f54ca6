// Addressing: GUIDs, well-known ids, the VSOCK template, {vmId, serviceId} ->
// {cid, port} mapping and argument validation. Pure: no sockets.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { hvsock } from '../helpers/hvsock';

const { VmId, Cid, serviceIdFromPort, portFromServiceId, isGuid, parseGuid, guidToBytes, guidFromBytes } = hvsock;

describe('GUIDs', () => {
  it('parses any case, with or without braces, to canonical lowercase', () => {
    expect(parseGuid('A42E7CDA-D03F-480C-9CC2-A4DE20ABB878')).toBe(VmId.PARENT);
    expect(parseGuid('{a42e7cda-d03f-480c-9cc2-a4de20abb878}')).toBe(VmId.PARENT);
    expect(isGuid('{a42e7cda-d03f-480c-9cc2-a4de20abb878')).toBe(false);
    expect(isGuid('a42e7cda-d03f-480c-9cc2-a4de20abb87')).toBe(false);
    expect(isGuid(42)).toBe(false);
  });

  it.each([
    ['not a guid', 'ERR_INVALID_ARG_VALUE', TypeError],
    ['a42e7cdad03f480c9cc2a4de20abb878', 'ERR_INVALID_ARG_VALUE', TypeError],
    ['{a42e7cda-d03f-480c-9cc2-a4de20abb878', 'ERR_INVALID_ARG_VALUE', TypeError],
    ['g42e7cda-d03f-480c-9cc2-a4de20abb878', 'ERR_INVALID_ARG_VALUE', TypeError],
    [42, 'ERR_INVALID_ARG_TYPE', TypeError],
    [null, 'ERR_INVALID_ARG_TYPE', TypeError],
  ])('rejects %j with %s', (value, code, type) => {
    expect(() => parseGuid(value, 'vmId')).toThrow(type);
    expect(() => parseGuid(value, 'vmId')).toThrow(expect.objectContaining({ code }));
  });

  it('lays out bytes as Windows does (Data1-3 little-endian)', () => {
    const bytes = guidToBytes('00112233-4455-6677-8899-aabbccddeeff');
    expect(Buffer.from(bytes).toString('hex')).toBe('33221100554477668899aabbccddeeff');
    expect(guidFromBytes(bytes)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    for (const id of Object.values(VmId)) expect(guidFromBytes(guidToBytes(id))).toBe(id);
  });
});

describe('well-known ids', () => {
  it('are frozen and canonical', () => {
    expect(Object.isFrozen(VmId)).toBe(true);
    expect(Object.isFrozen(Cid)).toBe(true);
    expect(VmId).toEqual({
      WILDCARD: '00000000-0000-0000-0000-000000000000',
      ZERO: '00000000-0000-0000-0000-000000000000',
      BROADCAST: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      CHILDREN: '90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd',
      LOOPBACK: 'e0e16197-dd56-4a10-9195-5ee7a155a838',
      PARENT: 'a42e7cda-d03f-480c-9cc2-a4de20abb878',
      SILOHOST: '36bd0c5c-7276-4223-88ba-7d03b654c568',
    });
    expect(Cid).toEqual({ ANY: 0xffffffff, HYPERVISOR: 0, LOCAL: 1, HOST: 2 });
  });
});

describe('VSOCK service-id template', () => {
  it.each([
    [0, '00000000-facb-11e6-bd58-64006a7986d3'],
    [22, '00000016-facb-11e6-bd58-64006a7986d3'],
    [5000, '00001388-facb-11e6-bd58-64006a7986d3'],
    [0x7fffffff, '7fffffff-facb-11e6-bd58-64006a7986d3'],
    [0xffffffff, 'ffffffff-facb-11e6-bd58-64006a7986d3'],
  ])('port %d <-> %s', (port, id) => {
    expect(serviceIdFromPort(port)).toBe(id);
    expect(portFromServiceId(id)).toBe(port);
    expect(portFromServiceId(`{${id.toUpperCase()}}`)).toBe(port);
    expect(hvsock.isVsockServiceId(id)).toBe(true);
  });

  it.each([-1, 0x100000000, 1.5, NaN, Infinity])('serviceIdFromPort(%d) is a RangeError', (port) => {
    expect(() => serviceIdFromPort(port)).toThrow(RangeError);
    expect(() => serviceIdFromPort(port)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('rejects a service id outside the template with a clear error', () => {
    expect(hvsock.isVsockServiceId(VmId.PARENT)).toBe(false);
    expect(() => portFromServiceId(VmId.PARENT)).toThrow(
      expect.objectContaining({ code: 'ERR_HVSOCK_UNSUPPORTED_ADDRESS', name: 'HvsockError' }),
    );
  });

  it('maps well-known CIDs back to VM ids', () => {
    expect(hvsock.vmIdFromCid(Cid.ANY)).toBe(VmId.WILDCARD);
    expect(hvsock.vmIdFromCid(Cid.LOCAL)).toBe(VmId.LOOPBACK);
    expect(hvsock.vmIdFromCid(Cid.HOST)).toBe(VmId.PARENT);
    expect(hvsock.vmIdFromCid(3)).toBeUndefined();
  });
});

// The mapping is observable without connecting: listen() reports the
// endpoint it bound in address(), and bad input throws synchronously.
describe('VmId.ZERO (HV_GUID_ZERO)', () => {
  // Pure translation (dist/address/index.js, dist/win/address.js): no socket is made.
  const { resolveVsockAddress }: typeof import('../../lib/address/index') = createRequire(__filename)('../../dist/address/index.js');
  const { resolveHyperVAddress }: typeof import('../../lib/win/address') = createRequire(__filename)('../../dist/win/address.js');

  it("connect: the parent, CID 2, as Microsoft's Hyper-V sockets guide uses it from a VM", () => {
    expect(VmId.ZERO).toBe(VmId.WILDCARD);
    expect(resolveVsockAddress({ vmId: VmId.ZERO, serviceId: serviceIdFromPort(5000) }, 'connect')).toMatchObject({
      cid: Cid.HOST,
      port: 5000,
    });
    expect(resolveVsockAddress(hvsock.parseAddress('hvsock://zero/5000'), 'connect')).toMatchObject({ cid: Cid.HOST, port: 5000 });
  });

  it('listen: any partition, CID ANY', () => {
    expect(resolveVsockAddress({ vmId: VmId.ZERO, port: 5000 }, 'listen')).toMatchObject({ cid: Cid.ANY, port: 5000 });
  });

  it('CHILDREN still names no peer to connect to', () => {
    expect(() => resolveVsockAddress({ vmId: VmId.CHILDREN, port: 5 }, 'connect')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('Windows passes ZERO through unchanged in both roles', () => {
    const serviceId = serviceIdFromPort(5000);
    expect(resolveHyperVAddress({ vmId: VmId.ZERO, serviceId }, 'connect')).toEqual({ vmId: VmId.ZERO, serviceId });
    expect(resolveHyperVAddress({ vmId: VmId.ZERO, serviceId }, 'listen')).toEqual({ vmId: VmId.ZERO, serviceId });
  });
});

describe('address options', () => {
  const bad: Array<[string, unknown, string]> = [
    ['no options', undefined, 'ERR_INVALID_ARG_TYPE'],
    // A string is a URI (parseAddress): one that is not fails before any socket exists.
    ['a non-URI string', '1:5', 'ERR_INVALID_ARG_VALUE'],
    ['a URI out of range', 'vsock://1:4294967296', 'ERR_INVALID_ARG_VALUE'],
    ['missing port', { cid: 1 }, 'ERR_INVALID_ARG_TYPE'],
    ['missing vm', { port: 5 }, 'ERR_INVALID_ARG_TYPE'],
    ['negative port', { cid: 1, port: -1 }, 'ERR_OUT_OF_RANGE'],
    ['port > 0xFFFFFFFF', { cid: 1, port: 2 ** 32 }, 'ERR_OUT_OF_RANGE'],
    ['fractional port', { cid: 1, port: 1.5 }, 'ERR_OUT_OF_RANGE'],
    ['string port', { cid: 1, port: '5' }, 'ERR_INVALID_ARG_TYPE'],
    ['negative cid', { cid: -1, port: 5 }, 'ERR_OUT_OF_RANGE'],
    ['cid and vmId', { cid: 1, vmId: VmId.LOOPBACK, port: 5 }, 'ERR_INVALID_ARG_VALUE'],
    ['port and serviceId', { cid: 1, port: 5, serviceId: serviceIdFromPort(5) }, 'ERR_INVALID_ARG_VALUE'],
    ['bad vmId', { vmId: 'parent', port: 5 }, 'ERR_INVALID_ARG_VALUE'],
    ['bad serviceId', { cid: 1, serviceId: 'x' }, 'ERR_INVALID_ARG_VALUE'],
    ['children vmId', { vmId: VmId.CHILDREN, port: 5 }, 'ERR_INVALID_ARG_VALUE'],
    ['vmId without a CID', { vmId: VmId.SILOHOST, port: 5 }, 'ERR_HVSOCK_UNSUPPORTED_ADDRESS'],
    ['broadcast vmId', { vmId: VmId.BROADCAST, port: 5 }, 'ERR_HVSOCK_UNSUPPORTED_ADDRESS'],
    ['service id outside the template', { cid: 1, serviceId: VmId.PARENT }, 'ERR_HVSOCK_UNSUPPORTED_ADDRESS'],
    ['zero connectTimeout', { cid: 1, port: 5, connectTimeout: 0 }, 'ERR_OUT_OF_RANGE'],
    ['string connectTimeout', { cid: 1, port: 5, connectTimeout: '5' }, 'ERR_INVALID_ARG_TYPE'],
    ['huge bufferSize', { cid: 1, port: 5, bufferSize: 2 ** 33 }, 'ERR_OUT_OF_RANGE'],
    ['bad allowHalfOpen', { cid: 1, port: 5, allowHalfOpen: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    ['bad signal', { cid: 1, port: 5, signal: {} }, 'ERR_INVALID_ARG_TYPE'],
  ];
  it.each(bad)('connect() with %s throws %s before touching a socket', (_label, options, code) => {
    expect(() => hvsock.connect(options as never)).toThrow(expect.objectContaining({ code }));
  });

  it('connect() rejects a non-function listener', () => {
    expect(() => hvsock.connect({ cid: 1, port: 5 }, 'x' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it.each([
    [{ port: -1 }, 'ERR_OUT_OF_RANGE'],
    [{ vmId: VmId.PARENT, serviceId: 'nope' }, 'ERR_INVALID_ARG_VALUE'],
    [{ vmId: VmId.SILOHOST }, 'ERR_HVSOCK_UNSUPPORTED_ADDRESS'],
    [{ backlog: -1 }, 'ERR_OUT_OF_RANGE'],
    [{ backlog: '5' }, 'ERR_INVALID_ARG_TYPE'],
    [{ bufferMinSize: 0 }, 'ERR_OUT_OF_RANGE'],
  ])('listen(%j) throws %s', (options, code) => {
    const server = hvsock.createServer();
    expect(() => server.listen(options as never)).toThrow(expect.objectContaining({ code }));
    expect(server.listening).toBe(false);
  });
});
