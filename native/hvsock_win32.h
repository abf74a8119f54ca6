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

// Waits for `event` or `stop` (both HANDLEs): 0, UV_ECANCELED once `stop` is
// signalled, UV_ETIMEDOUT after `ms`.
int hvsock_wait_event(void* event, void* stop, uint32_t ms);

// Connects without blocking, for a waiter that watches many sockets at once:
// hvsock_connect_start makes `fd` signal `event` (which several sockets may
// share) on FD_CONNECT, non-blocking, and starts the connect: 0 connected,
// UV_EAGAIN pending, or the error. hvsock_connect_poll reads what `fd`
// recorded (without resetting the shared event): UV_EAGAIN while pending;
// with `recheck` it also asks the socket itself (SO_ERROR, getpeername), for
// events that go missing (seen under Wine with many sockets at once).
// hvsock_connect_done drops the event selection; the socket stays
// non-blocking, as uv_tcp_open wants it. It keeps the last system error.
int hvsock_connect_start(hvsock_fd fd, const hvsock_addr* addr, void* event);
int hvsock_connect_poll(hvsock_fd fd, bool recheck);
void hvsock_connect_done(hvsock_fd fd);

// Accept loop: hvsock_accept_select once (makes listening `fd` signal the
// caller's WSA `event` on FD_ACCEPT, and non-blocking); after each wake-up
// hvsock_accept_events resets `event` and returns the error FD_ACCEPT
// recorded, if any (0 otherwise: accept() may succeed, or say UV_EAGAIN).
int hvsock_accept_select(hvsock_fd fd, void* event);
int hvsock_accept_events(hvsock_fd fd, void* event);

// The Windows system directory (GetSystemDirectoryW, e.g. C:\Windows\System32):
// where the tools discovery runs live. Not taken from the environment.
int hvsock_system_directory(std::wstring* out);

// Hyper-V service registration: key <GUID> under HKLM (path in
// registry_win32.cc: ...\Virtualization\GuestCommunicationServices), value
// ElementName. `service_id` is the GUID as text; no validation here.
int hvsock_registry_set(const std::wstring& service_id, const std::wstring& name);
int hvsock_registry_delete(const std::wstring& service_id);
int hvsock_registry_list(std::vector<std::pair<std::wstring, std::wstring>>* out);

#endif  // HVSOCK_WIN32_H_
