// Helpers shared by the Node glue files (addon.cc, addon_io.cc,
// addon_win32.cc, ...): argument and result conversion, and the 40-byte
// address codec. The syscall core (hvsock.h, io.h) never includes this.
#ifndef HVSOCK_GLUE_H_
#define HVSOCK_GLUE_H_

#include <napi.h>
#include <stdint.h>
#include <string.h>

#include "hvsock.h"

namespace hvsock {
namespace glue {

// Addresses cross the boundary as 40-byte arrays: cid (u32 LE), port (u32
// LE), vm id (16 bytes), service id (16 bytes), as in struct hvsock_addr.
constexpr size_t kAddressBytes = 40;

inline void EncodeAddress(const hvsock_addr& addr, uint8_t* p) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(addr.cid >> (8 * i));
  for (int i = 0; i < 4; i++) p[4 + i] = uint8_t(addr.port >> (8 * i));
  memcpy(p + 8, addr.vm_id, 16);
  memcpy(p + 24, addr.service_id, 16);
}

inline void DecodeAddress(const uint8_t* p, hvsock_addr* addr) {
  memset(addr, 0, sizeof *addr);
  for (int i = 0; i < 4; i++) addr->cid |= uint32_t(p[i]) << (8 * i);
  for (int i = 0; i < 4; i++) addr->port |= uint32_t(p[4 + i]) << (8 * i);
  memcpy(addr->vm_id, p + 8, 16);
  memcpy(addr->service_id, p + 24, 16);
}

// A descriptor argument (a JS number).
inline hvsock_fd Fd(const Napi::Value& value) {
  return static_cast<hvsock_fd>(value.As<Napi::Number>().Int64Value());
}

inline int Int(const Napi::Value& value) { return value.As<Napi::Number>().Int32Value(); }

// A status, count or descriptor result as a JS number.
inline Napi::Number Status(Napi::Env env, int64_t status) {
  return Napi::Number::New(env, static_cast<double>(status));
}

}  // namespace glue
}  // namespace hvsock

#endif  // HVSOCK_GLUE_H_
