// Node glue for hvsock.h (the syscall core: hvsock_linux.cc, hvsock_win32.cc,
// io_linux.cc): converts arguments, calls the core, returns the
// integer status. Validation and every decision live in lib/ (TypeScript);
// arguments here are trusted to have the documented types.
#include <napi.h>
#include <string.h>

#include "glue.h"
#include "hvsock.h"

#ifdef _WIN32
#include "addon_win32.h"  // Windows: socket threads, registry, stand-in (binding.win)
#else
#include <sys/socket.h>  // AF_* / SOCK_* for the constants

#include "addon_custody.h"
#include "addon_poller.h"
#include "io.h"
#endif

namespace hvsock {
#ifndef _WIN32
// native/addon_io.cc: read/writev/recvmsg for the poll-driven path (lib/linux/poll/).
void DefineIo(Napi::Env env, Napi::Object exports, Napi::Object constants);
#endif
namespace {

using glue::Fd;
using glue::Int;
using glue::Status;

hvsock_addr DecodeAddress(const Napi::Value& value) {
  hvsock_addr addr;
  memset(&addr, 0, sizeof addr);
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (bytes.ByteLength() >= glue::kAddressBytes) glue::DecodeAddress(bytes.Data(), &addr);
  return addr;
}

void EncodeAddress(const hvsock_addr& addr, const Napi::Value& value) {
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (bytes.ByteLength() >= glue::kAddressBytes) glue::EncodeAddress(addr, bytes.Data());
}

// A descriptor the addon just made: held until an owner takes it (addon_custody.h).
void TakeCustody(Napi::Env env, hvsock_fd fd) {
#ifndef _WIN32
  FdCustodyOf(env).Take(fd);
#else
  (void)env, (void)fd;
#endif
}

// socket(type) -> fd | -err
Napi::Value Socket(const Napi::CallbackInfo& info) {
  hvsock_fd fd = 0;
  int rc = hvsock_socket(Int(info[0]), &fd);
  if (rc != 0) return Status(info.Env(), rc);
  TakeCustody(info.Env(), fd);
  return Status(info.Env(), static_cast<int64_t>(fd));
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
  TakeCustody(info.Env(), client);
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
  hvsock_fd fd = Fd(info[0]);
#ifndef _WIN32
  FdCustodyOf(info.Env()).Drop(fd);
#endif
  return Status(info.Env(), hvsock_close(fd));
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
  hvsock_fd fds[2];
  int type = info.Length() > 0 && info[0].IsNumber() ? Int(info[0]) : HVSOCK_STREAM;
  int rc = hvsock_standin_pair(type, fds);
  if (rc != 0) return Status(info.Env(), rc);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

Napi::Value StandInInet(const Napi::CallbackInfo& info) {
  hvsock_fd fd = 0;
  int rc = hvsock_standin_inet(&fd);
  return Status(info.Env(), rc == 0 ? fd : rc);
}

// Adopting inherited descriptors (lib/linux/fd.ts): Linux-only calls of
// io.h, so the Windows core need not grow them.
// isListening(fd) -> 1 | 0 | -err (SO_ACCEPTCONN)
Napi::Value IsListening(const Napi::CallbackInfo& info) {
  return Status(info.Env(), hvsock_is_listening(Fd(info[0])));
}

// setCloexec(fd) -> status: an inherited descriptor is not close-on-exec;
// once owned it must not leak into our own children (as sd_listen_fds does).
Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  return Status(info.Env(), hvsock_set_cloexec(Fd(info[0])));
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
                    InstanceMethod<&Addon::Disown>("disown", napi_enumerable),
                    InstanceMethod<&Addon::HeldDescriptors>("heldDescriptors", napi_enumerable),
#endif
                });
#ifndef _WIN32
    DefineIo(env, exports, constants);  // the poll path's data calls (native/addon_io.cc)
#endif
  }

#ifndef _WIN32
  // The environment's spare descriptor is closed with the environment (a
  // terminated Worker runs no JS that could close it).
  ~Addon() {
    if (reserve_fd_ >= 0) hvsock_close(reserve_fd_);
  }

  FdCustody& custody() { return custody_; }
#endif

 private:
#ifndef _WIN32
  // reserve(hold) -> status: the environment's spare descriptor for the
  // EMFILE trick (lib/linux/poll/accept-overload.ts), as libuv's emfile_fd ("/",
  // read-only, close-on-exec). true opens it unless open (0 or -err);
  // false closes it, making room for one accept.
  Napi::Value Reserve(const Napi::CallbackInfo& info) {
    bool hold = glue::Flag(info[0]);
    if (hold && reserve_fd_ < 0) {
      int rc = hvsock_open_reserve(&reserve_fd_);
      if (rc != 0) {
        reserve_fd_ = -1;
        return Status(info.Env(), rc);
      }
    } else if (!hold && reserve_fd_ >= 0) {
      hvsock_close(reserve_fd_);
      reserve_fd_ = -1;
    }
    return Status(info.Env(), 0);
  }

  int reserve_fd_ = -1;

  // disown(fd): a Node handle is about to own the fd (handle.open), so
  // teardown must no longer close it.
  Napi::Value Disown(const Napi::CallbackInfo& info) {
    custody_.Drop(Fd(info[0]));
    return info.Env().Undefined();
  }

  // heldDescriptors() -> how many fds await an owner (tests: 0 when idle).
  Napi::Value HeldDescriptors(const Napi::CallbackInfo& info) {
    return Status(info.Env(), static_cast<int64_t>(custody_.Size()));
  }

  FdCustody custody_;  // destroyed with the environment: closes what it holds
#endif

  static PropertyDescriptor StaticFn(Napi::Env env, const char* name, Napi::Function::Callback fn) {
    return InstanceValue(name, Napi::Function::New(env, fn, name), napi_enumerable);
  }
};

}  // namespace

#ifndef _WIN32
FdCustody& FdCustodyOf(Napi::Env env) { return env.GetInstanceData<Addon>()->custody(); }
#endif
}  // namespace hvsock

using HvsockAddon = hvsock::Addon;
NODE_API_NAMED_ADDON(hvsock, HvsockAddon)
