// The Windows overlapped I/O path: a connected SOCKET read and written with
// overlapped WSARecv / WSASend on a private completion port, in the shape
// go-winio runs on real Hyper-V. No Node types; negative libuv-style codes.
//
// Why not libuv's TCP handle (uv_tcp_open, the 'handle' path): libuv's
// write completion never compares the bytes sent with the bytes queued, so
// a partial WSASend completion, which hvsocket can give (microsoft/WSL PR
// #13602), would drop the rest silently; and it reads with a zero-byte
// WSARecv first, which no known hvsocket user does. Here:
// - every read is a WSARecv with a real 64 KiB buffer;
// - a write is reported complete only when every byte of it was sent: a
//   partial completion resends the remainder (the send loop);
// - end() is shutdown(SD_SEND); close is CancelIoEx + closesocket.
// A SOCKET can belong to one completion port only: sockets given to this
// path must never be opened into libuv (and vice versa).
// SO_UPDATE_CONNECT_CONTEXT / SO_UPDATE_ACCEPT_CONTEXT (which go-winio sets
// so that shutdown and names work) are needed only after ConnectEx /
// AcceptEx: the sockets here come from plain connect() / accept() on the
// socket threads of addon_win32.cc, which leave them fully connected.
#ifndef HVSOCK_OVERLAPPED_WIN32_H_
#define HVSOCK_OVERLAPPED_WIN32_H_

#include <stddef.h>
#include <stdint.h>

#include "hvsock.h"

enum hvsock_io_kind { HVSOCK_IO_READ = 1, HVSOCK_IO_WRITE = 2 };

// One result of the completion thread. READ: status 0 with `length` bytes
// in `data` (length 0: the peer's end), or an error. WRITE: a whole write
// sent (status 0, `length` its size) or its error. `data` is malloc'd and
// belongs to whoever holds the event (free() it, or hvsock_io_event_free).
struct hvsock_io_event {
  int kind;
  int status;
  uint32_t system;  // the raw Windows error behind a negative status
  uint8_t* data;
  size_t length;
};
void hvsock_io_event_free(hvsock_io_event* event);

// Called on the completion thread, with the channel's lock held, never after
// hvsock_channel_close() returned: hands `event` on (it is then the callee's).
typedef void (*hvsock_io_post)(void* context, hvsock_io_event* event);

struct hvsock_channel;

// Associates connected `fd` with the process's completion port (started on
// first use: one thread for every channel of every environment). The
// channel owns `fd` from here on, also on failure. `send_cap` is TEST-ONLY
// fault injection: when non-zero, each WSASend carries at most that many
// bytes, so every write of more completes partially and only the send loop
// delivers the rest.
int hvsock_channel_open(hvsock_fd fd, hvsock_io_post post, void* context, size_t send_cap, hvsock_channel** out);

// Starts one overlapped WSARecv unless one is pending: 0, or its error.
int hvsock_channel_read(hvsock_channel* ch);

// Sends `length` bytes of `data` (malloc'd; the channel takes it) with the
// send loop; one write at a time (UV_EBUSY otherwise): 0, or its error.
int hvsock_channel_write(hvsock_channel* ch, uint8_t* data, size_t length);

// shutdown(SD_SEND): the peer reads its end once everything sent is read.
int hvsock_channel_shutdown(hvsock_channel* ch);

// The channel's SOCKET (for names and options while open).
hvsock_fd hvsock_channel_fd(hvsock_channel* ch);

// Cancels pending I/O, closes the socket and lets the channel go: `post` is
// never called again once this returns. Never waits for the completion
// thread (it takes the lock the thread holds around one completion).
void hvsock_channel_close(hvsock_channel* ch);

#endif  // HVSOCK_OVERLAPPED_WIN32_H_
