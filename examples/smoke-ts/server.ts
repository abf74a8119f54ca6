// CommonJS TypeScript (this package has no "type": "module") against
// hvsock's types: a server and the http helpers. Type-checked only.
import * as http from 'node:http';
import hvsock = require('hvsock');

export function serve(port: number): http.Server {
  const server = http.createServer((request, response) => {
    const remote = hvsock.vsockAddressOf(request.socket)?.remote;
    response.end(`hello vsock ${remote?.cid ?? '?'}:${remote?.port ?? '?'}\n`);
  });
  return hvsock.listenOn(server, { cid: hvsock.Cid.ANY, port }, () => {
    const address = server.address();
    if (address !== null && typeof address === 'object') console.log(`listening on ${address.address}:${address.port}`);
  });
}

export function listener(): hvsock.HvsockServer {
  // HvsockServer / HvsockSocket: a net.Server / net.Socket, or their poll-path twins (io option, HVSOCK_IO).
  const server: hvsock.HvsockServer = hvsock.createServer({ allowHalfOpen: true }, (socket: hvsock.HvsockSocket) => {
    const vmId: string | undefined = socket.remoteVmId;
    socket.end(vmId ?? 'no vm id');
  });
  return server.listen({ port: hvsock.PORT_ANY });
}
