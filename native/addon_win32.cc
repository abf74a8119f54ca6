// Node glue for the Windows core: the socket thread (connect / accept off the
// event loop), the raw error of the last failure, the service registry, and
// the test-only AF_INET stand-in.
//
// libuv cannot accept AF_HYPERV connections (its AcceptEx makes AF_INET
// accept sockets) and its poll on such sockets would fall back to a slow
// select() thread. So a connect, or a listener's accepts, run on a thread of
// their own that waits with WSAEventSelect and posts results to the JS thread
// through a napi_threadsafe_function. Connected sockets are then opened into
// Node's TCP handle in TS (uv_tcp_open), where libuv's IOCP machinery does
// the reading and writing.
#include "addon_win32.h"

#include <winsock2.h>
#include <windows.h>

#include <string.h>
#include <uv.h>  // UV_E* constants

#include "hvsock_win32.h"

namespace hvsock {
namespace {

constexpr size_t kAddressBytes = 40;  // struct hvsock_addr as addon.cc encodes it

void EncodeAddress(const hvsock_addr& addr, uint8_t* p) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(addr.cid >> (8 * i));
  for (int i = 0; i < 4; i++) p[4 + i] = uint8_t(addr.port >> (8 * i));
  memcpy(p + 8, addr.vm_id, 16);
  memcpy(p + 24, addr.service_id, 16);
}

void DecodeAddress(const uint8_t* p, hvsock_addr* addr) {
  memset(addr, 0, sizeof *addr);
  for (int i = 0; i < 4; i++) addr->cid |= uint32_t(p[i]) << (8 * i);
  for (int i = 0; i < 4; i++) addr->port |= uint32_t(p[4 + i]) << (8 * i);
  memcpy(addr->vm_id, p + 8, 16);
  memcpy(addr->service_id, p + 24, 16);
}

// One result of the thread: a connect outcome, or an accepted client / an
// accept error.
struct Delivery {
  int status = 0;
  uint32_t system = 0;
  bool has_client = false;
  hvsock_fd client = 0;
  hvsock_addr peer;
};

class SocketThread;

// Outlives the JS wrapper: freed by the threadsafe function's finalizer,
// after the thread has been joined and every queued delivery drained.
struct ThreadState {
  napi_env env = nullptr;
  hvsock_fd fd = 0;
  bool owns_fd = true;
  bool accept = false;
  hvsock_addr target;
  HANDLE stop = nullptr;  // manual-reset event: ends the thread's waits
  HANDLE thread = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  napi_async_context context = nullptr;
  SocketThread* owner = nullptr;
  bool stopped = false;  // JS thread only
};

void CloseClient(Delivery* d) {
  if (d->has_client) hvsock_close(d->client);
  delete d;
}

void Post(ThreadState* s, Delivery* d) {
  if (napi_call_threadsafe_function(s->tsfn, d, napi_tsfn_nonblocking) != napi_ok) CloseClient(d);
}

bool Stopping(ThreadState* s) { return WaitForSingleObject(s->stop, 0) == WAIT_OBJECT_0; }

void RunConnect(ThreadState* s) {
  Delivery* d = new Delivery();
  d->status = hvsock_connect_wait(s->fd, &s->target, s->stop);
  d->system = hvsock_last_system_error();
  if (Stopping(s)) {
    delete d;
    return;
  }
  Post(s, d);
}

// Connections the peer gave up before we took them are not worth an 'error'.
bool Transient(int status) { return status == UV_ECONNRESET || status == UV_ECONNABORTED; }

void RunAccept(ThreadState* s) {
  HANDLE event = WSACreateEvent();
  int selected = event == WSA_INVALID_EVENT ? UV_ENOMEM : hvsock_accept_select(s->fd, event);
  if (selected != 0) {
    Delivery* d = new Delivery();
    d->status = selected;
    d->system = hvsock_last_system_error();
    Post(s, d);
    if (event != WSA_INVALID_EVENT) WSACloseEvent(event);
    return;
  }
  while (!Stopping(s)) {
    int rc = hvsock_accept_wait(s->fd, event, s->stop);
    if (Stopping(s)) break;
    for (;;) {
      Delivery* d = new Delivery();
      if (rc == 0) rc = hvsock_accept(s->fd, &d->client, &d->peer);
      if (rc == UV_EAGAIN || Transient(rc)) {
        delete d;
        break;
      }
      d->status = rc;
      d->system = hvsock_last_system_error();
      d->has_client = rc == 0;
      Post(s, d);
      if (rc != 0) {
        Sleep(50);  // a persistent failure (EMFILE, ...) must not spin this thread
        break;
      }
    }
  }
  WSACloseEvent(event);
}

DWORD WINAPI Run(void* data) {
  ThreadState* s = static_cast<ThreadState*>(data);
  if (s->accept) {
    RunAccept(s);
  } else {
    RunConnect(s);
  }
  return 0;
}

class SocketThread : public Napi::ObjectWrap<SocketThread> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SocketThread",
                       {
                           InstanceMethod<&SocketThread::Close>("close"),
                           InstanceMethod<&SocketThread::Release>("release"),
                           InstanceMethod<&SocketThread::RefLoop>("ref"),
                           InstanceMethod<&SocketThread::UnrefLoop>("unref"),
                       });
  }

  // new SocketThread(fd, address | null, accept, callback(status, systemCode, clientFd, peer))
  // Owns `fd` from here on: close() and environment teardown close it,
  // release() hands it back.
  explicit SocketThread(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SocketThread>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[3].IsFunction()) {
      Napi::TypeError::New(env, "SocketThread(fd, address, accept, callback)").ThrowAsJavaScriptException();
      return;
    }
    ThreadState* s = new ThreadState();
    s->env = env;
    s->fd = static_cast<hvsock_fd>(info[0].As<Napi::Number>().Int64Value());
    s->accept = info[2].ToBoolean().Value();
    memset(&s->target, 0, sizeof s->target);
    if (info[1].IsTypedArray()) {
      Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
      if (bytes.ByteLength() >= kAddressBytes) DecodeAddress(bytes.Data(), &s->target);
    }
    s->stop = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    napi_value name = Napi::String::New(env, "HvsockSocketThread");
    bool ready = s->stop != nullptr &&
                 napi_async_init(env, Value(), name, &s->context) == napi_ok &&
                 napi_create_threadsafe_function(env, info[3], nullptr, name, 0, 1, s, Finalize, s, CallJs,
                                                 &s->tsfn) == napi_ok;
    if (ready) s->thread = CreateThread(nullptr, 0, Run, s, 0, nullptr);
    if (s->thread == nullptr) {
      // Nothing started: undo by hand, the fd stays the caller's.
      if (s->tsfn != nullptr) {
        s->owns_fd = false;
        s->stopped = true;
        napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
      } else {
        if (s->context != nullptr) napi_async_destroy(env, s->context);
        if (s->stop != nullptr) CloseHandle(s->stop);
        delete s;
      }
      Napi::Error::New(env, "cannot start the socket thread").ThrowAsJavaScriptException();
      return;
    }
    // After the threadsafe function exists, so this hook runs before its own
    // teardown (hooks run last-in, first-out): the thread is joined first.
    napi_add_env_cleanup_hook(env, Teardown, s);
    s->owner = this;
    state_ = s;
    Ref();  // the wrapper lives while the thread does
  }

  ~SocketThread() override {
    if (state_ != nullptr) state_->owner = nullptr;
    if (state_ != nullptr) Stop(state_);
  }

  void Forget() {
    if (state_ == nullptr) return;
    state_ = nullptr;
    Unref();
  }

  // Ends the thread (joining it), closes the fd if still owned, and lets the
  // threadsafe function go; its finalizer frees the state.
  static void Stop(ThreadState* s) {
    if (s->stopped) return;
    s->stopped = true;
    SetEvent(s->stop);
    WaitForSingleObject(s->thread, INFINITE);
    CloseHandle(s->thread);
    if (s->owns_fd) hvsock_close(s->fd);
    s->owns_fd = false;
    napi_remove_env_cleanup_hook(s->env, Teardown, s);
    if (s->owner != nullptr) s->owner->Forget();
    s->owner = nullptr;
    napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
  }

 private:
  static void Teardown(void* data) { Stop(static_cast<ThreadState*>(data)); }

  static void Finalize(napi_env env, void* data, void* hint) {
    (void)hint;
    ThreadState* s = static_cast<ThreadState*>(data);
    if (!s->stopped) {  // finalized by the environment before our hook ran
      s->stopped = true;
      SetEvent(s->stop);
      WaitForSingleObject(s->thread, INFINITE);
      CloseHandle(s->thread);
      if (s->owns_fd) hvsock_close(s->fd);
      napi_remove_env_cleanup_hook(env, Teardown, s);
      if (s->owner != nullptr) s->owner->Forget();
    }
    if (s->context != nullptr) napi_async_destroy(env, s->context);
    CloseHandle(s->stop);
    delete s;
  }

  static void CallJs(napi_env env, napi_value callback, void* context, void* data) {
    Delivery* d = static_cast<Delivery*>(data);
    ThreadState* s = static_cast<ThreadState*>(context);
    if (env == nullptr || s->stopped) return CloseClient(d);
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return CloseClient(d);
    // Any of these fails when the environment is shutting down (a Worker
    // being terminated): then nobody can take the client, so close it.
    napi_value argv[4];
    napi_value global = nullptr;
    napi_value buffer = nullptr;
    void* bytes = nullptr;
    bool made = napi_create_int32(env, d->status, &argv[0]) == napi_ok &&
                napi_create_uint32(env, d->system, &argv[1]) == napi_ok &&
                napi_create_int64(env, d->has_client ? static_cast<int64_t>(d->client) : -1, &argv[2]) == napi_ok &&
                napi_create_arraybuffer(env, kAddressBytes, &bytes, &buffer) == napi_ok && bytes != nullptr &&
                napi_create_typedarray(env, napi_uint8_array, kAddressBytes, buffer, 0, &argv[3]) == napi_ok &&
                napi_get_global(env, &global) == napi_ok;
    if (!made) {
      napi_close_handle_scope(env, scope);
      return CloseClient(d);
    }
    EncodeAddress(d->peer, static_cast<uint8_t*>(bytes));
    delete d;  // the client fd now belongs to JS
    napi_value result = nullptr;
    if (napi_make_callback(env, s->context, global, callback, 4, argv, &result) != napi_ok) {
      // As Poller::Deliver: a throw in the callback becomes 'uncaughtException'.
      bool pending = false;
      napi_value error = nullptr;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
          napi_get_and_clear_last_exception(env, &error) == napi_ok) {
        napi_valuetype type = napi_undefined;
        napi_typeof(env, error, &type);
        if (type != napi_undefined && type != napi_null) napi_fatal_exception(env, error);
      }
    }
    napi_close_handle_scope(env, scope);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) Stop(state_);
    return info.Env().Undefined();
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) {
      state_->owns_fd = false;
      Stop(state_);
    }
    return info.Env().Undefined();
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) napi_ref_threadsafe_function(info.Env(), state_->tsfn);
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) napi_unref_threadsafe_function(info.Env(), state_->tsfn);
    return info.Env().Undefined();
  }

  ThreadState* state_ = nullptr;
};

