// Calling JS from a libuv callback (Poller, MessageSender): one place for
// how a call that fails is handled.
#ifndef HVSOCK_CALLBACK_H_
#define HVSOCK_CALLBACK_H_

#include <node_api.h>

namespace hvsock {

// napi_make_callback(receiver.callback(argv...)) in `context`, so microtasks
// flush and async context is right. The C API, not
// Napi::FunctionReference::MakeCallback: with C++ exceptions off,
// node-addon-api turns a failed call into napi_throw, which aborts the
// process when JS can no longer run (a Worker being terminated).
inline void CallIntoJs(napi_env env, napi_async_context context, napi_value receiver, napi_value callback, size_t argc,
                       const napi_value* argv) {
  napi_value result = nullptr;
  if (napi_make_callback(env, context, receiver, callback, argc, argv, &result) == napi_ok) return;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return;
  napi_value error = nullptr;
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok) return;
  napi_valuetype type = napi_undefined;
  napi_typeof(env, error, &type);
  // Termination leaves no exception object: there is nobody left to tell.
  // Anything else a callback threw is reported the way Node reports throws
  // in its own I/O callbacks ('uncaughtException').
  if (type != napi_undefined && type != napi_null) napi_fatal_exception(env, error);
}

}  // namespace hvsock

#endif  // HVSOCK_CALLBACK_H_
