// Node glue for the Windows core: connects and accepts waited for off the
// event loop, the raw error of the last failure, the service registry, and
// the test-only AF_INET stand-in.
//
// libuv cannot accept AF_HYPERV connections (its AcceptEx makes AF_INET
// accept sockets) and its poll on such sockets would fall back to a slow
// select() thread. So native threads wait with WSAEventSelect and post
// results to the JS thread through a napi_threadsafe_function: one waiter
// thread per environment for all pending connects (ConnectWaiter), and one
// accept thread per listening server. Connected sockets are then opened into
// Node's TCP handle in TS (uv_tcp_open), where libuv's IOCP machinery does
// the reading and writing.
//
// Why event selection and not ConnectEx/AcceptEx on a completion port: a
// SOCKET can belong to one completion port only, and uv_tcp_open must
// associate it with libuv's (else libuv falls back to slow emulated IOCP).
// Why not WSAPoll: it did not report failed connects before Windows 10 2004.
// WSAEventSelect lets many sockets share one event, so one thread waits on
// two handles however many connects are pending, on Windows and under Wine.
//
// The JS thread never waits for these threads: close() takes a lock that a
// thread holds only around one non-blocking socket call, closes the socket
// itself (so the service is free again at once), and leaves the thread to
// notice and exit; each thread owns a reference to the state it uses.
#include "addon_win32.h"

#include <winsock2.h>
#include <windows.h>
#include <tlhelp32.h>

#include <string.h>
#include <uv.h>  // UV_E* constants

#include <algorithm>
#include <atomic>
#include <vector>

#include "addon_callback.h"
#include "glue.h"
#include "hvsock_win32.h"
#include "addon_overlapped_win32.h"

namespace hvsock {
namespace {

using glue::DecodeAddress;
using glue::EncodeAddress;
using glue::kAddressBytes;  // struct hvsock_addr as glue.h encodes it

// A listener's accepted connections not yet taken by the JS thread. While
// this many wait, the accept thread stops accepting and the kernel's backlog
// holds the rest (refusing beyond it), as for any server that falls behind.
constexpr int kMaxQueuedAccepts = 128;

// How often the waits look at the sockets themselves (see hvsock_win32.h).
constexpr DWORD kRecheckMs = 250;

// One result: a connect outcome, or an accepted client / an accept error.
struct Delivery {
  int status = 0;
  uint32_t system = 0;
  bool has_client = false;
  hvsock_fd client = 0;
  hvsock_addr peer;
};

class SocketThread;
class ConnectWaiter;

// One connect or one listener. Freed when the last of its owners lets go:
// the threadsafe function's finalizer (after every queued delivery was
// drained) and, for a listener, its accept thread.
struct ThreadState {
  napi_env env = nullptr;
  hvsock_fd fd = 0;
  bool owns_fd = true;  // JS thread; the fd is closed under `lock` / the waiter's lock
  bool accept = false;
  hvsock_addr target;
  napi_threadsafe_function tsfn = nullptr;
  napi_async_context context = nullptr;
  SocketThread* owner = nullptr;
  bool stopped = false;  // JS thread only
  std::atomic<int> refs{1};
  // Connects: the environment's waiter, and whether the waiter started it.
  ConnectWaiter* waiter = nullptr;
  bool started = false;  // waiter thread only
  // Listeners: the accept thread's.
  HANDLE stop = nullptr;  // manual-reset: ends the accept thread's waits
  HANDLE room = nullptr;  // auto-reset: the JS thread took queued deliveries
  SRWLOCK lock = SRWLOCK_INIT;  // the accept thread holds it around each use of fd / tsfn
  bool closed = false;          // under `lock`: fd and tsfn are no longer the thread's
  std::atomic<int> queued{0};   // deliveries posted, not yet taken by the JS thread
};

// Starts `run(arg)` on a thread nobody joins. Such a thread may outlive its
// environment, and Node unloads an addon with the last environment that
// loaded it (a terminated Worker's): so the thread holds a reference to this
// DLL and drops it as it exits (FreeLibraryAndExitThread).
struct DetachedStart {
  LPTHREAD_START_ROUTINE run;
  void* arg;
  HMODULE module;
};

DWORD WINAPI RunDetached(void* data) {
  DetachedStart start = *static_cast<DetachedStart*>(data);
  delete static_cast<DetachedStart*>(data);
  start.run(start.arg);
  FreeLibraryAndExitThread(start.module, 0);
  return 0;
}

bool StartDetached(LPTHREAD_START_ROUTINE run, void* arg) {
  HMODULE module = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, reinterpret_cast<LPCWSTR>(&RunDetached), &module)) {
    return false;
  }
  DetachedStart* start = new DetachedStart{run, arg, module};
  HANDLE thread = CreateThread(nullptr, 0, RunDetached, start, 0, nullptr);
  if (thread == nullptr) {
    delete start;
    FreeLibrary(module);
    return false;
  }
  CloseHandle(thread);
  return true;
}