Napi::Value LastSystemError(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), hvsock_last_system_error());
}

// handleCount() -> this process's open kernel handles (sockets, threads,
// events): lets tests prove that connects, accepts and closes leak none.
Napi::Value HandleCount(const Napi::CallbackInfo& info) {
  DWORD count = 0;
  if (!GetProcessHandleCount(GetCurrentProcess(), &count)) {
    return Napi::Number::New(info.Env(), hvsock_translate_error(GetLastError()));
  }
  return Napi::Number::New(info.Env(), count);
}

// standInInet() -> fd | -err (TEST-ONLY, see hvsock_win32.h)
Napi::Value StandInInet(const Napi::CallbackInfo& info) {
  hvsock_fd fd = 0;
  int rc = hvsock_standin_inet(&fd);
  return Napi::Number::New(info.Env(), rc == 0 ? static_cast<double>(fd) : rc);
}

std::wstring Wide(const Napi::Value& value) {
  std::u16string text = value.As<Napi::String>().Utf16Value();
  return std::wstring(text.begin(), text.end());
}

Napi::String Narrow(Napi::Env env, const std::wstring& text) {
  return Napi::String::New(env, std::u16string(text.begin(), text.end()));
}

// registerService(serviceId, name) / unregisterService(serviceId) -> status
Napi::Value RegisterService(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), hvsock_registry_set(Wide(info[0]), Wide(info[1])));
}

