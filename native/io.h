// Data transfer for the poll-driven I/O path (lib/poll-*.ts): non-blocking
// read / gather-write / message receive on a socket fd. Same conventions as
// hvsock.h: no Node types, results are byte counts (>= 0) or negative
// libuv-style codes; EAGAIN is a code like any other, never special-cased.
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

#endif  // HVSOCK_IO_H_