void Drop(ThreadState* s) {
  if (s->refs.fetch_sub(1) != 1) return;
  if (s->stop != nullptr) CloseHandle(s->stop);
  if (s->room != nullptr) CloseHandle(s->room);
  delete s;
}

void CloseClient(Delivery* d) {
  if (d->has_client) hvsock_close(d->client);
  delete d;
}

// Called with the state's lock held (accept) or the waiter's (connect): the
// JS thread cannot have let the threadsafe function go meanwhile.
void Post(ThreadState* s, Delivery* d) {
  if (napi_call_threadsafe_function(s->tsfn, d, napi_tsfn_nonblocking) != napi_ok) CloseClient(d);
}

// All pending connects of one environment, waited for by one thread: each
// socket signals one shared event on FD_CONNECT; on every wake-up the thread
// reads each socket's recorded events (WSAEnumNetworkEvents with no event,
// so the shared one is reset only by the thread, before it looks). So one
// thread and three kernel objects serve any number of pending connects.
class ConnectWaiter {
 public:
  // JS thread: starts `s` connecting (the thread calls connect()).
  int Add(ThreadState* s) {
    if (!StartThread()) return UV_ENOMEM;
    AcquireSRWLockExclusive(&shared_->fresh_lock);
    shared_->fresh.push_back(s);
    ReleaseSRWLockExclusive(&shared_->fresh_lock);
    SetEvent(shared_->wake);
    return 0;
  }

  // JS thread: forgets `s` (the thread will not touch it again) and closes
  // its fd if `close_fd`. Waits at most for one batch of socket calls.
  void Remove(ThreadState* s, bool close_fd) {
    if (shared_ != nullptr) {
      AcquireSRWLockExclusive(&shared_->lock);
      AcquireSRWLockExclusive(&shared_->fresh_lock);
      Erase(&shared_->fresh, s);
      ReleaseSRWLockExclusive(&shared_->fresh_lock);
      if (Erase(&shared_->pending, s)) hvsock_connect_done(s->fd);
      if (close_fd) hvsock_close(s->fd);
      ReleaseSRWLockExclusive(&shared_->lock);
    } else if (close_fd) {
      hvsock_close(s->fd);
    }
  }

  // Environment teardown (its hook is added before any connect's, so it runs
  // after theirs: nothing is pending any more). The thread is not joined:
  // it exits on `stop` and frees what it shares.
  static void Teardown(void* data) {
    ConnectWaiter* waiter = static_cast<ConnectWaiter*>(data);
    if (waiter->shared_ != nullptr) {
      SetEvent(waiter->shared_->stop);
      Release(waiter->shared_);
    }
    delete waiter;
  }

 private:
  struct Shared {
    SRWLOCK lock = SRWLOCK_INIT;        // pending, and every socket call on them
    SRWLOCK fresh_lock = SRWLOCK_INIT;  // fresh (taken after lock when both are)
    std::vector<ThreadState*> fresh;    // added, connect() not called yet
    std::vector<ThreadState*> pending;  // connecting
    HANDLE stop = nullptr;              // manual-reset
    HANDLE wake = nullptr;              // auto-reset: fresh has entries
    HANDLE network = WSA_INVALID_EVENT; // manual-reset, shared by the sockets
    std::atomic<int> refs{2};           // the environment and the thread
  };

  static void Release(Shared* shared) {
    if (shared->refs.fetch_sub(1) != 1) return;
    if (shared->stop != nullptr) CloseHandle(shared->stop);
    if (shared->wake != nullptr) CloseHandle(shared->wake);
    if (shared->network != WSA_INVALID_EVENT) WSACloseEvent(shared->network);
    delete shared;
  }

