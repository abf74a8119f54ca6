// Linux implementation of io.h. Straight syscalls, EINTR retried; errors are -errno.
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int64_t hvsock_read(hvsock_fd fd, uint8_t* base, size_t len) {
  ssize_t n;
  do {
    n = read(fd, base, len);
  } while (n < 0 && errno == EINTR);
  return n >= 0 ? n : -errno;
}

int64_t hvsock_writev(hvsock_fd fd, const hvsock_buf* bufs, size_t count) {
  if (count > IOV_MAX) count = IOV_MAX;  // a short write: the caller sends the rest
  struct iovec iov[IOV_MAX];
  for (size_t i = 0; i < count; i++) {
    iov[i].iov_base = const_cast<uint8_t*>(bufs[i].base);
    iov[i].iov_len = bufs[i].len;
  }
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  ssize_t n;
  do {
    // sendmsg rather than writev for MSG_NOSIGNAL: embedders of Node need
    // not ignore SIGPIPE, and the peer's close must come back as -EPIPE.
    n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n >= 0 ? n : -errno;
}

int64_t hvsock_recvmsg(hvsock_fd fd, uint8_t* base, size_t len, int* flags) {
  struct iovec iov;
  iov.iov_base = base;
  iov.iov_len = len;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  *flags = n >= 0 ? msg.msg_flags : 0;
  return n >= 0 ? n : -errno;
}

size_t hvsock_max_bufs(void) { return IOV_MAX; }
