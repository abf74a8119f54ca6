// Node glue for io.h: the data calls of the poll-driven path. Arguments are
// trusted to have the documented types (lib/ validates); results are numbers.
#include <napi.h>
#include <sys/socket.h>  // MSG_TRUNC for the constants

#include <vector>

#include "glue.h"
#include "io.h"

namespace hvsock {
namespace {

using glue::Fd;

// read(fd, buffer) -> bytes | 0 (end) | -err; fills buffer from its start.
Napi::Value Read(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  return glue::Status(info.Env(), hvsock_read(Fd(info[0]), buf.Data(), buf.ByteLength()));
}

// writev(fd, buffers[]) -> bytes accepted | -err. One message on SEQPACKET.
Napi::Value Writev(const Napi::CallbackInfo& info) {
  Napi::Array list = info[1].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count > hvsock_max_bufs()) count = static_cast<uint32_t>(hvsock_max_bufs());
  std::vector<hvsock_buf> bufs(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Uint8Array buf = list.Get(i).As<Napi::Uint8Array>();
    bufs[i].base = buf.Data();
    bufs[i].len = buf.ByteLength();
  }
  return glue::Status(info.Env(), hvsock_writev(Fd(info[0]), bufs.data(), bufs.size()));
}

// recvmsg(fd, buffer, flagsOut: Int32Array) -> bytes | -err; flagsOut[0] = msg_flags.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  Napi::Int32Array flags_out = info[2].As<Napi::Int32Array>();
  int flags = 0;
  int64_t n = hvsock_recvmsg(Fd(info[0]), buf.Data(), buf.ByteLength(), &flags);
  if (flags_out.ElementLength() > 0) flags_out[0] = flags;
  return glue::Status(info.Env(), n);
}

}  // namespace

void DefineMessageSender(Napi::Env env, Napi::Object exports);  // native/addon_message_sender.cc

// Adds the io functions to the addon's exports and MSG_TRUNC to its constants.
void DefineIo(Napi::Env env, Napi::Object exports, Napi::Object constants) {
  constants.Set("MSG_TRUNC", Napi::Number::New(env, MSG_TRUNC));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("writev", Napi::Function::New(env, Writev, "writev"));
  exports.Set("recvmsg", Napi::Function::New(env, RecvMsg, "recvmsg"));
  DefineMessageSender(env, exports);
  exports.Set("maxWriteBuffers", Napi::Number::New(env, static_cast<double>(hvsock_max_bufs())));
}

}  // namespace hvsock
