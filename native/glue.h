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

// A descriptor argument (a JS number), or -1 (INVALID_SOCKET on Windows)
// when it cannot be read. In an environment being torn down (a Worker being
// terminated) N-API calls can fail, and node-addon-api's Int64Value() then
// answers 0: a valid descriptor (stdin, or whatever reused the number, e.g.
// the loop's epoll fd), which close() or writev() would then act on.
inline hvsock_fd Fd(const Napi::Value& value) {
  int64_t fd = -1;
  if (napi_get_value_int64(value.Env(), value, &fd) != napi_ok) fd = -1;
  return static_cast<hvsock_fd>(fd);
}

inline int Int(const Napi::Value& value) { return value.As<Napi::Number>().Int32Value(); }

// A boolean argument, read without coercion: napi_coerce_to_bool refuses to
// run in an environment being torn down (a Worker being terminated), and
// node-addon-api turns that refusal into a fatal error.
inline bool Flag(const Napi::Value& value) { return value.IsBoolean() && value.As<Napi::Boolean>().Value(); }

// A status, count or descriptor result as a JS number.
inline Napi::Number Status(Napi::Env env, int64_t status) {
  return Napi::Number::New(env, static_cast<double>(status));
}

}  // namespace glue
}  // namespace hvsock

#endif  // HVSOCK_GLUE_H_
