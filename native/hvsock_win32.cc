// AF_HYPERV implementation of hvsock.h (Windows). Straight Winsock calls;
// errors are libuv codes via hvsock_translate_error (raw code kept).
//
// Sockets are overlapped (WSA_FLAG_OVERLAPPED) so that libuv can associate a
// connected one with its IOCP (uv_tcp_open). They start out blocking:
// connects and accepts are waited for on native threads (addon_win32.cc)
// with WSAEventSelect, which makes them non-blocking, as libuv wants them too.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <hvsocket.h>  // mingw's: only to check our own definitions against
#include <stddef.h>
#include <string.h>
#include <uv.h>  // UV_E* constants

#include "hvsock.h"
#include "hvsock_win32.h"

namespace {

// winsock2.h stops at AF_MAX 33; Windows defines AF_HYPERV as 34.
constexpr int kAfHyperV = 34;
constexpr int kHvProtocolRaw = HV_PROTOCOL_RAW;

// SOCKADDR_HV as Windows lays it out; GUIDs are stored as the 16 wire bytes
// TS produces (Data1..3 little-endian), which is the in-memory GUID on x64.
struct SockaddrHv {
  uint16_t family;
  uint16_t reserved;
  uint8_t vm_id[16];
  uint8_t service_id[16];
};
static_assert(sizeof(SockaddrHv) == 36, "SOCKADDR_HV is 36 bytes");
static_assert(sizeof(SockaddrHv) == sizeof(SOCKADDR_HV), "matches mingw's SOCKADDR_HV");
static_assert(offsetof(SockaddrHv, vm_id) == offsetof(SOCKADDR_HV, VmId), "VmId offset");
static_assert(offsetof(SockaddrHv, service_id) == offsetof(SOCKADDR_HV, ServiceId), "ServiceId offset");

int fail() { return hvsock_translate_error(static_cast<uint32_t>(WSAGetLastError())); }
int ok() { return hvsock_translate_error(0); }

SOCKET sock(hvsock_fd fd) { return static_cast<SOCKET>(fd); }

int family_of(hvsock_fd fd, int* family) {
  WSAPROTOCOL_INFOW info;
  int len = sizeof info;
  if (getsockopt(sock(fd), SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &len) != 0) {
    return fail();
  }
  *family = info.iAddressFamily;
  return 0;
}

// The sockaddr for `addr` in `fd`'s family: SOCKADDR_HV, or for the AF_INET
// stand-in 127.0.0.1:port (ports past 65535, e.g. PORT_ANY, mean "any").
int to_sockaddr(hvsock_fd fd, const hvsock_addr* addr, sockaddr_storage* out, int* len) {
  int family = 0;
  int rc = family_of(fd, &family);
  if (rc != 0) return rc;
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    sockaddr_in* in = reinterpret_cast<sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in->sin_port = htons(addr->port <= 0xffff ? static_cast<u_short>(addr->port) : 0);
    *len = sizeof *in;
    return 0;
  }
  SockaddrHv* hv = reinterpret_cast<SockaddrHv*>(out);
  hv->family = kAfHyperV;
  memcpy(hv->vm_id, addr->vm_id, 16);
  memcpy(hv->service_id, addr->service_id, 16);
  *len = sizeof *hv;
  return 0;
}

int from_sockaddr(const sockaddr_storage& ss, hvsock_addr* out) {
  memset(out, 0, sizeof *out);
  if (ss.ss_family == AF_INET) {
    out->port = ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    return 0;
  }
  if (ss.ss_family != kAfHyperV) return UV_EAFNOSUPPORT;
  const SockaddrHv* hv = reinterpret_cast<const SockaddrHv*>(&ss);
  memcpy(out->vm_id, hv->vm_id, 16);
  memcpy(out->service_id, hv->service_id, 16);
  return 0;
}

int new_socket(int family, int protocol, hvsock_fd* out) {
  SOCKET s = WSASocketW(family, SOCK_STREAM, protocol, nullptr, 0,
                        WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) return fail();
  *out = static_cast<hvsock_fd>(s);
  return ok();
}

