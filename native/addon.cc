// Node glue for hvsock.h: converts arguments, calls the core, returns the
// integer status. Validation and every decision live in lib/ (TypeScript);
// arguments here are trusted to have the documented types.
#include <napi.h>
#include <string.h>

#include "hvsock.h"

#ifdef _WIN32
#include "addon_win32.h"  // Windows: socket threads, registry, stand-in (binding.win)
#else
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "poller.h"
#endif

namespace hvsock {
#ifndef _WIN32
// native/io.cc: read/writev/recvmsg for the poll-driven path (lib/poll-*.ts).
void DefineIo(Napi::Env env, Napi::Object exports, Napi::Object constants);
#endif
namespace {

// Addresses cross the boundary as 40-byte arrays: cid (u32 LE), port (u32
// LE), vm id (16 bytes), service id (16 bytes), as in struct hvsock_addr.
constexpr size_t kAddressBytes = 40;

uint32_t ReadU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void WriteU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (8 * i));
}

hvsock_addr DecodeAddress(const Napi::Value& value) {
  hvsock_addr addr;
  memset(&addr, 0, sizeof addr);
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (bytes.ByteLength() < kAddressBytes) return addr;
  const uint8_t* p = bytes.Data();
  addr.cid = ReadU32(p);
  addr.port = ReadU32(p + 4);
  memcpy(addr.vm_id, p + 8, 16);
  memcpy(addr.service_id, p + 24, 16);
  return addr;
}

void EncodeAddress(const hvsock_addr& addr, const Napi::Value& value) {
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (bytes.ByteLength() < kAddressBytes) return;
  uint8_t* p = bytes.Data();
  WriteU32(p, addr.cid);
  WriteU32(p + 4, addr.port);
  memcpy(p + 8, addr.vm_id, 16);
  memcpy(p + 24, addr.service_id, 16);
}

hvsock_fd Fd(const Napi::Value& value) {
  return static_cast<hvsock_fd>(value.As<Napi::Number>().Int64Value());
}

int Int(const Napi::Value& value) { return value.As<Napi::Number>().Int32Value(); }

Napi::Number Status(Napi::Env env, int64_t status) {
  return Napi::Number::New(env, static_cast<double>(status));
}

// socket(type) -> fd | -err
Napi::Value Socket(const Napi::CallbackInfo& info) {
  hvsock_fd fd = 0;
  int rc = hvsock_socket(Int(info[0]), &fd);
  return Status(info.Env(), rc == 0 ? static_cast<int64_t>(fd) : rc);
}

// bind(fd, address) / connect(fd, address) -> status
Napi::Value Bind(const Napi::CallbackInfo& info) {
  hvsock_addr addr = DecodeAddress(info[1]);
  return Status(info.Env(), hvsock_bind(Fd(info[0]), &addr));
}

Napi::Value Connect(const Napi::CallbackInfo& info) {
  hvsock_addr addr = DecodeAddress(info[1]);
  return Status(info.Env(), hvsock_connect(Fd(info[0]), &addr));
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  return Status(info.Env(), hvsock_listen(Fd(info[0]), Int(info[1])));
}

// accept(fd, peerOut) -> fd | -err
Napi::Value Accept(const Napi::CallbackInfo& info) {
  hvsock_fd client = 0;
  hvsock_addr peer;
  int rc = hvsock_accept(Fd(info[0]), &client, &peer);
  if (rc != 0) return Status(info.Env(), rc);
  EncodeAddress(peer, info[1]);
  return Status(info.Env(), static_cast<int64_t>(client));
}

Napi::Value TakeError(const Napi::CallbackInfo& info) {
  return Status(info.Env(), hvsock_take_error(Fd(info[0])));
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  return Status(info.Env(), hvsock_shutdown(Fd(info[0]), Int(info[1])));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  return Status(info.Env(), hvsock_close(Fd(info[0])));
}

// getsockname(fd, out) / getpeername(fd, out) -> status
Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  hvsock_addr addr;
  int rc = hvsock_getsockname(Fd(info[0]), &addr);
  if (rc == 0) EncodeAddress(addr, info[1]);
  return Status(info.Env(), rc);
}

