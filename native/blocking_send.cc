// sendBlocking(fd, buffer, callback(result)): one sendmsg() of `buffer` on a
// libuv threadpool thread, on a *blocking* descriptor, so the kernel sends
// the whole message or nothing.
//
// Why a thread: a non-blocking SOCK_SEQPACKET vsock send (Linux 6.1) that
// runs out of peer credit mid-message returns EAGAIN *after* part of the
// message has gone out (no end-of-message marker); resending then merges
// the partial message with the next one at the peer. Measured in the test
// guest (see test/seqpacket.test.ts). The blocking path waits for credit
// inside the kernel instead. The caller makes the descriptor blocking
// (setBlocking) and keeps every other call on it MSG_DONTWAIT.
//
// Lifetime: the work item sends on its own dup() of the fd, so closing the
// caller's fd never lets the thread touch a reused descriptor number; the
// environment's async cleanup hook shuts the socket down to wake a blocked
// send (or cancels one not yet started) and is removed only once the work
// has completed, so teardown waits for the thread. No JS runs after teardown.
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "hvsock.h"

namespace hvsock {
namespace {

struct SendWork {
  uv_work_t req;
  napi_env env = nullptr;
  int fd = -1;  // our own dup()
  const uint8_t* data = nullptr;
  size_t len = 0;
  int64_t result = 0;
  napi_ref buffer = nullptr;    // keeps the bytes alive while the thread reads them
  napi_ref callback = nullptr;
  napi_async_context context = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
  bool tearing_down = false;
};

void DoSend(uv_work_t* req) {
  SendWork* work = static_cast<SendWork*>(req->data);
  ssize_t n;
  do {
    n = send(work->fd, work->data, work->len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  work->result = n >= 0 ? n : -errno;
}

void AfterSend(uv_work_t* req, int status) {
  SendWork* work = static_cast<SendWork*>(req->data);
  napi_env env = work->env;
  close(work->fd);
  if (status == UV_ECANCELED) work->result = UV_ECANCELED;
  if (!work->tearing_down) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value callback, receiver, argv[1], ignored;
    napi_get_reference_value(env, work->callback, &callback);
    napi_get_global(env, &receiver);  // napi_make_callback needs an object receiver
    napi_create_double(env, static_cast<double>(work->result), &argv[0]);
    if (napi_make_callback(env, work->context, receiver, callback, 1, argv, &ignored) != napi_ok) {
      bool pending = false;
      napi_value error;
      // As Poller::Deliver: a throw in the callback is an uncaught exception.
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
          napi_get_and_clear_last_exception(env, &error) == napi_ok) {
        napi_fatal_exception(env, error);
      }
    }
    napi_close_handle_scope(env, scope);
  }
  napi_delete_reference(env, work->buffer);
  napi_delete_reference(env, work->callback);
  napi_async_destroy(env, work->context);
  napi_remove_async_cleanup_hook(work->hook);  // last: lets teardown finish
  delete work;
}

void OnTeardown(napi_async_cleanup_hook_handle, void* data) {
  SendWork* work = static_cast<SendWork*>(data);
  work->tearing_down = true;
  if (uv_cancel(reinterpret_cast<uv_req_t*>(&work->req)) != 0) {
    shutdown(work->fd, SHUT_RDWR);  // running: wake it (EPIPE)
  }
}

// sendBlocking(fd, buffer, callback) -> 0 (queued) | -err
Napi::Value SendBlocking(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return Napi::Number::New(env, UV_EINVAL);
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array buffer = info[1].As<Napi::Uint8Array>();
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Napi::Number::New(env, -errno);
  SendWork* work = new SendWork();
  work->req.data = work;
  work->env = env;
  work->fd = copy;
  work->data = buffer.Data();
  work->len = buffer.ByteLength();
  napi_create_reference(env, buffer, 1, &work->buffer);
  napi_create_reference(env, info[2], 1, &work->callback);
  napi_value name;
  napi_create_string_utf8(env, "HvsockSend", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &work->context);
  napi_add_async_cleanup_hook(env, OnTeardown, work, &work->hook);
  int rc = uv_queue_work(loop, &work->req, DoSend, AfterSend);
  if (rc != 0) {
    work->tearing_down = true;  // no callback: the caller gets rc
    AfterSend(&work->req, 0);
    return Napi::Number::New(env, rc);
  }
  return Napi::Number::New(env, 0);
}

// setBlocking(fd, blocking) -> 0 | -err
Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool blocking = info[1].ToBoolean().Value();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Napi::Number::New(info.Env(), -errno);
  int next = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
  if (next != flags && fcntl(fd, F_SETFL, next) != 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), 0);
}

}  // namespace

void DefineBlockingSend(Napi::Env env, Napi::Object exports) {
  exports.Set("sendBlocking", Napi::Function::New(env, SendBlocking, "sendBlocking"));
  exports.Set("setBlocking", Napi::Function::New(env, SetBlocking, "setBlocking"));
}

}  // namespace hvsock
