// Linux implementation of io.h. Straight syscalls, EINTR retried; errors are -errno.
#include "io.h"

#include <errno.h>
#include <fcntl.h>
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

int64_t hvsock_send_message(hvsock_fd fd, const uint8_t* base, size_t len) {
  ssize_t n;
  do {
    n = send(fd, base, len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n >= 0 ? n : -errno;
}

int hvsock_set_blocking(hvsock_fd fd, int blocking) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  int next = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
  if (next != flags && fcntl(fd, F_SETFL, next) != 0) return -errno;
  return 0;
}

int hvsock_dup_cloexec(hvsock_fd fd, hvsock_fd* out) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return -errno;
  *out = copy;
  return 0;
}

int hvsock_is_listening(hvsock_fd fd) {
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) != 0) return -errno;
  return value != 0 ? 1 : 0;
}

int hvsock_set_cloexec(hvsock_fd fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) return -errno;
  return 0;
}

int hvsock_standin_pair(int type, hvsock_fd fds[2]) {
  int kind = type == HVSOCK_SEQPACKET ? SOCK_SEQPACKET : SOCK_STREAM;
  return socketpair(AF_UNIX, kind | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0 ? 0 : -errno;
}

int hvsock_standin_inet(hvsock_fd* out) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  *out = fd;
  return 0;
}

int hvsock_open_reserve(hvsock_fd* out) {
  int fd = open("/", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  *out = fd;
  return 0;
}
