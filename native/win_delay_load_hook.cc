// Resolves the delay-loaded "node.exe" import to the running executable, so
// the addon also loads in hosts with another name (Electron, a renamed node).
// Same idea as node-gyp's win_delay_load_hook.cc, for mingw's delay-load
// import library (dlltool -y, see binding.gyp).
#include <windows.h>

#include <delayimp.h>
#include <string.h>

static FARPROC WINAPI LoadExeHook(unsigned int event, PDelayLoadInfo info) {
  if (event != dliNotePreLoadLibrary) return nullptr;
  if (_stricmp(info->szDll, "node.exe") != 0) return nullptr;
  return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
}

extern "C" {
PfnDliHook __pfnDliNotifyHook2 = LoadExeHook;
}
