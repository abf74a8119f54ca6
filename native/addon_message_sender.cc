// MessageSender: SOCK_SEQPACKET sends for lib/linux/poll/seqpacket.ts, each message one
// *blocking* send() on a thread of the socket's own.
//
// Why blocking: a non-blocking vsock SEQPACKET send (Linux 6.1) that runs out
// of peer credit mid-message returns EAGAIN *after* part of the message went
// out without its end-of-message mark, and there is no way to learn how much
// (no SIOCOUTQ for vsock before 6.9; poll's POLLOUT means "1 byte of
// credit"); a resend then arrives merged with that part as one message
// (test/probes/seqpacket-kernel.c, test/linux/poll/seqpacket.test.ts). Only a blocking
// send waits for credit inside the kernel and keeps the message whole.
//
// Why a thread per socket, not libuv's threadpool: a peer that never reads
// blocks its sender indefinitely; on the threadpool four of them stalled
// every fs/dns/crypto/zlib call of the process, and process.exit() hung
// joining the pool. A thread of our own stalls only its socket, and nothing
// joins it on process.exit(). It starts at the first send and ends at close().
//
// Memory: send() copies the message into memory the thread owns before it
// returns, so what the peer receives never depends on what the caller does
// with its buffer afterwards (detach, transfer, reuse). No pointer into JS
// memory ever reaches the thread.
//
// Lifetime: the thread sends on its own dup() of the fd (closing the caller's
// fd never lets it touch a reused number). close() (and the environment's
// async cleanup hook, at Worker/env teardown) drops queued messages and, when
// a send is in the kernel, shuts the socket down so it returns (EPIPE); the
// thread then exits and the loop joins it, closes the dup and the uv_async,
// and frees the state (which outlives the JS wrapper). No JS runs after
// close() or teardown.
#include <napi.h>

#include <uv.h>

#include <deque>
#include <vector>

#include "addon_callback.h"
#include "glue.h"
#include "io.h"

namespace hvsock {
namespace {

// The thread only calls send(): a small stack is plenty (ASan builds too).
constexpr size_t kThreadStack = 256 * 1024;

class MessageSender;

struct SenderState {
  uv_async_t async;  // the thread's results and its exit reach the loop here
  uv_mutex_t mutex;
  uv_cond_t wake;
  uv_thread_t thread;
  // Guarded by mutex.
  std::deque<std::vector<uint8_t>> queue;  // owned copies, oldest first
  std::deque<int64_t> results;             // bytes sent or -errno, in order
  bool stopping = false;                   // the thread must exit
  bool in_flight = false;                  // the thread is in send()
  bool exited = false;
  // Loop thread only.
  napi_env env = nullptr;
  int fd = -1;  // our own dup()
  MessageSender* owner = nullptr;  // cleared on close/teardown/finalize
  napi_async_cleanup_hook_handle hook = nullptr;
  bool started = false;  // the thread exists (to be joined)
  bool closing = false;
  size_t pending = 0;  // messages without a result yet: the loop stays alive
};

class MessageSender : public Napi::ObjectWrap<MessageSender> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MessageSender",
                       {InstanceMethod<&MessageSender::Send>("send"), InstanceMethod<&MessageSender::Close>("close")});
  }

  // new MessageSender(fd, callback(result)): result is bytes sent or -errno.
  explicit MessageSender(const Napi::CallbackInfo& info);
  ~MessageSender() override;

  void Deliver(int64_t result);
  void Forget() { state_ = nullptr; }
  // While messages are pending the wrapper (and so the socket's callback)
  // must not be collected: a dropped socket still sends what it was given.
  void Hold(bool hold) {
    if (hold == held_) return;
    held_ = hold;
    if (hold) {
      Ref();
    } else {
      Unref();
    }
  }

 private:
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  SenderState* state_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* context_ = nullptr;
  bool held_ = false;
};

void Run(void* data) {
  SenderState* s = static_cast<SenderState*>(data);
  uv_mutex_lock(&s->mutex);
  for (;;) {
    while (!s->stopping && s->queue.empty()) uv_cond_wait(&s->wake, &s->mutex);
    if (s->stopping) break;
    std::vector<uint8_t> message = std::move(s->queue.front());
    s->queue.pop_front();
    s->in_flight = true;
    uv_mutex_unlock(&s->mutex);
    int64_t result = hvsock_send_message(s->fd, message.data(), message.size());
    uv_mutex_lock(&s->mutex);
    s->in_flight = false;
    s->results.push_back(result);
    uv_async_send(&s->async);
  }
  s->exited = true;
  uv_mutex_unlock(&s->mutex);
  uv_async_send(&s->async);  // the loop joins us: the handle is still open
}

void OnClosed(uv_handle_t* handle) {
  SenderState* s = static_cast<SenderState*>(handle->data);
  uv_cond_destroy(&s->wake);
  uv_mutex_destroy(&s->mutex);
  if (s->hook != nullptr) napi_remove_async_cleanup_hook(s->hook);  // last: lets teardown finish
  delete s;
}

// Loop side, once the thread is gone (or never started): nothing else uses
// the dup or the handle.
void Finish(SenderState* s) {
  if (s->started) uv_thread_join(&s->thread);
  hvsock_close(s->fd);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->async), OnClosed);
}