Napi::Value UnregisterService(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), hvsock_registry_delete(Wide(info[0])));
}

// listServices() -> [[serviceId, name], ...] | -err
Napi::Value ListServices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::pair<std::wstring, std::wstring>> found;
  int rc = hvsock_registry_list(&found);
  if (rc != 0) return Napi::Number::New(env, rc);
  Napi::Array out = Napi::Array::New(env, found.size());
  for (size_t i = 0; i < found.size(); i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Narrow(env, found[i].first));
    pair.Set(1u, Narrow(env, found[i].second));
    out.Set(static_cast<uint32_t>(i), pair);
  }
  return out;
}

}  // namespace

Napi::Object DefineWin32(Napi::Env env) {
  Napi::Object win = Napi::Object::New(env);
  win.Set("SocketThread", SocketThread::Define(env));
  win.Set("lastSystemError", Napi::Function::New(env, LastSystemError, "lastSystemError"));
  win.Set("standInInet", Napi::Function::New(env, StandInInet, "standInInet"));
  win.Set("handleCount", Napi::Function::New(env, HandleCount, "handleCount"));
  win.Set("registerService", Napi::Function::New(env, RegisterService, "registerService"));
  win.Set("unregisterService", Napi::Function::New(env, UnregisterService, "unregisterService"));
  win.Set("listServices", Napi::Function::New(env, ListServices, "listServices"));
  return win;
}

}  // namespace hvsock
