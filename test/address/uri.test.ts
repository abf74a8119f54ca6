// Address URIs: parseAddress / formatAddress, and connect()/listen() taking
// them. Pure: nothing here connects (bad URIs fail before a socket exists).
import { describe, expect, it } from 'vitest';
import { hvsock } from '../helpers/hvsock';

const { parseAddress, formatAddress, VmId, Cid, PORT_ANY, serviceIdFromPort } = hvsock;
const SERVICE = '0a1b2c3d-1111-2222-3333-444455556666';

describe('parseAddress()', () => {
  it.each([
    ['vsock://1:5000', { cid: 1, port: 5000 }],
    ['vsock://0:0', { cid: 0, port: 0 }],
    ['vsock://4294967295:4294967295', { cid: Cid.ANY, port: PORT_ANY }],
    ['vsock://3:080', { cid: 3, port: 80 }],
    ['vsock://any:5000', { cid: Cid.ANY, port: 5000 }],
    ['vsock://ANY:any', { cid: Cid.ANY, port: PORT_ANY }],
    ['vsock://local:1', { cid: Cid.LOCAL, port: 1 }],
    ['vsock://Loopback:2', { cid: Cid.LOCAL, port: 2 }],
    ['vsock://host:22', { cid: Cid.HOST, port: 22 }],
    ['vsock://hypervisor:9', { cid: Cid.HYPERVISOR, port: 9 }],
    ['VSOCK://2:9', { cid: 2, port: 9 }],
  ])('%s -> %j', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });

  it.each([
    ['hvsock://parent/5000', { vmId: VmId.PARENT, serviceId: serviceIdFromPort(5000) }],
    ['hvsock://LOOPBACK/0', { vmId: VmId.LOOPBACK, serviceId: serviceIdFromPort(0) }],
    ['hvsock://wildcard/' + SERVICE, { vmId: VmId.WILDCARD, serviceId: SERVICE }],
    ['hvsock://zero/1', { vmId: VmId.ZERO, serviceId: serviceIdFromPort(1) }],
    ['hvsock://Children/2', { vmId: VmId.CHILDREN, serviceId: serviceIdFromPort(2) }],
    ['hvsock://silohost/3', { vmId: VmId.SILOHOST, serviceId: serviceIdFromPort(3) }],
    ['hvsock://broadcast/4', { vmId: VmId.BROADCAST, serviceId: serviceIdFromPort(4) }],
    [`hvsock://${VmId.PARENT.toUpperCase()}/${SERVICE.toUpperCase()}`, { vmId: VmId.PARENT, serviceId: SERVICE }],
    [`hvsock://{${VmId.PARENT}}/{${SERVICE}}`, { vmId: VmId.PARENT, serviceId: SERVICE }],
    ['HvSock://parent/4294967295', { vmId: VmId.PARENT, serviceId: serviceIdFromPort(0xffffffff) }],
  ])('%s -> %j', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });

  it.each([
    ['', /must be a URI like vsock:\/\/CID:PORT or hvsock:\/\/VMID\/SERVICEID/],
    ['1:5000', /must be a URI/],
    ['vsock:1:5000', /must be a URI/],
    ['tcp://1:5000', /scheme "tcp:"/],
    ['vsock://1', /both parts of vsock:\/\/CID:PORT/],
    ['vsock://:5000', /CID "": use 0\.\.4294967295 or one of any, local, loopback, host, hypervisor/],
    ['vsock://1:', /port "": use 0\.\.4294967295 or any/],
    ['vsock://-1:5000', /CID "-1"/],
    ['vsock://4294967296:1', /CID "4294967296"/],
    ['vsock://1:4294967296', /port "4294967296"/],
    ['vsock://0x10:1', /CID "0x10"/],
    ['vsock://1:1e3', /port "1e3"/],
    ['vsock://1:5000/', /port "5000\/"/],
    ['vsock://parent:5000', /CID "parent"/],
    ['vsock:// 1:5000', /CID " 1"/],
    ['hvsock://parent', /both parts of hvsock:\/\/VMID\/SERVICEID/],
    ['hvsock://host/5000', /VM id "host": use a GUID or one of wildcard, zero, broadcast, children, loopback, parent, silohost/],
    ['hvsock://parent/any', /service id "any": use a GUID or a vsock port/],
    ['hvsock://parent/', /service id ""/],
    ['hvsock://parent/5000/x', /service id "5000\/x"/],
    ['hvsock://{a42e7cda-d03f-480c-9cc2-a4de20abb878/1', /VM id/],
  ])('rejects %j (ERR_INVALID_ARG_VALUE: %s)', (text, message) => {
    let thrown: unknown;
    try {
      parseAddress(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((thrown as Error).message).toMatch(/^The argument 'address' /);
    expect((thrown as Error).message).toMatch(message);
  });

  it('names the argument it was given and rejects non-strings by type', () => {
    expect(() => parseAddress('nope', 'target')).toThrow(/^The argument 'target' must be a URI/);
    for (const value of [undefined, null, 5000, { cid: 1, port: 1 }]) {
      expect(() => parseAddress(value)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }
  });
});

describe('formatAddress()', () => {
  it.each([
    [{ cid: 1, port: 5000 }, 'vsock://1:5000'],
    [{ cid: Cid.ANY, port: PORT_ANY }, 'vsock://4294967295:4294967295'],
    [{ cid: 3, serviceId: serviceIdFromPort(80) }, 'vsock://3:80'],
    [{ vmId: VmId.PARENT, serviceId: SERVICE.toUpperCase() }, `hvsock://${VmId.PARENT}/${SERVICE}`],
    [{ vmId: `{${VmId.LOOPBACK}}`, port: 7 }, `hvsock://${VmId.LOOPBACK}/${serviceIdFromPort(7)}`],
    // server.address() / socket address shapes carry both forms: the numbers win.
    [{ cid: 1, port: 9, vmId: VmId.LOOPBACK, serviceId: serviceIdFromPort(9) }, 'vsock://1:9'],
  ])('%j -> %s', (address, text) => {
    expect(formatAddress(address)).toBe(text);
  });

  it.each([
    [{}, 'ERR_INVALID_ARG_VALUE'],
    [{ cid: 1 }, 'ERR_INVALID_ARG_VALUE'],
    [{ vmId: VmId.PARENT }, 'ERR_INVALID_ARG_VALUE'],
    [{ cid: -1, port: 1 }, 'ERR_INVALID_ARG_VALUE'],
    [{ cid: 1, port: 2 ** 32 }, 'ERR_INVALID_ARG_VALUE'],
    [{ cid: '1', port: 1 }, 'ERR_INVALID_ARG_VALUE'],
    [{ vmId: 'parent', port: 1 }, 'ERR_INVALID_ARG_VALUE'],
    [{ cid: 1, serviceId: SERVICE }, 'ERR_HVSOCK_UNSUPPORTED_ADDRESS'],
    [null, 'ERR_INVALID_ARG_TYPE'],
    ['vsock://1:1', 'ERR_INVALID_ARG_TYPE'],
  ])('rejects %j with %s', (address, code) => {
    expect(() => formatAddress(address as never)).toThrow(expect.objectContaining({ code }));
  });
});

describe('round trips', () => {
  it.each([
    'vsock://1:5000',
    'vsock://0:0',
    'vsock://4294967295:4294967295',
    'vsock://12345:2147483648',
    `hvsock://${VmId.PARENT}/${SERVICE}`,
    `hvsock://${VmId.WILDCARD}/${serviceIdFromPort(5000)}`,
    `hvsock://${VmId.SILOHOST}/${serviceIdFromPort(0xffffffff)}`,
  ])('format(parse(%s)) is the same text', (text) => {
    expect(formatAddress(parseAddress(text))).toBe(text);
  });

  it.each([
    { cid: 7, port: 1024 },
    { vmId: VmId.CHILDREN, serviceId: SERVICE },
    { vmId: VmId.BROADCAST, serviceId: serviceIdFromPort(3) },
  ])('parse(format(%j)) is the same object', (address) => {
    expect(parseAddress(formatAddress(address))).toEqual(address);
  });

  it('canonicalises names and case on the way through', () => {
    expect(formatAddress(parseAddress('vsock://LOCAL:any'))).toBe('vsock://1:4294967295');
    expect(formatAddress(parseAddress('hvsock://Parent/5000'))).toBe(`hvsock://${VmId.PARENT}/00001388-facb-11e6-bd58-64006a7986d3`);
  });
});

describe('URIs in connect() and listen()', () => {
  it('connect() validates a URI synchronously, naming options', () => {
    expect(() => hvsock.connect('vsock://1:x')).toThrow(/^The argument 'options' has port "x"/);
    // Parsed, then refused by the address rules: CHILDREN names no peer to connect to.
    expect(() => hvsock.connect('hvsock://children/5000')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => hvsock.connect('hvsock://silohost/5000')).toThrow(expect.objectContaining({ code: 'ERR_HVSOCK_UNSUPPORTED_ADDRESS' }));
  });

  it('listen() validates a URI synchronously and stays closed', () => {
    const server = hvsock.createServer();
    expect(() => server.listen('vsock://any')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => server.listen('hvsock://silohost/1')).toThrow(expect.objectContaining({ code: 'ERR_HVSOCK_UNSUPPORTED_ADDRESS' }));
    expect(server.listening).toBe(false);
  });
});
