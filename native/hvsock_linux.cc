// AF_VSOCK implementation of hvsock.h. Straight syscalls; errors are -errno.
#include "hvsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

// After <sys/socket.h>: this kernel header uses struct sockaddr and
// sa_family_t without including them (glibc's aarch64 headers don't pull
// them in through the headers above, x86-64's happen to).
#include <linux/vm_sockets.h>

// Option level: kernels before 6.x accept only AF_VSOCK here (SOL_VSOCK=287
// came later and is accepted alongside it), so use the one both understand.
constexpr int kVsockLevel = AF_VSOCK;

namespace {

int fail() { return -errno; }

sockaddr_vm to_sockaddr(const hvsock_addr* addr) {
  sockaddr_vm sa;
  memset(&sa, 0, sizeof sa);
  sa.svm_family = AF_VSOCK;
  sa.svm_cid = addr->cid;
  sa.svm_port = addr->port;
  return sa;
}

void from_sockaddr(const sockaddr_vm& sa, hvsock_addr* out) {
  memset(out, 0, sizeof *out);
  out->cid = sa.svm_cid;
  out->port = sa.svm_port;
}

}  // namespace

int hvsock_socket(int type, hvsock_fd* out) {
  int kind = type == HVSOCK_SEQPACKET ? SOCK_SEQPACKET : SOCK_STREAM;
  int fd = socket(AF_VSOCK, kind | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail();
  *out = fd;
  return 0;
}

int hvsock_bind(hvsock_fd fd, const hvsock_addr* addr) {
  sockaddr_vm sa = to_sockaddr(addr);
  return bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 ? 0 : fail();
}

int hvsock_listen(hvsock_fd fd, int backlog) {
  return listen(fd, backlog) == 0 ? 0 : fail();
}

int hvsock_connect(hvsock_fd fd, const hvsock_addr* addr) {
  sockaddr_vm sa = to_sockaddr(addr);
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : fail();
}

int hvsock_take_error(hvsock_fd fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return fail();
  return -err;
}

int hvsock_accept(hvsock_fd fd, hvsock_fd* out, hvsock_addr* peer) {
  sockaddr_vm sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  int client;
  do {
    client = accept4(fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (client < 0 && errno == EINTR);
  if (client < 0) return fail();
  *out = client;
  from_sockaddr(sa, peer);
  return 0;
}

int hvsock_shutdown(hvsock_fd fd, int how) {
  static const int hows[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
  if (how < 0 || how > 2) return -EINVAL;
  return shutdown(fd, hows[how]) == 0 ? 0 : fail();
}

int hvsock_close(hvsock_fd fd) {
  // Linux always releases the descriptor, even when close() reports EINTR:
  // retrying could close a descriptor another thread has just been given.
  return close(fd) == 0 || errno == EINTR ? 0 : fail();
}

static int name_of(hvsock_fd fd, hvsock_addr* out, bool peer) {
  sockaddr_vm sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  if (rc != 0) return fail();
  if (sa.svm_family != AF_VSOCK) return -EAFNOSUPPORT;
  from_sockaddr(sa, out);
  return 0;
}

int hvsock_getsockname(hvsock_fd fd, hvsock_addr* out) { return name_of(fd, out, false); }
int hvsock_getpeername(hvsock_fd fd, hvsock_addr* out) { return name_of(fd, out, true); }

int hvsock_setopt_u64(hvsock_fd fd, int name, uint64_t value) {
  unsigned long long v = value;
  return setsockopt(fd, kVsockLevel, name, &v, sizeof v) == 0 ? 0 : fail();
}

int hvsock_getopt_u64(hvsock_fd fd, int name, uint64_t* value) {
  unsigned long long v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, kVsockLevel, name, &v, &len) != 0) return fail();
  *value = v;
  return 0;
}

int hvsock_set_connect_timeout_ms(hvsock_fd fd, uint64_t ms) {
  struct timeval tv;
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return setsockopt(fd, kVsockLevel, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv) == 0 ? 0
                                                                                    : fail();
}

int hvsock_get_connect_timeout_ms(hvsock_fd fd, uint64_t* ms) {
  struct timeval tv;
  socklen_t len = sizeof tv;
  memset(&tv, 0, sizeof tv);
  if (getsockopt(fd, kVsockLevel, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, &len) != 0) return fail();
  // The kernel holds up to LONG_MAX jiffies: seconds * 1000 can pass 2^64. Saturate.
  uint64_t sec = static_cast<uint64_t>(tv.tv_sec);
  *ms = sec > (UINT64_MAX - 999) / 1000 ? UINT64_MAX : sec * 1000 + static_cast<uint64_t>(tv.tv_usec) / 1000;
  return 0;
}

int hvsock_describe(hvsock_fd fd, int* family, int* type) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return fail();
  socklen_t tlen = sizeof *type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &tlen) != 0) return fail();
  *family = ss.ss_family;
  return 0;
}

int hvsock_local_cid(uint32_t* cid) {
  int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail();
  unsigned int value = 0;
  int rc = ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &value) == 0 ? 0 : fail();
  close(fd);
  if (rc == 0) *cid = value;
  return rc;
}
