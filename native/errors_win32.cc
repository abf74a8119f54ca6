// Windows error codes -> libuv codes, following libuv's uv_translate_sys_error
// (src/win/error.c, v1.46+ as in Node 20: ERROR_ACCESS_DENIED is EACCES) for
// the codes Winsock and the registry return, so that util.getSystemErrorName()
// in the TS layer names them as Node would. Anything else is UV_UNKNOWN, and
// the raw code survives as the error's systemCode.
#include <winsock2.h>
#include <windows.h>

#include <uv.h>  // the UV_E* constants only; nothing is linked from libuv

#include "hvsock_win32.h"

#ifndef ERROR_ELEVATION_REQUIRED
#define ERROR_ELEVATION_REQUIRED 740L  // winerror.h; some mingw headers lack it
#endif

namespace {
thread_local uint32_t last_system_error = 0;

int Translate(uint32_t code) {
  switch (code) {
    case 0: return 0;
    case ERROR_NOACCESS: case WSAEACCES: case ERROR_ELEVATION_REQUIRED: case ERROR_CANT_ACCESS_FILE:
    case ERROR_ACCESS_DENIED: return UV_EACCES;
    case ERROR_ADDRESS_ALREADY_ASSOCIATED: case WSAEADDRINUSE: return UV_EADDRINUSE;
    case WSAEADDRNOTAVAIL: return UV_EADDRNOTAVAIL;
    case WSAEAFNOSUPPORT: return UV_EAFNOSUPPORT;
    case WSAEWOULDBLOCK: return UV_EAGAIN;
    case WSAEALREADY: return UV_EALREADY;
    case ERROR_INVALID_FLAGS: case ERROR_INVALID_HANDLE: return UV_EBADF;
    case ERROR_OPERATION_ABORTED: case WSAEINTR: return UV_ECANCELED;
    case ERROR_CONNECTION_ABORTED: case WSAECONNABORTED: return UV_ECONNABORTED;
    case ERROR_CONNECTION_REFUSED: case WSAECONNREFUSED: return UV_ECONNREFUSED;
    case ERROR_NETNAME_DELETED: case WSAECONNRESET: return UV_ECONNRESET;
    case ERROR_ALREADY_EXISTS: case ERROR_FILE_EXISTS: return UV_EEXIST;
    case ERROR_BUFFER_OVERFLOW: case WSAEFAULT: return UV_EFAULT;
    case ERROR_HOST_UNREACHABLE: case WSAEHOSTUNREACH: return UV_EHOSTUNREACH;
    case ERROR_INSUFFICIENT_BUFFER: case ERROR_INVALID_DATA: case ERROR_INVALID_PARAMETER:
    case WSAEINVAL: case WSAEPFNOSUPPORT: return UV_EINVAL;
    case WSAEISCONN: return UV_EISCONN;
    case ERROR_TOO_MANY_OPEN_FILES: case WSAEMFILE: return UV_EMFILE;
    case WSAEMSGSIZE: return UV_EMSGSIZE;
    case ERROR_NETWORK_UNREACHABLE: case WSAENETUNREACH: return UV_ENETUNREACH;
    case WSAENOBUFS: return UV_ENOBUFS;
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_NAME:
    case ERROR_MOD_NOT_FOUND: case ERROR_DIRECTORY: return UV_ENOENT;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return UV_ENOMEM;
    case ERROR_NOT_CONNECTED: case WSAENOTCONN: return UV_ENOTCONN;
    case WSAENOTSOCK: return UV_ENOTSOCK;
    case ERROR_NOT_SUPPORTED: return UV_ENOTSUP;
    case ERROR_BROKEN_PIPE: return UV_EOF;
    case ERROR_PRIVILEGE_NOT_HELD: return UV_EPERM;
    case ERROR_NO_DATA: case WSAESHUTDOWN: return UV_EPIPE;
    case WSAEPROTONOSUPPORT: return UV_EPROTONOSUPPORT;
    case ERROR_SEM_TIMEOUT: case WSAETIMEDOUT: return UV_ETIMEDOUT;
    case WSAESOCKTNOSUPPORT: return UV_ESOCKTNOSUPPORT;
    default: return UV_UNKNOWN;
  }
}
}  // namespace

uint32_t hvsock_last_system_error() { return last_system_error; }

int hvsock_translate_error(uint32_t code) {
  last_system_error = code;
  return Translate(code);
}
