// ES module TypeScript against hvsock's types (type-checked only, never run:
// it connects). Shows the typed surface a user writes against.
import * as https from 'node:https';
import * as tls from 'node:tls';
import { Cid, connect, createHttpsAgent, parseAddress, vsockAddressOf, type HvsockSocket, type VsockConnectionAddresses } from 'hvsock';

export function echo(port: number, payload: string): Promise<string> {
  const socket: HvsockSocket = connect({ cid: Cid.LOCAL, port, connectTimeout: 1_000 });
  const cid: number | undefined = socket.remoteCid;
  void cid;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
    socket.end(payload);
  });
}

export function peerOfTls(socket: tls.TLSSocket): number | undefined {
  const addresses: VsockConnectionAddresses | undefined = vsockAddressOf(socket);
  return addresses?.remote?.cid;
}

export const agent: https.Agent = createHttpsAgent(parseAddress('vsock://2:443'), { keepAlive: true });
