// Windows-only part of the addon: exported as `binding.win` (see addon.cc).
#ifndef HVSOCK_ADDON_WIN32_H_
#define HVSOCK_ADDON_WIN32_H_

#include <napi.h>

namespace hvsock {

Napi::Object DefineWin32(Napi::Env env);

}  // namespace hvsock

#endif  // HVSOCK_ADDON_WIN32_H_