  static bool Erase(std::vector<ThreadState*>* list, ThreadState* s) {
    auto found = std::find(list->begin(), list->end(), s);
    if (found == list->end()) return false;
    *found = list->back();
    list->pop_back();
    return true;
  }

  bool StartThread() {
    if (shared_ != nullptr) return true;
    Shared* shared = new Shared();
    shared->stop = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    shared->wake = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    shared->network = WSACreateEvent();
    bool started = shared->stop != nullptr && shared->wake != nullptr && shared->network != WSA_INVALID_EVENT &&
                   StartDetached(Run, shared);  // never joined: see Teardown
    if (!started) {
      shared->refs = 1;
      Release(shared);
      return false;
    }
    shared_ = shared;
    return true;
  }

  // Reports `rc` for `s` and forgets it; under `lock`.
  static void Finish(ThreadState* s, int rc) {
    Delivery* d = new Delivery();
    d->status = rc;
    d->system = hvsock_last_system_error();
    hvsock_connect_done(s->fd);
    Post(s, d);
  }

  static DWORD WINAPI Run(void* data) {
    Shared* w = static_cast<Shared*>(data);
    HANDLE handles[3] = {w->stop, w->wake, w->network};
    ULONGLONG rechecked = GetTickCount64();
    bool idle = true;  // nothing pending: no rechecks, sleep until woken
    for (;;) {
      DWORD which = WaitForMultipleObjects(3, handles, FALSE, idle ? INFINITE : kRecheckMs);
      if (which == WAIT_OBJECT_0 || which == WAIT_FAILED) break;
      ULONGLONG now = GetTickCount64();
      bool recheck = now - rechecked >= kRecheckMs;
      if (recheck) rechecked = now;
      ResetEvent(w->network);  // before looking: an event from now on sets it again
      AcquireSRWLockExclusive(&w->lock);
      AcquireSRWLockExclusive(&w->fresh_lock);
      w->pending.insert(w->pending.end(), w->fresh.begin(), w->fresh.end());
      w->fresh.clear();
      ReleaseSRWLockExclusive(&w->fresh_lock);
      for (size_t i = 0; i < w->pending.size();) {
        ThreadState* s = w->pending[i];
        int rc = s->started ? hvsock_connect_poll(s->fd, recheck) : hvsock_connect_start(s->fd, &s->target, w->network);
        s->started = true;
        if (rc == UV_EAGAIN) {
          i++;
        } else {
          Finish(s, rc);
          w->pending[i] = w->pending.back();
          w->pending.pop_back();
        }
        // Let the JS thread in now and then (Remove): it never waits for
        // more than one batch. Entries moved meanwhile are seen next round.
        if (i % 32 == 31) {
          ReleaseSRWLockExclusive(&w->lock);
          AcquireSRWLockExclusive(&w->lock);
        }
      }
      idle = w->pending.empty();
      ReleaseSRWLockExclusive(&w->lock);
    }
    Release(w);
    return 0;
  }

  Shared* shared_ = nullptr;  // made with the thread, on the first connect
};

// Connections the peer gave up before we took them are not worth an 'error'.
bool Transient(int status) { return status == UV_ECONNRESET || status == UV_ECONNABORTED; }

// Posts `rc` (and the client when 0); under the state's lock, not closed.
void PostAccept(ThreadState* s, int rc, Delivery* d) {
  d->status = rc;
  d->system = hvsock_last_system_error();
  d->has_client = rc == 0;
  s->queued++;
  Post(s, d);
}

// While kMaxQueuedAccepts deliveries wait for the JS thread: 0 once there is
// room, UV_ECANCELED when stopped.
int WaitForRoom(ThreadState* s) {
  while (s->queued.load() >= kMaxQueuedAccepts) {
    int rc = hvsock_wait_event(s->room, s->stop, INFINITE);
    if (rc != 0) return rc;
  }
  return 0;
}