void OnAsync(uv_async_t* handle) {
  SenderState* s = static_cast<SenderState*>(handle->data);
  uv_mutex_lock(&s->mutex);
  std::deque<int64_t> results;
  results.swap(s->results);
  bool exited = s->exited;
  uv_mutex_unlock(&s->mutex);
  for (int64_t result : results) {
    // The callback may close the sender (destroy()): later results are
    // dropped, and the handle stays ref'd until the thread's exit is seen.
    if (s->owner == nullptr || s->closing) break;
    s->owner->Deliver(result);  // may send() again: pending is counted after
    if (s->owner != nullptr && !s->closing && --s->pending == 0) {
      uv_unref(reinterpret_cast<uv_handle_t*>(&s->async));
      s->owner->Hold(false);
    }
  }
  if (exited) Finish(s);
}

// Stops the thread: queued messages are dropped, a send in the kernel is
// woken by shutting the socket down. Idempotent; the state frees itself.
void BeginClose(SenderState* s) {
  if (s->closing) return;
  s->closing = true;
  if (s->owner != nullptr) s->owner->Forget();
  s->owner = nullptr;
  uv_mutex_lock(&s->mutex);
  s->stopping = true;
  s->queue.clear();
  if (s->in_flight) shutdown(s->fd, SHUT_RDWR);
  uv_cond_signal(&s->wake);
  uv_mutex_unlock(&s->mutex);
  // The exit is noticed by OnAsync, which must run even if nothing else
  // keeps the loop alive (a blocked send ends at once after the shutdown).
  if (s->started) {
    uv_ref(reinterpret_cast<uv_handle_t*>(&s->async));
  } else {
    Finish(s);
  }
}

void OnTeardown(napi_async_cleanup_hook_handle, void* data) { BeginClose(static_cast<SenderState*>(data)); }

MessageSender::MessageSender(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MessageSender>(info) {
  Napi::Env env = info.Env();
  if (IsEmpty()) return;  // not wrapped: the environment is being torn down (as Poller)
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "MessageSender(fd, callback)").ThrowAsJavaScriptException();
    return;
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env, "no event loop for this environment").ThrowAsJavaScriptException();
    return;
  }
  hvsock_fd copy = -1;
  int rc = hvsock_dup_cloexec(glue::Fd(info[0]), &copy);
  if (rc != 0) {
    Napi::Error error = Napi::Error::New(env, "dup");
    error.Set("errno", Napi::Number::New(env, rc));
    error.Set("syscall", Napi::String::New(env, "dup"));
    error.ThrowAsJavaScriptException();
    return;
  }
  SenderState* s = new SenderState();
  s->env = env;
  s->fd = copy;
  uv_mutex_init(&s->mutex);
  uv_cond_init(&s->wake);
  uv_async_init(loop, &s->async, OnAsync);
  s->async.data = s;
  uv_unref(reinterpret_cast<uv_handle_t*>(&s->async));  // ref'd only while messages are pending
  s->owner = this;
  napi_add_async_cleanup_hook(env, OnTeardown, s, &s->hook);
  state_ = s;
  callback_ = Napi::Persistent(info[1].As<Napi::Function>());
  context_ = new Napi::AsyncContext(env, "HvsockSend", Value());
}

MessageSender::~MessageSender() {
  if (state_ != nullptr) BeginClose(state_);
  delete context_;
}

void MessageSender::Deliver(int64_t result) {
  napi_env env = Env();
  Napi::HandleScope scope(Env());
  napi_value argv[1] = {Napi::Number::New(env, static_cast<double>(result))};
  CallIntoJs(env, static_cast<napi_async_context>(*context_), Value(), callback_.Value(), 1, argv);
}

// send(buffer) -> 0 | -err: copies the bytes (synchronously) and queues them
// for the thread; callback(result) follows, one per message, in order.
Napi::Value MessageSender::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SenderState* s = state_;
  if (s == nullptr || s->closing) return Napi::Number::New(env, UV_EBADF);
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  if (!s->started) {
    uv_thread_options_t options;
    options.flags = UV_THREAD_HAS_STACK_SIZE;
    options.stack_size = kThreadStack;
    int rc = uv_thread_create_ex(&s->thread, &options, Run, s);
    if (rc != 0) return Napi::Number::New(env, rc);
    s->started = true;
  }
  std::vector<uint8_t> message(bytes.Data(), bytes.Data() + bytes.ByteLength());
  uv_mutex_lock(&s->mutex);
  s->queue.push_back(std::move(message));
  uv_cond_signal(&s->wake);
  uv_mutex_unlock(&s->mutex);
  if (s->pending++ == 0) {
    uv_ref(reinterpret_cast<uv_handle_t*>(&s->async));
    Hold(true);
  }
  return Napi::Number::New(env, 0);
}

Napi::Value MessageSender::Close(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) BeginClose(state_);  // clears state_ through Forget()
  Hold(false);
  return info.Env().Undefined();
}

// setBlocking(fd, blocking) -> 0 | -err: the sender's blocking send() needs
// the file description blocking; every other call on it passes MSG_DONTWAIT.
Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(glue::Fd(info[0]));
  bool blocking = glue::Flag(info[1]);
  return Napi::Number::New(info.Env(), hvsock_set_blocking(fd, blocking ? 1 : 0));
}

}  // namespace

void DefineMessageSender(Napi::Env env, Napi::Object exports) {
  exports.Set("MessageSender", MessageSender::Define(env));
  exports.Set("setBlocking", Napi::Function::New(env, SetBlocking, "setBlocking"));
}

}  // namespace hvsock
