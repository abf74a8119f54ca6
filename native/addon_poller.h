// Poller: a uv_poll_t on the calling environment's loop, exposed to JS as a
// class. Used to wait for a non-blocking connect to complete, and by the
// fallback stream path to wait for readability/writability.
//
// A Poller created with ownsFd=true owns its descriptor: close() and
// environment teardown close the fd after the poll, so the fd can never be
// closed under a registered poll (libuv aborts on that). release() gives the
// fd back without closing it.
#ifndef HVSOCK_POLLER_H_
#define HVSOCK_POLLER_H_

#include <napi.h>
#include <uv.h>

namespace hvsock {

struct PollState;

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Poller(const Napi::CallbackInfo& info);
  ~Poller() override;

  // Called from libuv; delivers (status, events) to the JS callback.
  void Deliver(int status, int events);
  // Called when the poll handle starts closing for a reason of its own
  // (environment teardown): the wrapper must stop using it.
  void Forget() { state_ = nullptr; }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value RefLoop(const Napi::CallbackInfo& info);
  Napi::Value UnrefLoop(const Napi::CallbackInfo& info);

  void HoldWrapper(bool hold);

  PollState* state_ = nullptr;  // owned by libuv once closing starts
  Napi::FunctionReference callback_;
  Napi::AsyncContext* context_ = nullptr;
  bool held_ = false;  // strong reference held while the poll is active
};

}  // namespace hvsock

#endif  // HVSOCK_POLLER_H_
