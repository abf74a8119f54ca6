// Windows-only additions to the hvsock.h core: the raw system error of the
// last failure, a stand-in socket for tests, and the Hyper-V service
// registry. No Node types; negative libuv-style codes like the rest.
#ifndef HVSOCK_WIN32_H_
#define HVSOCK_WIN32_H_

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "hvsock.h"

// The raw Windows error (WSA* / ERROR_*) behind the last negative code this
// thread got from the core, kept because libuv's mapping folds many codes
// into UV_UNKNOWN. 0 when the last call succeeded.
uint32_t hvsock_last_system_error();

// libuv's uv_translate_sys_error for the codes sockets and the registry give,
// recording `code` as the last system error. Returns 0 for 0.
int hvsock_translate_error(uint32_t code);

// TEST-ONLY stand-in: an overlapped AF_INET stream socket. The core treats
// AF_INET sockets as 127.0.0.1 with hvsock_addr.port as the TCP port (bind
// to port 0 for an ephemeral one), so the Windows I/O machinery can run on
// loopback TCP where there is no Hyper-V (Wine, CI).
int hvsock_standin_inet(hvsock_fd* out);

// Blocks until `fd` (made non-blocking by WSAEventSelect) is connected to
// `addr`, or `stop` is signalled (returns UV_ECANCELED). Leaves the socket
// non-blocking with no event selection, ready for uv_tcp_open.
int hvsock_connect_wait(hvsock_fd fd, const hvsock_addr* addr, void* stop);

// Accept loop: hvsock_accept_select once (makes listening `fd` signal the
// caller's WSA `event` on FD_ACCEPT, and non-blocking), then per round
// hvsock_accept_wait: returns 0 when accept() may succeed (it may still say
// UV_EAGAIN), UV_ECANCELED once `stop` is signalled.
int hvsock_accept_select(hvsock_fd fd, void* event);
int hvsock_accept_wait(hvsock_fd fd, void* event, void* stop);

// Hyper-V service registration: key <GUID> under HKLM (path in
// registry_win32.cc: ...\Virtualization\GuestCommunicationServices), value
// ElementName. `service_id` is the GUID as text; no validation here.
int hvsock_registry_set(const std::wstring& service_id, const std::wstring& name);
int hvsock_registry_delete(const std::wstring& service_id);
int hvsock_registry_list(std::vector<std::pair<std::wstring, std::wstring>>* out);

#endif  // HVSOCK_WIN32_H_
