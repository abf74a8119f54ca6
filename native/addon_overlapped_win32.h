// The overlapped I/O path's Node glue: `binding.win.Overlapped` (see
// addon_overlapped_win32.cc and overlapped_win32.h).
#ifndef HVSOCK_ADDON_OVERLAPPED_WIN32_H_
#define HVSOCK_ADDON_OVERLAPPED_WIN32_H_

#include <napi.h>

namespace hvsock {

Napi::Function DefineOverlapped(Napi::Env env);

}  // namespace hvsock

#endif  // HVSOCK_ADDON_OVERLAPPED_WIN32_H_