Napi::Value GetPeerName(const Napi::CallbackInfo& info) {
  hvsock_addr addr;
  int rc = hvsock_getpeername(Fd(info[0]), &addr);
  if (rc == 0) EncodeAddress(addr, info[1]);
  return Status(info.Env(), rc);
}

// setOption(fd, name, value) -> status; getOption(fd, name) -> value (Number, or
// BigInt past 2^53 - 1) | -err
Napi::Value SetOption(const Napi::CallbackInfo& info) {
  uint64_t value = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  return Status(info.Env(), hvsock_setopt_u64(Fd(info[0]), Int(info[1]), value));
}

// A u64 option value for JS: a Number while exact (<= 2^53 - 1), else a
// BigInt, so no value can read as a negative status or lose precision.
Napi::Value OptionValue(Napi::Env env, int rc, uint64_t value) {
  constexpr uint64_t kMaxSafeInteger = (uint64_t(1) << 53) - 1;
  if (rc != 0) return Status(env, rc);
  if (value <= kMaxSafeInteger) return Napi::Number::New(env, static_cast<double>(value));
  return Napi::BigInt::New(env, value);
}

Napi::Value GetOption(const Napi::CallbackInfo& info) {
  uint64_t value = 0;
  int rc = hvsock_getopt_u64(Fd(info[0]), Int(info[1]), &value);
  return OptionValue(info.Env(), rc, value);
}

Napi::Value SetConnectTimeout(const Napi::CallbackInfo& info) {
  uint64_t ms = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  return Status(info.Env(), hvsock_set_connect_timeout_ms(Fd(info[0]), ms));
}

// getConnectTimeout(fd) -> ms (Number, or BigInt past 2^53 - 1) | -err
Napi::Value GetConnectTimeout(const Napi::CallbackInfo& info) {
  uint64_t ms = 0;
  int rc = hvsock_get_connect_timeout_ms(Fd(info[0]), &ms);
  return OptionValue(info.Env(), rc, ms);
}

// describe(fd) -> [family, type] | -err
Napi::Value Describe(const Napi::CallbackInfo& info) {
  int family = 0, type = 0;
  int rc = hvsock_describe(Fd(info[0]), &family, &type);
  if (rc != 0) return Status(info.Env(), rc);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), family));
  out.Set(1u, Napi::Number::New(info.Env(), type));
  return out;
}

Napi::Value LocalCid(const Napi::CallbackInfo& info) {
  uint32_t cid = 0;
  int rc = hvsock_local_cid(&cid);
  return Status(info.Env(), rc == 0 ? static_cast<int64_t>(cid) : rc);
}

#ifndef _WIN32
// Stand-in descriptors: an AF_UNIX stream pair (to learn Node's Pipe handle
// constructor from a public net.Socket, and as a test-only transport; with
// type 2, a SOCK_SEQPACKET pair for message-socket tests) and an unbound
// AF_INET socket (to learn the TCP handle constructor). No traffic.
Napi::Value StandInPair(const Napi::CallbackInfo& info) {
  int fds[2];
  int type = info.Length() > 0 && info[0].IsNumber() && Int(info[0]) == HVSOCK_SEQPACKET ? SOCK_SEQPACKET : SOCK_STREAM;
  if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return Status(info.Env(), -errno);
  }
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

Napi::Value StandInInet(const Napi::CallbackInfo& info) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return Status(info.Env(), fd >= 0 ? fd : -errno);
}

// Adopting inherited descriptors (lib/linux/fd.ts). Linux-only plain syscalls,
// kept here rather than in hvsock.h so the Windows core need not grow them.
// isListening(fd) -> 1 | 0 | -err (SO_ACCEPTCONN)
Napi::Value IsListening(const Napi::CallbackInfo& info) {
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(Int(info[0]), SOL_SOCKET, SO_ACCEPTCONN, &value, &len) != 0) {
    return Status(info.Env(), -errno);
  }
  return Status(info.Env(), value != 0 ? 1 : 0);
}

