#!/usr/bin/env python3
"""The Python reference peer: the standard socket module, blocking calls,
with the same roles and scenarios as bench/c/vsock-loop.c (run by
bench/lib/peers.mjs, one process per end):

    peer.py server <vsock|tcp> <port> <bulk|rtt|conn> <args...>   prints "ready", serves
    peer.py client <vsock|tcp> <port> <bulk|rtt|conn> <args...>   prints one JSON sample

bulk <bytes> <write-size>, rtt <rounds> <size>, conn <count>. AF_VSOCK only
inside the rig's guest.
"""
import json
import socket
import sys
import time

from pingpong import in_test_guest  # the same marker check, beside this file


def read_exactly(sock, n, buf=None):
    view = memoryview(buf if buf is not None else bytearray(n))[:n]
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            raise EOFError(f'closed after {got} of {n} bytes')
        got += k
    return view


def main():
    role, kind, port, scenario, *args = sys.argv[1:]
    port, args = int(port), [int(a) for a in args]
    if kind == 'vsock' and not in_test_guest():
        sys.exit('peer.py: refusing AF_VSOCK outside the test guest')
    family, address = (socket.AF_VSOCK, (socket.VMADDR_CID_LOCAL if hasattr(socket, 'VMADDR_CID_LOCAL') else 1, port)) \
        if kind == 'vsock' else (socket.AF_INET, ('127.0.0.1', port))
    if role == 'server':
        listener = socket.socket(family, socket.SOCK_STREAM)
        if kind == 'tcp':
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((socket.VMADDR_CID_ANY, port) if kind == 'vsock' else address)
        listener.listen(4096)
        print('ready', flush=True)
        serve(listener, scenario, args)
        return
    client(lambda: socket.create_connection(address) if kind == 'tcp' else connect_vsock(address), scenario, args)


def connect_vsock(address):
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    s.connect(address)
    return s


def serve(listener, scenario, args):
    if scenario == 'bulk':
        total, size = args
        conn, _ = listener.accept()
        buf = bytearray(size)
        got = 0
        while got < total:
            k = conn.recv_into(buf, min(size, total - got))
            if k == 0:
                sys.exit(f'peer.py: closed after {got} of {total} bytes')
            got += k
        conn.sendall(b'k')
        conn.close()
    elif scenario == 'rtt':
        rounds, size = args
        conn, _ = listener.accept()
        buf = bytearray(size)
        for _ in range(rounds):
            conn.sendall(read_exactly(conn, size, buf))
        conn.close()
    elif scenario == 'conn':
        for _ in range(args[0]):
            conn, _ = listener.accept()
            conn.sendall(read_exactly(conn, 1))
            conn.recv(1)  # the client's close
            conn.close()
    listener.close()


def client(dial, scenario, args):
    now = time.monotonic
    if scenario == 'bulk':
        total, size = args
        conn = dial()
        block = b'x' * size
        start = now()
        left = total
        while left > 0:
            n = min(size, left)
            conn.sendall(block if n == size else block[:n])
            left -= n
        read_exactly(conn, 1)
        out = {'seconds': now() - start, 'bytes': total, 'ops': 1}
    elif scenario == 'rtt':
        rounds, size = args
        conn = dial()
        buf = bytearray(size)
        micros = []
        start = sent = now()
        for _ in range(rounds):
            conn.sendall(buf)
            read_exactly(conn, size, buf)
            back = now()
            micros.append((back - sent) * 1e6)
            sent = back
        out = {'seconds': now() - start, 'bytes': rounds * size * 2, 'ops': rounds}
        micros.sort()
        out.update(medianUs=micros[rounds // 2], p99Us=micros[min(rounds - 1, rounds * 99 // 100)])
    else:
        count = args[0]
        start = now()
        for _ in range(count):
            conn = dial()
            conn.sendall(b'c')
            read_exactly(conn, 1)
            conn.close()
        out = {'seconds': now() - start, 'bytes': count * 2, 'ops': count}
        conn = None
    if conn is not None:
        conn.close()
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