// The waits in addon_win32.cc time out now and then and look at the sockets
// themselves, so a network event that goes missing (seen under Wine with
// many sockets at once) costs a little latency, never a hang.
int wait_event(HANDLE event, HANDLE stop, DWORD ms) {
  HANDLE handles[2] = {stop, event};
  DWORD which = WaitForMultipleObjects(2, handles, FALSE, ms);
  if (which == WAIT_OBJECT_0) return UV_ECANCELED;
  if (which == WAIT_OBJECT_0 + 1) return 0;
  if (which == WAIT_TIMEOUT) return UV_ETIMEDOUT;
  return hvsock_translate_error(GetLastError());
}

// A pending non-blocking connect's state: 0 connected, UV_EAGAIN still
// pending, or its error.
int connect_state(SOCKET s) {
  int err = 0;
  int len = sizeof err;
  if (getsockopt(s, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0) return fail();
  if (err != 0) return hvsock_translate_error(static_cast<uint32_t>(err));
  sockaddr_storage ss;
  int ss_len = sizeof ss;
  if (getpeername(s, reinterpret_cast<sockaddr*>(&ss), &ss_len) == 0) return ok();
  return UV_EAGAIN;
}

}  // namespace

int hvsock_socket(int type, hvsock_fd* out) {
  // Hyper-V sockets are stream-only.
  if (type != HVSOCK_STREAM) return hvsock_translate_error(WSAESOCKTNOSUPPORT);
  return new_socket(kAfHyperV, kHvProtocolRaw, out);
}

int hvsock_standin_inet(hvsock_fd* out) { return new_socket(AF_INET, IPPROTO_TCP, out); }

int hvsock_bind(hvsock_fd fd, const hvsock_addr* addr) {
  sockaddr_storage ss;
  int len = 0;
  int rc = to_sockaddr(fd, addr, &ss, &len);
  if (rc != 0) return rc;
  return bind(sock(fd), reinterpret_cast<sockaddr*>(&ss), len) == 0 ? ok() : fail();
}

int hvsock_listen(hvsock_fd fd, int backlog) {
  return listen(sock(fd), backlog) == 0 ? ok() : fail();
}

int hvsock_connect(hvsock_fd fd, const hvsock_addr* addr) {
  sockaddr_storage ss;
  int len = 0;
  int rc = to_sockaddr(fd, addr, &ss, &len);
  if (rc != 0) return rc;
  // Pending on a non-blocking socket: WSAEWOULDBLOCK, i.e. UV_EAGAIN (libuv
  // has no EINPROGRESS code on Windows).
  return connect(sock(fd), reinterpret_cast<sockaddr*>(&ss), len) == 0 ? ok() : fail();
}

int hvsock_wait_event(void* event, void* stop, uint32_t ms) {
  return wait_event(static_cast<HANDLE>(event), static_cast<HANDLE>(stop), ms);
}

int hvsock_connect_start(hvsock_fd fd, const hvsock_addr* addr, void* event) {
  if (WSAEventSelect(sock(fd), static_cast<HANDLE>(event), FD_CONNECT) != 0) return fail();
  return hvsock_connect(fd, addr);
}

int hvsock_connect_poll(hvsock_fd fd, bool recheck) {
  WSANETWORKEVENTS events;
  // A null event: the shared event is the waiter's to reset, not ours.
  if (WSAEnumNetworkEvents(sock(fd), nullptr, &events) != 0) return fail();
  if (events.lNetworkEvents & FD_CONNECT) {
    return hvsock_translate_error(static_cast<uint32_t>(events.iErrorCode[FD_CONNECT_BIT]));
  }
  return recheck ? connect_state(sock(fd)) : UV_EAGAIN;
}

void hvsock_connect_done(hvsock_fd fd) {
  DWORD saved = hvsock_last_system_error();
  WSAEventSelect(sock(fd), nullptr, 0);
  hvsock_translate_error(saved);
}

int hvsock_accept_select(hvsock_fd fd, void* event) {
  return WSAEventSelect(sock(fd), static_cast<HANDLE>(event), FD_ACCEPT) == 0 ? ok() : fail();
}