// setCloexec(fd) -> status: an inherited descriptor is not close-on-exec;
// once owned it must not leak into our own children (as sd_listen_fds does).
Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  int fd = Int(info[0]);
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) return Status(info.Env(), -errno);
  return Status(info.Env(), 0);
}
#endif

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    Napi::Object constants = Napi::Object::New(env);
#ifdef _WIN32
    constants.Set("platform", "win32");
    // Windows I/O runs on socket threads, not uv_poll (see addon_win32.cc).
    exports.Set("win", DefineWin32(env));
#else
    constants.Set("platform", "linux");
    constants.Set("AF_VSOCK", Napi::Number::New(env, AF_VSOCK));
    constants.Set("AF_UNIX", Napi::Number::New(env, AF_UNIX));
    constants.Set("SOCK_STREAM", Napi::Number::New(env, SOCK_STREAM));
    constants.Set("SOCK_SEQPACKET", Napi::Number::New(env, SOCK_SEQPACKET));
#endif
    DefineAddon(exports,
                {
                    InstanceValue("constants", constants, napi_enumerable),
#ifndef _WIN32
                    InstanceValue("Poller", Poller::Define(env), napi_enumerable),
#endif
                    StaticFn(env, "socket", Socket),
                    StaticFn(env, "bind", Bind),
                    StaticFn(env, "listen", Listen),
                    StaticFn(env, "connect", Connect),
                    StaticFn(env, "accept", Accept),
                    StaticFn(env, "takeError", TakeError),
                    StaticFn(env, "shutdown", Shutdown),
                    StaticFn(env, "close", Close),
                    StaticFn(env, "getsockname", GetSockName),
                    StaticFn(env, "getpeername", GetPeerName),
                    StaticFn(env, "setOption", SetOption),
                    StaticFn(env, "getOption", GetOption),
                    StaticFn(env, "setConnectTimeout", SetConnectTimeout),
                    StaticFn(env, "getConnectTimeout", GetConnectTimeout),
                    StaticFn(env, "describe", Describe),
                    StaticFn(env, "localCid", LocalCid),
#ifndef _WIN32
                    StaticFn(env, "standInPair", StandInPair),
                    StaticFn(env, "standInInet", StandInInet),
                    StaticFn(env, "isListening", IsListening),
                    StaticFn(env, "setCloexec", SetCloexec),
                    InstanceMethod<&Addon::Reserve>("reserve", napi_enumerable),
#endif
                });
#ifndef _WIN32
    DefineIo(env, exports, constants);  // the poll path's data calls (native/io.cc)
#endif
  }

#ifndef _WIN32
  // The environment's spare descriptor is closed with the environment (a
  // terminated Worker runs no JS that could close it).
  ~Addon() {
    if (reserve_fd_ >= 0) close(reserve_fd_);
  }
#endif

 private:
#ifndef _WIN32
  // reserve(hold) -> status: the environment's spare descriptor for the
  // EMFILE trick (lib/linux/poll/accept-overload.ts), as libuv's emfile_fd ("/",
  // read-only, close-on-exec). true opens it unless open (0 or -err);
  // false closes it, making room for one accept.
  Napi::Value Reserve(const Napi::CallbackInfo& info) {
    bool hold = info[0].ToBoolean().Value();
    if (hold && reserve_fd_ < 0) {
      reserve_fd_ = open("/", O_RDONLY | O_CLOEXEC);
      if (reserve_fd_ < 0) return Status(info.Env(), -errno);
    } else if (!hold && reserve_fd_ >= 0) {
      close(reserve_fd_);
      reserve_fd_ = -1;
    }
    return Status(info.Env(), 0);
  }

  int reserve_fd_ = -1;
#endif

  static PropertyDescriptor StaticFn(Napi::Env env, const char* name, Napi::Function::Callback fn) {
    return InstanceValue(name, Napi::Function::New(env, fn, name), napi_enumerable);
  }
};

}  // namespace
}  // namespace hvsock

using HvsockAddon = hvsock::Addon;
NODE_API_NAMED_ADDON(hvsock, HvsockAddon)
