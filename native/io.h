// Syscall core of the poll-driven I/O path (lib/linux/poll/): non-blocking
// read / gather-write / message receive on a socket fd. Same conventions as
// hvsock.h: no Node types, results are byte counts (>= 0) or negative
// libuv-style codes; EAGAIN is a code like any other, never special-cased.
// Also the few Linux descriptor calls the glue needs beyond hvsock.h.
#ifndef HVSOCK_IO_H_
#define HVSOCK_IO_H_

#include <stddef.h>
#include <stdint.h>

#include "hvsock.h"

typedef struct hvsock_buf {
  const uint8_t* base;
  size_t len;
} hvsock_buf;

// Reads at most len bytes: the count, 0 at end of stream, or -errno.
int64_t hvsock_read(hvsock_fd fd, uint8_t* base, size_t len);
// Writes the buffers in order as one gather write (one message on a
// SOCK_SEQPACKET socket): the count accepted (possibly short), or -errno.
// Never raises SIGPIPE: a closed peer is -EPIPE.
int64_t hvsock_writev(hvsock_fd fd, const hvsock_buf* bufs, size_t count);
// Receives one message (or stream bytes) into base/len. *flags gets the
// kernel's msg_flags (MSG_TRUNC when the message was longer than len; the
// return value is then the number of bytes stored, not the message length).
int64_t hvsock_recvmsg(hvsock_fd fd, uint8_t* base, size_t len, int* flags);
// The largest number of buffers one hvsock_writev() takes (IOV_MAX).
size_t hvsock_max_bufs(void);

// One message by a *blocking* send() (MessageSender's thread): the count, or
// -errno. Never raises SIGPIPE.
int64_t hvsock_send_message(hvsock_fd fd, const uint8_t* base, size_t len);
// Sets or clears O_NONBLOCK on the file description: 0 or -errno.
int hvsock_set_blocking(hvsock_fd fd, int blocking);
// A close-on-exec duplicate of fd (the descriptor in *out): 0 or -errno.
int hvsock_dup_cloexec(hvsock_fd fd, hvsock_fd* out);

// Descriptors the Node glue needs that are not vsock sockets (Linux).
// SO_ACCEPTCONN: 1 listening, 0 not, or -errno.
int hvsock_is_listening(hvsock_fd fd);
// FD_CLOEXEC on an adopted descriptor: 0 or -errno.
int hvsock_set_cloexec(hvsock_fd fd);
// A non-blocking, close-on-exec AF_UNIX pair (SOCK_SEQPACKET for
// HVSOCK_SEQPACKET, else SOCK_STREAM): 0 or -errno. Stand-ins, no traffic.
int hvsock_standin_pair(int type, hvsock_fd fds[2]);
// An unbound non-blocking AF_INET stream socket: 0 or -errno.
int hvsock_standin_inet(hvsock_fd* out);
// A spare descriptor ("/", read-only, close-on-exec) for the EMFILE trick: 0 or -errno.
int hvsock_open_reserve(hvsock_fd* out);

#endif  // HVSOCK_IO_H_
