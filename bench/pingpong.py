#!/usr/bin/env python3
"""The control for bench/cpu-split.mjs: the same 64-byte ping-pong, both ends
on one single-threaded epoll loop as in Node, written in Python, over vsock
loopback, TCP and a unix socketpair. Prints per round trip the wall time, the
process's user and system CPU and the machine's context switches.

If Python pays vsock_loopback's kernel-thread switches (8 per round trip)
without its user CPU blowing up, while Node's main thread does blow up, the
cost is how the emulated CPU runs Node's code next to those switches, not
work that hvsock (or Node) adds. Run in the rig's guest only (it connects
AF_VSOCK sockets):

    node test/vm/run.mjs python3 bench/pingpong.py [rounds]
"""
import os
import selectors
import socket
import sys
import time

MARKER = 'hvsock.testguest=1'


def in_test_guest():
    try:
        with open('/proc/cmdline') as f:
            return MARKER in f.read().split()
    except OSError:
        return False


def context_switches():
    with open('/proc/stat') as f:
        for line in f:
            if line.startswith('ctxt '):
                return int(line.split()[1])
    return 0


def connected_pair(kind, port):
    if kind == 'unix':
        return socket.socketpair()
    if kind == 'vsock':
        listener = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        listener.bind((socket.VMADDR_CID_ANY, port))
        address = (1, port)  # vsock_loopback
    else:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('127.0.0.1', 0))
        address = listener.getsockname()
    listener.listen()
    client = socket.socket(listener.family, socket.SOCK_STREAM)
    client.connect(address)
    server, _ = listener.accept()
    listener.close()
    if kind == 'tcp':
        for end in (client, server):
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client, server


def ping_pong(client, server, rounds):
    """Round-trip times in µs; the server end echoes, the client end sends the next message."""
    for end in (client, server):
        end.setblocking(False)
    loop = selectors.EpollSelector()
    loop.register(client, selectors.EVENT_READ, 'client')
    loop.register(server, selectors.EVENT_READ, 'server')
    message = b'p' * 64
    times, pending = [], 0
    sent_at = time.perf_counter()
    client.send(message)
    while len(times) < rounds:
        for key, _ in loop.select():
            data = key.fileobj.recv(65536)
            if key.data == 'server':
                server.send(data)
                continue
            pending += len(data)
            while pending >= 64 and len(times) < rounds:
                pending -= 64
                now = time.perf_counter()
                times.append((now - sent_at) * 1e6)
                sent_at = now
                if len(times) < rounds:
                    client.send(message)
    loop.close()
    return times


def measure(kind, rounds, port):
    client, server = connected_pair(kind, port)
    ping_pong(client, server, rounds // 4)  # warm-up
    cpu, switches = os.times(), context_switches()
    times = ping_pong(client, server, rounds)
    used, switched = os.times(), context_switches() - switches
    client.close()
    server.close()
    times.sort()
    return {
        'median': times[len(times) // 2],
        'p99': times[int(len(times) * 0.99)],
        'user': (used.user - cpu.user) * 1e6 / rounds,
        'system': (used.system - cpu.system) * 1e6 / rounds,
        'switches': switched / rounds,
    }


def main():
    if not in_test_guest():
        sys.exit(f'refusing vsock connect outside the test guest (no "{MARKER}" in /proc/cmdline): '
                 'run it through node test/vm/run.mjs')
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print('| transport | median RTT µs | p99 RTT µs | user µs/round trip | system µs/round trip | context switches/round trip |')
    print('|---|---|---|---|---|---|')
    for index, kind in enumerate(('vsock', 'tcp', 'unix')):
        r = measure(kind, rounds, 47000 + index)
        print(f"| python {kind} | {r['median']:.0f} | {r['p99']:.0f} | {r['user']:.0f} | {r['system']:.0f} | {r['switches']:.1f} |")


if __name__ == '__main__':
    main()
