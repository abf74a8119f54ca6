// hvsock core: a thin, policy-free syscall layer shared by the Node glue.
// Every function returns 0 (or a non-negative result) on success and a
// negative libuv-style error code (-errno on Unix) on failure. No Node types.
#ifndef HVSOCK_H_
#define HVSOCK_H_

#include <stdint.h>

#ifdef _WIN32
typedef uintptr_t hvsock_fd;  // SOCKET
#else
typedef int hvsock_fd;
#endif

// One address type for both families: AF_VSOCK uses cid/port, AF_HYPERV
// uses the two GUIDs (16 bytes each, Windows wire order). The unused half is
// ignored by the platform file.
typedef struct hvsock_addr {
  uint32_t cid;
  uint32_t port;
  uint8_t vm_id[16];
  uint8_t service_id[16];
} hvsock_addr;

enum hvsock_type { HVSOCK_STREAM = 1, HVSOCK_SEQPACKET = 2 };
enum hvsock_shutdown_how { HVSOCK_SHUT_RD = 0, HVSOCK_SHUT_WR = 1, HVSOCK_SHUT_RDWR = 2 };

// Creates a non-blocking, close-on-exec socket of the platform's family.
int hvsock_socket(int type, hvsock_fd* out);
int hvsock_bind(hvsock_fd fd, const hvsock_addr* addr);
int hvsock_listen(hvsock_fd fd, int backlog);
// Starts a non-blocking connect: 0 when already connected, -EINPROGRESS
// while pending (Windows: UV_EAGAIN, from WSAEWOULDBLOCK), another negative
// code on failure.
int hvsock_connect(hvsock_fd fd, const hvsock_addr* addr);
// The pending error of a socket (SO_ERROR) as a negative code, or 0.
int hvsock_take_error(hvsock_fd fd);
// Non-blocking accept; the new socket is non-blocking and close-on-exec.
int hvsock_accept(hvsock_fd fd, hvsock_fd* out, hvsock_addr* peer);
int hvsock_shutdown(hvsock_fd fd, int how);
int hvsock_close(hvsock_fd fd);
int hvsock_getsockname(hvsock_fd fd, hvsock_addr* out);
int hvsock_getpeername(hvsock_fd fd, hvsock_addr* out);
// Family-level (SOL_VSOCK / HV_PROTOCOL_RAW) integer options, raw names.
int hvsock_setopt_u64(hvsock_fd fd, int name, uint64_t value);
int hvsock_getopt_u64(hvsock_fd fd, int name, uint64_t* value);
int hvsock_set_connect_timeout_ms(hvsock_fd fd, uint64_t ms);
int hvsock_get_connect_timeout_ms(hvsock_fd fd, uint64_t* ms);
// Socket family and type of an arbitrary descriptor (for adopting fds).
int hvsock_describe(hvsock_fd fd, int* family, int* type);
int hvsock_local_cid(uint32_t* cid);

#endif  // HVSOCK_H_
