// Node glue for the overlapped path (overlapped_win32.h): `binding.win.Overlapped`,
// one object per connected SOCKET. Results come from the completion thread
// through a napi_threadsafe_function per socket, as addon_win32.cc's socket
// threads post theirs: the JS thread never waits for the completion thread
// (close takes the channel's lock, held only around one completion), a
// result queued for a socket closed meanwhile is dropped, and environment
// teardown (a terminated Worker) closes the socket through a cleanup hook.
#include "addon_overlapped_win32.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>  // UV_E* constants

#include "addon_callback.h"
#include "overlapped_win32.h"

namespace hvsock {
namespace {

class Overlapped;

// What the threadsafe function's callbacks need; freed by its finalizer.
struct Glue {
  napi_env env = nullptr;
  hvsock_channel* channel = nullptr;  // null once closed
  napi_threadsafe_function tsfn = nullptr;
  napi_async_context context = nullptr;
  Overlapped* owner = nullptr;
};

// Completion thread, under the channel's lock, channel open: so the
// threadsafe function has not been released yet.
void PostEvent(void* context, hvsock_io_event* event) {
  Glue* glue = static_cast<Glue*>(context);
  if (napi_call_threadsafe_function(glue->tsfn, event, napi_tsfn_nonblocking) != napi_ok) {
    hvsock_io_event_free(event);
  }
}

void FreeData(napi_env, void* data, void*) { free(data); }

class Overlapped : public Napi::ObjectWrap<Overlapped> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Overlapped",
                       {
                           InstanceMethod<&Overlapped::Read>("read"),
                           InstanceMethod<&Overlapped::Write>("write"),
                           InstanceMethod<&Overlapped::Shutdown>("shutdown"),
                           InstanceMethod<&Overlapped::Close>("close"),
                           InstanceMethod<&Overlapped::RefLoop>("ref"),
                           InstanceMethod<&Overlapped::UnrefLoop>("unref"),
                       });
  }

  // new Overlapped(fd, callback(kind, status, systemCode, data | length), sendCap)
  // Takes `fd` (a connected SOCKET, never opened into libuv): closed by
  // close(), environment teardown, or a failed construction.
  explicit Overlapped(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Overlapped>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "Overlapped(fd, callback, sendCap)").ThrowAsJavaScriptException();
      return;
    }
    hvsock_fd fd = static_cast<hvsock_fd>(info[0].As<Napi::Number>().Int64Value());
    size_t cap = info.Length() > 2 && info[2].IsNumber() ? static_cast<size_t>(info[2].As<Napi::Number>().Int64Value()) : 0;
    Glue* glue = new Glue();
    glue->env = env;
    napi_value name = Napi::String::New(env, "HvsockOverlapped");
    bool ready = napi_async_init(env, Value(), name, &glue->context) == napi_ok &&
                 napi_create_threadsafe_function(env, info[1], nullptr, name, 0, 1, glue, Finalize, glue, CallJs,
                                                 &glue->tsfn) == napi_ok;
    int rc = ready ? hvsock_channel_open(fd, PostEvent, glue, cap, &glue->channel) : UV_ENOMEM;
    if (rc != 0) {
      if (!ready) hvsock_close(fd);
      glue->channel = nullptr;
      if (glue->tsfn != nullptr) {
        napi_release_threadsafe_function(glue->tsfn, napi_tsfn_abort);  // its finalizer frees glue
      } else {
        if (glue->context != nullptr) napi_async_destroy(env, glue->context);
        delete glue;
      }
      Napi::Error error = Napi::Error::New(env, "cannot start overlapped I/O on the socket");
      error.Set("status", Napi::Number::New(env, rc));
      error.ThrowAsJavaScriptException();
      return;
    }
    // After the threadsafe function exists, so this hook runs before its own
    // teardown (hooks run last-in, first-out).
    napi_add_env_cleanup_hook(env, Teardown, glue);
    glue->owner = this;
    glue_ = glue;
  }

  ~Overlapped() override {
    if (glue_ != nullptr) {
      glue_->owner = nullptr;
      Stop(glue_);
    }
  }

 private:
  // Closes the channel (no post after this) and lets the threadsafe
  // function go; its finalizer frees the glue. Idempotent.
  static void Stop(Glue* glue) {
    if (glue->channel == nullptr) return;
    hvsock_channel_close(glue->channel);
    glue->channel = nullptr;
    napi_remove_env_cleanup_hook(glue->env, Teardown, glue);
    if (glue->owner != nullptr) glue->owner->glue_ = nullptr;
    glue->owner = nullptr;
    napi_release_threadsafe_function(glue->tsfn, napi_tsfn_abort);
  }

  static void Teardown(void* data) { Stop(static_cast<Glue*>(data)); }

  static void Finalize(napi_env env, void* data, void*) {
    Glue* glue = static_cast<Glue*>(data);
    if (glue->channel != nullptr) {  // finalized by the environment before our hook ran
      hvsock_channel_close(glue->channel);
      glue->channel = nullptr;
      napi_remove_env_cleanup_hook(env, Teardown, glue);
      if (glue->owner != nullptr) glue->owner->glue_ = nullptr;
    }
    if (glue->context != nullptr) napi_async_destroy(env, glue->context);
    delete glue;
  }

  static void CallJs(napi_env env, napi_value callback, void* context, void* data) {
    hvsock_io_event* event = static_cast<hvsock_io_event*>(data);
    Glue* glue = static_cast<Glue*>(context);
    // No environment (the queue is emptied after the finalizer) or closed
    // since: nobody takes the result.
    if (env == nullptr || glue->channel == nullptr) return hvsock_io_event_free(event);
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return hvsock_io_event_free(event);
    napi_value argv[4];
    napi_value global = nullptr;
    bool made = napi_create_int32(env, event->kind, &argv[0]) == napi_ok &&
                napi_create_int32(env, event->status, &argv[1]) == napi_ok &&
                napi_create_uint32(env, event->system, &argv[2]) == napi_ok && napi_get_global(env, &global) == napi_ok;
    if (made && event->kind == HVSOCK_IO_READ && event->status == 0 && event->length > 0) {
      // The read buffer becomes the Buffer: no copy.
      made = napi_create_external_buffer(env, event->length, event->data, FreeData, nullptr, &argv[3]) == napi_ok;
      if (made) event->data = nullptr;
    } else if (made) {
      made = napi_create_double(env, static_cast<double>(event->length), &argv[3]) == napi_ok;
    }
    hvsock_io_event_free(event);
    if (made) CallIntoJs(env, glue->context, global, callback, 4, argv);
    napi_close_handle_scope(env, scope);
  }

  // read() -> 0 | -err: one overlapped WSARecv, unless one is pending.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    int rc = glue_ != nullptr ? hvsock_channel_read(glue_->channel) : UV_EBADF;
    return Napi::Number::New(info.Env(), rc);
  }

  // write(buffers) -> 0 | -err: the buffers are copied (the JS ones may be
  // collected or reused meanwhile); one WRITE result when all is sent.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (glue_ == nullptr) return Napi::Number::New(env, UV_EBADF);
    if (info.Length() < 1 || !info[0].IsArray()) {
      Napi::TypeError::New(env, "write(buffers)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array list = info[0].As<Napi::Array>();
    size_t total = 0;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value item = list.Get(i);
      if (!item.IsBuffer()) {
        Napi::TypeError::New(env, "write(buffers): Buffers only").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      total += item.As<Napi::Buffer<uint8_t>>().Length();
    }
    uint8_t* data = static_cast<uint8_t*>(malloc(total > 0 ? total : 1));
    if (data == nullptr) return Napi::Number::New(env, UV_ENOMEM);
    size_t at = 0;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Buffer<uint8_t> buffer = list.Get(i).As<Napi::Buffer<uint8_t>>();
      memcpy(data + at, buffer.Data(), buffer.Length());
      at += buffer.Length();
    }
    return Napi::Number::New(env, hvsock_channel_write(glue_->channel, data, total));
  }

  Napi::Value Shutdown(const Napi::CallbackInfo& info) {
    int rc = glue_ != nullptr ? hvsock_channel_shutdown(glue_->channel) : UV_EBADF;
    return Napi::Number::New(info.Env(), rc);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (glue_ != nullptr) Stop(glue_);
    return info.Env().Undefined();
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (glue_ != nullptr) napi_ref_threadsafe_function(info.Env(), glue_->tsfn);
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (glue_ != nullptr) napi_unref_threadsafe_function(info.Env(), glue_->tsfn);
    return info.Env().Undefined();
  }

  Glue* glue_ = nullptr;
};

}  // namespace

Napi::Function DefineOverlapped(Napi::Env env) { return Overlapped::Define(env); }

}  // namespace hvsock