// One round: after a wake-up, accept until EAGAIN. Returns UV_ECANCELED when
// stopped or closed, else the last status.
int AcceptRound(ThreadState* s, HANDLE event) {
  AcquireSRWLockExclusive(&s->lock);
  int rc = s->closed ? UV_ECANCELED : hvsock_accept_events(s->fd, event);
  if (rc != 0 && rc != UV_ECANCELED && !Transient(rc)) PostAccept(s, rc, new Delivery());
  ReleaseSRWLockExclusive(&s->lock);
  if (rc != 0) return Transient(rc) ? 0 : rc;
  for (;;) {
    if (WaitForSingleObject(s->stop, 0) == WAIT_OBJECT_0) return UV_ECANCELED;
    if (WaitForRoom(s) != 0) return UV_ECANCELED;
    Delivery* d = new Delivery();
    AcquireSRWLockExclusive(&s->lock);
    rc = s->closed ? UV_ECANCELED : hvsock_accept(s->fd, &d->client, &d->peer);
    bool report = rc != UV_ECANCELED && rc != UV_EAGAIN && !Transient(rc);
    if (report) PostAccept(s, rc, d);
    ReleaseSRWLockExclusive(&s->lock);
    if (!report) delete d;
    if (rc == UV_ECANCELED || rc == UV_EAGAIN) return rc;
    if (rc != 0 && !Transient(rc)) return rc;
  }
}

DWORD WINAPI RunAccept(void* data) {
  ThreadState* s = static_cast<ThreadState*>(data);
  HANDLE event = WSACreateEvent();
  AcquireSRWLockExclusive(&s->lock);
  int rc = s->closed ? UV_ECANCELED : event == WSA_INVALID_EVENT ? UV_ENOMEM : hvsock_accept_select(s->fd, event);
  if (rc != 0 && rc != UV_ECANCELED) PostAccept(s, rc, new Delivery());
  ReleaseSRWLockExclusive(&s->lock);
  while (rc == 0 || rc == UV_EAGAIN) {
    rc = hvsock_wait_event(event, s->stop, kRecheckMs);
    if (rc == UV_ECANCELED) break;
    rc = AcceptRound(s, event);
    // A persistent failure (EMFILE, ...) must not spin this thread.
    if (rc != 0 && rc != UV_EAGAIN && rc != UV_ECANCELED) {
      rc = WaitForSingleObject(s->stop, 50) == WAIT_OBJECT_0 ? UV_ECANCELED : 0;
    }
  }
  if (event != WSA_INVALID_EVENT) WSACloseEvent(event);
  Drop(s);
  return 0;
}

class SocketThread : public Napi::ObjectWrap<SocketThread> {
 public:
  static Napi::Function Define(Napi::Env env, ConnectWaiter* waiter) {
    return DefineClass(env, "SocketThread",
                       {
                           InstanceMethod<&SocketThread::Close>("close"),
                           InstanceMethod<&SocketThread::Release>("release"),
                           InstanceMethod<&SocketThread::RefLoop>("ref"),
                           InstanceMethod<&SocketThread::UnrefLoop>("unref"),
                       },
                       waiter);
  }

  // new SocketThread(fd, address | null, accept, callback(status, systemCode, clientFd, peer))
  // A connect (handed to the environment's waiter thread) or a listener's
  // accept thread. Owns `fd` from here on: close() and environment teardown
  // close it, release() hands it back.
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
    bool ready = true;
    if (s->accept) {
      s->stop = CreateEventW(nullptr, TRUE, FALSE, nullptr);
      s->room = CreateEventW(nullptr, FALSE, FALSE, nullptr);
      ready = s->stop != nullptr && s->room != nullptr;
    } else {
      s->waiter = static_cast<ConnectWaiter*>(info.Data());
    }
    napi_value name = Napi::String::New(env, "HvsockSocketThread");
    ready = ready && napi_async_init(env, Value(), name, &s->context) == napi_ok &&
            napi_create_threadsafe_function(env, info[3], nullptr, name, 0, 1, s, Finalize, s, CallJs, &s->tsfn) ==
                napi_ok;
    bool started = false;
    if (ready && s->accept) {
      s->refs++;  // the accept thread's
      started = StartDetached(RunAccept, s);  // never joined: see Stop
      if (!started) s->refs--;
    } else if (ready) {
      started = s->waiter->Add(s) == 0;
    }
    if (!started) {
      // Nothing started: undo by hand, the fd stays the caller's.
      if (s->tsfn != nullptr) {
        s->owns_fd = false;
        s->stopped = true;
        napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
      } else {
        if (s->context != nullptr) napi_async_destroy(env, s->context);
        Drop(s);
      }
      Napi::Error::New(env, "cannot start the socket thread").ThrowAsJavaScriptException();
      return;
    }
    // After the threadsafe function exists, so this hook runs before its own
    // teardown (hooks run last-in, first-out): the threads let go of it first.
    napi_add_env_cleanup_hook(env, Teardown, s);
    s->owner = this;
    state_ = s;
    Ref();  // the wrapper lives while the connect or the listener does
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