int hvsock_accept_events(hvsock_fd fd, void* event) {
  WSANETWORKEVENTS events;
  if (WSAEnumNetworkEvents(sock(fd), static_cast<HANDLE>(event), &events) != 0) return fail();
  if (events.lNetworkEvents & FD_ACCEPT) {
    return hvsock_translate_error(static_cast<uint32_t>(events.iErrorCode[FD_ACCEPT_BIT]));
  }
  return ok();
}

int hvsock_system_directory(std::wstring* out) {
  wchar_t path[MAX_PATH + 1];
  UINT length = GetSystemDirectoryW(path, MAX_PATH + 1);
  if (length == 0) return hvsock_translate_error(GetLastError());
  if (length > MAX_PATH) return hvsock_translate_error(ERROR_INSUFFICIENT_BUFFER);
  out->assign(path, length);
  return ok();
}

int hvsock_take_error(hvsock_fd fd) {
  int err = 0;
  int len = sizeof err;
  if (getsockopt(sock(fd), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0) return fail();
  return hvsock_translate_error(static_cast<uint32_t>(err));
}

int hvsock_accept(hvsock_fd fd, hvsock_fd* out, hvsock_addr* peer) {
  sockaddr_storage ss;
  int len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  SOCKET client = accept(sock(fd), reinterpret_cast<sockaddr*>(&ss), &len);
  if (client == INVALID_SOCKET) return fail();
  // An accepted socket inherits the listener's event selection: drop it.
  WSAEventSelect(client, nullptr, 0);
  *out = static_cast<hvsock_fd>(client);
  from_sockaddr(ss, peer);
  return ok();
}

int hvsock_shutdown(hvsock_fd fd, int how) {
  static const int hows[] = {SD_RECEIVE, SD_SEND, SD_BOTH};
  if (how < 0 || how > 2) return UV_EINVAL;
  return shutdown(sock(fd), hows[how]) == 0 ? ok() : fail();
}

int hvsock_close(hvsock_fd fd) { return closesocket(sock(fd)) == 0 ? ok() : fail(); }

static int name_of(hvsock_fd fd, hvsock_addr* out, bool peer) {
  sockaddr_storage ss;
  int len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int rc = peer ? getpeername(sock(fd), reinterpret_cast<sockaddr*>(&ss), &len)
                : getsockname(sock(fd), reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) return fail();
  rc = from_sockaddr(ss, out);
  return rc != 0 ? rc : ok();
}

int hvsock_getsockname(hvsock_fd fd, hvsock_addr* out) { return name_of(fd, out, false); }
int hvsock_getpeername(hvsock_fd fd, hvsock_addr* out) { return name_of(fd, out, true); }

// HV_PROTOCOL_RAW options are ULONG (4 bytes).
int hvsock_setopt_u64(hvsock_fd fd, int name, uint64_t value) {
  if (value > 0xffffffffu) return UV_EINVAL;
  ULONG v = static_cast<ULONG>(value);
  return setsockopt(sock(fd), kHvProtocolRaw, name, reinterpret_cast<const char*>(&v), sizeof v) == 0 ? ok()
                                                                                                     : fail();
}

int hvsock_getopt_u64(hvsock_fd fd, int name, uint64_t* value) {
  ULONG v = 0;
  int len = sizeof v;
  if (getsockopt(sock(fd), kHvProtocolRaw, name, reinterpret_cast<char*>(&v), &len) != 0) return fail();
  *value = v;
  return ok();
}

int hvsock_set_connect_timeout_ms(hvsock_fd fd, uint64_t ms) {
  return hvsock_setopt_u64(fd, HVSOCKET_CONNECT_TIMEOUT, ms);
}

int hvsock_get_connect_timeout_ms(hvsock_fd fd, uint64_t* ms) {
  return hvsock_getopt_u64(fd, HVSOCKET_CONNECT_TIMEOUT, ms);
}

int hvsock_describe(hvsock_fd fd, int* family, int* type) {
  int rc = family_of(fd, family);
  if (rc != 0) return rc;
  int len = sizeof *type;
  return getsockopt(sock(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(type), &len) == 0 ? ok() : fail();
}

// Windows has no CID: VM ids are GUIDs (see the registry and HvSocket docs).
int hvsock_local_cid(uint32_t* cid) {
  (void)cid;
  return UV_ENOTSUP;
}
