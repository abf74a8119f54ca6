// Smoke test of the rig itself (test/vm/run.mjs): proves we are in the guest
// and that its kernel carries AF_VSOCK stream traffic over vsock_loopback
// (CID 1). Uses Python's socket module, not our addon, so it says nothing
// about the addon and works before the addon builds.
// Run: npm run vm -- node_modules/.bin/vitest run test/rig.test.ts
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { assertInTestGuest, cmdlineHasMarker, inTestGuest } from './helpers/guest';

// The system python: a pyenv shim is a bash script, slow to start under TCG.
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Listens on (ANY, PORT_ANY), connects to (1, port), sends stdin, half-closes,
// reads the echo. Prints JSON so the assertions live here, not in Python.
const ECHO = `
import json, socket, sys, threading
payload = sys.stdin.buffer.read()
srv = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
srv.bind((socket.VMADDR_CID_ANY, socket.VMADDR_PORT_ANY))
srv.listen(1)
port = srv.getsockname()[1]
peer = {}
def serve():
    conn, addr = srv.accept()
    peer["cid"] = addr[0]
    with conn:
        while True:
            d = conn.recv(65536)
            if not d:
                break
            conn.sendall(d)
t = threading.Thread(target=serve)
t.start()
cli = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
cli.settimeout(30)
cli.connect((1, port))
cli.sendall(payload)
cli.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    d = cli.recv(65536)
    if not d:
        break
    got += d
cli.close()
t.join(30)
print(json.dumps({"port": port, "peerCid": peer.get("cid"), "echo": got.hex()}))
`;

describe('test rig guest', () => {
  it('is the rig guest (marker on the kernel command line)', () => {
    expect(cmdlineHasMarker('console=ttyS0 hvsock.testguest=1 quiet')).toBe(true);
    expect(cmdlineHasMarker('hvsock.testguest=10 xhvsock.testguest=1')).toBe(false);
    expect(inTestGuest()).toBe(true);
    expect(() => assertInTestGuest()).not.toThrow();
    expect(existsSync('/dev/vsock')).toBe(true);
  });

  it('echoes bytes over AF_VSOCK on CID 1 through the real kernel', () => {
    assertInTestGuest();
    const payload = randomBytes(256 * 1024);
    const r = spawnSync(python, ['-c', ECHO], { input: payload, encoding: 'utf8', timeout: 50_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { port: number; peerCid: number; echo: string };
    expect(out.port).toBeGreaterThan(0);
    expect(out.peerCid).toBe(1); // loopback: the client's address as the server sees it
    expect(Buffer.from(out.echo, 'hex').equals(payload)).toBe(true);
  });
});
