// Hyper-V service registration: one registry key per service GUID under
// GuestCommunicationServices, with the display name in ElementName (REG_SZ).
// Writing needs an elevated process (HKLM); reading does not.
#include <windows.h>

#include "hvsock_win32.h"

namespace {

const wchar_t kServices[] =
    L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices";
const wchar_t kElementName[] = L"ElementName";

std::wstring KeyOf(const std::wstring& service_id) { return std::wstring(kServices) + L"\\" + service_id; }

int Status(LSTATUS status) { return hvsock_translate_error(static_cast<uint32_t>(status)); }

}  // namespace

int hvsock_registry_set(const std::wstring& service_id, const std::wstring& name) {
  HKEY key = nullptr;
  LSTATUS status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, KeyOf(service_id).c_str(), 0, nullptr,
                                   REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, nullptr, &key, nullptr);
  if (status != ERROR_SUCCESS) return Status(status);
  DWORD bytes = static_cast<DWORD>((name.size() + 1) * sizeof(wchar_t));
  status = RegSetValueExW(key, kElementName, 0, REG_SZ, reinterpret_cast<const BYTE*>(name.c_str()), bytes);
  RegCloseKey(key);
  return Status(status);
}

int hvsock_registry_delete(const std::wstring& service_id) {
  // The key has values only, no subkeys: RegDeleteKeyW is enough.
  return Status(RegDeleteKeyW(HKEY_LOCAL_MACHINE, KeyOf(service_id).c_str()));
}

int hvsock_registry_list(std::vector<std::pair<std::wstring, std::wstring>>* out) {
  HKEY root = nullptr;
  LSTATUS status = RegOpenKeyExW(HKEY_LOCAL_MACHINE, kServices, 0, KEY_READ, &root);
  if (status != ERROR_SUCCESS) return Status(status);
  for (DWORD index = 0;; index++) {
    wchar_t sub[256];  // registry key names are at most 255 characters
    DWORD sub_len = 256;
    status = RegEnumKeyExW(root, index, sub, &sub_len, nullptr, nullptr, nullptr, nullptr);
    if (status == ERROR_NO_MORE_ITEMS) {
      status = ERROR_SUCCESS;
      break;
    }
    if (status != ERROR_SUCCESS) break;
    std::wstring name;
    DWORD bytes = 0;
    // A key without ElementName is still a registration: report an empty name.
    if (RegGetValueW(root, sub, kElementName, RRF_RT_REG_SZ, nullptr, nullptr, &bytes) == ERROR_SUCCESS &&
        bytes >= sizeof(wchar_t)) {
      name.resize(bytes / sizeof(wchar_t));
      if (RegGetValueW(root, sub, kElementName, RRF_RT_REG_SZ, nullptr, &name[0], &bytes) == ERROR_SUCCESS) {
        name.resize(wcsnlen(name.c_str(), name.size()));
      } else {
        name.clear();
      }
    }
    out->emplace_back(std::wstring(sub, sub_len), name);
  }
  RegCloseKey(root);
  return Status(status);
}
