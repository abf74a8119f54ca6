#include "addon_poller.h"

#include "addon_callback.h"
#include "addon_custody.h"
#include "glue.h"
#include "hvsock.h"

namespace hvsock {

// Lives apart from the JS wrapper: libuv needs the uv_poll_t until its close
// callback, which can come after the wrapper has been collected, and the
// environment's async cleanup hook can fire before either.
struct PollState {
  uv_poll_t poll;
  Poller* owner = nullptr;  // cleared when the wrapper is destroyed
  napi_async_cleanup_hook_handle cleanup_hook = nullptr;
  int fd = -1;
  bool owns_fd = false;
  bool closing = false;
};

namespace {

void OnClosed(uv_handle_t* handle) {
  PollState* state = static_cast<PollState*>(handle->data);
  if (state->owns_fd) hvsock_close(state->fd);
  if (state->cleanup_hook != nullptr) napi_remove_async_cleanup_hook(state->cleanup_hook);
  delete state;
}

void BeginClose(PollState* state) {
  if (state->closing) return;
  state->closing = true;
  if (state->owner != nullptr) state->owner->Forget();
  state->owner = nullptr;
  // uv_close stops the poll (and drops the fd from epoll) synchronously, so
  // the fd can be handed to another handle straight after this returns.
  uv_close(reinterpret_cast<uv_handle_t*>(&state->poll), OnClosed);
  // An owned fd is closed now, not in OnClosed a loop turn later: a closed
  // listener must stop completing connects at once (net closes its fds
  // synchronously too), and nobody can use the fd in between.
  if (state->owns_fd) {
    hvsock_close(state->fd);
    state->owns_fd = false;
  }
}

void OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* data) {
  PollState* state = static_cast<PollState*>(data);
  if (state->closing) return;  // close already under way: OnClosed removes the hook
  BeginClose(state);
  (void)hook;
}

void OnPoll(uv_poll_t* handle, int status, int events) {
  PollState* state = static_cast<PollState*>(handle->data);
  if (state->closing || state->owner == nullptr) return;
  state->owner->Deliver(status, events);
}

}  // namespace

Napi::Function Poller::Define(Napi::Env env) {
  return DefineClass(env, "Poller",
                     {
                         InstanceMethod<&Poller::Start>("start"),
                         InstanceMethod<&Poller::Stop>("stop"),
                         InstanceMethod<&Poller::Close>("close"),
                         InstanceMethod<&Poller::Release>("release"),
                         InstanceMethod<&Poller::RefLoop>("ref"),
                         InstanceMethod<&Poller::UnrefLoop>("unref"),
                     });
}

// new Poller(fd, callback(status, events)[, ownsFd])
Poller::Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
  Napi::Env env = info.Env();
  // Not wrapped: the environment is being torn down (napi_wrap fails once a
  // terminated Worker can no longer call into JS). Nothing may be set up: an
  // fd meant for this Poller is still in custody, and teardown closes it.
  if (IsEmpty()) return;
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "Poller(fd, callback)").ThrowAsJavaScriptException();
    return;
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env, "no event loop for this environment").ThrowAsJavaScriptException();
    return;
  }
  int fd = static_cast<int>(glue::Fd(info[0]));
  PollState* state = new PollState();
  int rc = uv_poll_init(loop, &state->poll, fd);
  if (rc != 0) {
    delete state;
    Napi::Error err = Napi::Error::New(env, uv_strerror(rc));
    err.Set("errno", Napi::Number::New(env, rc));
    err.ThrowAsJavaScriptException();
    return;
  }
  state->poll.data = state;
  state->owner = this;
  state->fd = fd;
  state->owns_fd = info.Length() > 2 && glue::Flag(info[2]);
  if (state->owns_fd) FdCustodyOf(env).Drop(fd);  // ours from here: closed by close() or teardown
  napi_add_async_cleanup_hook(env, OnEnvironmentTeardown, state, &state->cleanup_hook);
  state_ = state;
  callback_ = Napi::Persistent(info[1].As<Napi::Function>());
  context_ = new Napi::AsyncContext(env, "HvsockPoller", Value());
}

Poller::~Poller() {
  if (state_ != nullptr) BeginClose(state_);
  delete context_;
}

void Poller::HoldWrapper(bool hold) {
  if (hold == held_) return;
  held_ = hold;
  if (hold) {
    Napi::ObjectWrap<Poller>::Ref();
  } else {
    Napi::ObjectWrap<Poller>::Unref();
  }
}

void Poller::Deliver(int status, int events) {
  napi_env env = Env();
  Napi::HandleScope scope(Env());
  napi_value argv[2] = {Napi::Number::New(env, status), Napi::Number::New(env, events)};
  CallIntoJs(env, static_cast<napi_async_context>(*context_), Value(), callback_.Value(), 2, argv);
}

// start(events): UV_READABLE=1 | UV_WRITABLE=2 | UV_DISCONNECT=4. Calling it
// again replaces the interest set (the poll path switches between reading,
// writing, both and none as its buffers fill and drain); 0 stops watching.
Napi::Value Poller::Start(const Napi::CallbackInfo& info) {
  if (state_ == nullptr || state_->closing) return Napi::Number::New(info.Env(), UV_EBADF);
  int events = info[0].As<Napi::Number>().Int32Value() & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT);
  if (events == 0) return Stop(info);
  int rc = uv_poll_start(&state_->poll, events, OnPoll);
  if (rc == 0) HoldWrapper(true);
  return Napi::Number::New(info.Env(), rc);
}

Napi::Value Poller::Stop(const Napi::CallbackInfo& info) {
  int rc = state_ == nullptr || state_->closing ? 0 : uv_poll_stop(&state_->poll);
  HoldWrapper(false);
  return Napi::Number::New(info.Env(), rc);
}

Napi::Value Poller::Close(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) BeginClose(state_);  // clears state_ through Forget()
  HoldWrapper(false);
  return info.Env().Undefined();
}

// Closes the poll but hands the fd back to the caller (it stays open).
Napi::Value Poller::Release(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) {
    state_->owns_fd = false;
    BeginClose(state_);
  }
  HoldWrapper(false);
  return info.Env().Undefined();
}

Napi::Value Poller::RefLoop(const Napi::CallbackInfo& info) {
  if (state_ != nullptr && !state_->closing) uv_ref(reinterpret_cast<uv_handle_t*>(&state_->poll));
  return info.Env().Undefined();
}

Napi::Value Poller::UnrefLoop(const Napi::CallbackInfo& info) {
  if (state_ != nullptr && !state_->closing) uv_unref(reinterpret_cast<uv_handle_t*>(&state_->poll));
  return info.Env().Undefined();
}

}  // namespace hvsock