  // Takes the fd and the threadsafe function away from the waiter or the
  // accept thread, without waiting for either: the accept thread holds its
  // lock only around one non-blocking call and exits on `stop` by itself.
  // Closes the fd if still owned.
  static void Detach(ThreadState* s) {
    if (s->accept) {
      SetEvent(s->stop);
      AcquireSRWLockExclusive(&s->lock);
      s->closed = true;
      if (s->owns_fd) hvsock_close(s->fd);
      ReleaseSRWLockExclusive(&s->lock);
    } else {
      s->waiter->Remove(s, s->owns_fd);
    }
    s->owns_fd = false;
  }

  // Ends the connect or the accepting, closes the fd if still owned, and
  // lets the threadsafe function go; its finalizer frees the state.
  static void Stop(ThreadState* s) {
    if (s->stopped) return;
    s->stopped = true;
    Detach(s);
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
      Detach(s);
      napi_remove_env_cleanup_hook(env, Teardown, s);
      if (s->owner != nullptr) s->owner->Forget();
    }
    if (s->context != nullptr) napi_async_destroy(env, s->context);
    Drop(s);
  }

  static void CallJs(napi_env env, napi_value callback, void* context, void* data) {
    Delivery* d = static_cast<Delivery*>(data);
    // No environment: the queue is being emptied after the finalizer, when
    // `context` may be gone already.
    if (env == nullptr) return CloseClient(d);
    ThreadState* s = static_cast<ThreadState*>(context);
    if (s->accept && s->queued.fetch_sub(1) >= kMaxQueuedAccepts) SetEvent(s->room);
    if (s->stopped) return CloseClient(d);
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
    // As Poller::Deliver: a throw in the callback becomes 'uncaughtException'.
    CallIntoJs(env, s->context, global, callback, 4, argv);
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

// threadCount() -> this process's threads (Toolhelp snapshot) | -err: lets
// tests prove that pending connects and floods of accepts use a bounded number.
Napi::Value ThreadCount(const Napi::CallbackInfo& info) {
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return Napi::Number::New(info.Env(), hvsock_translate_error(GetLastError()));
  DWORD self = GetCurrentProcessId();
  int count = 0;
  THREADENTRY32 entry;
  entry.dwSize = sizeof entry;
  for (BOOL more = Thread32First(snapshot, &entry); more; more = Thread32Next(snapshot, &entry)) {
    if (entry.th32OwnerProcessID == self) count++;
    entry.dwSize = sizeof entry;
  }
  CloseHandle(snapshot);
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

// systemDirectory() -> "C:\\Windows\\System32" | -err (GetSystemDirectoryW)
Napi::Value SystemDirectory(const Napi::CallbackInfo& info) {
  std::wstring path;
  int rc = hvsock_system_directory(&path);
  if (rc != 0) return Napi::Number::New(info.Env(), rc);
  return Narrow(info.Env(), path);
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
  // Added before any connect's own hook, so it runs after theirs.
  ConnectWaiter* waiter = new ConnectWaiter();
  napi_add_env_cleanup_hook(env, ConnectWaiter::Teardown, waiter);
  win.Set("SocketThread", SocketThread::Define(env, waiter));
  win.Set("Overlapped", DefineOverlapped(env));
  win.Set("lastSystemError", Napi::Function::New(env, LastSystemError, "lastSystemError"));
  win.Set("standInInet", Napi::Function::New(env, StandInInet, "standInInet"));
  win.Set("handleCount", Napi::Function::New(env, HandleCount, "handleCount"));
  win.Set("threadCount", Napi::Function::New(env, ThreadCount, "threadCount"));
  win.Set("systemDirectory", Napi::Function::New(env, SystemDirectory, "systemDirectory"));
  win.Set("registerService", Napi::Function::New(env, RegisterService, "registerService"));
  win.Set("unregisterService", Napi::Function::New(env, UnregisterService, "unregisterService"));
  win.Set("listServices", Napi::Function::New(env, ListServices, "listServices"));
  return win;
}

}  // namespace hvsock
