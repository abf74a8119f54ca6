// Custody of the descriptors the addon makes (socket, accept) from the
// syscall until an owner takes them: a Poller that owns its fd (its
// constructor), a Node handle (lib/handle/handles.ts calls disown(fd) just
// before handle.open), or close(). In between, JS holds the fd as a plain
// number, and a Worker can be terminated there (the next JS function entry):
// nothing would ever close it, and the process keeps the socket, the peer its
// connection. The environment's teardown closes whatever is still held here.
//
// Linux only: Windows sockets belong to their socket threads from creation
// (addon_win32.cc), which have teardown hooks of their own.
#ifndef HVSOCK_CUSTODY_H_
#define HVSOCK_CUSTODY_H_

#include <napi.h>

#include <unordered_set>

#include "hvsock.h"

namespace hvsock {

class FdCustody {
 public:
  FdCustody() = default;
  FdCustody(const FdCustody&) = delete;
  FdCustody& operator=(const FdCustody&) = delete;
  // Environment teardown: no JS runs any more that could take these.
  ~FdCustody() {
    for (int fd : held_) hvsock_close(fd);
  }

  void Take(int fd) { held_.insert(fd); }
  void Drop(int fd) { held_.erase(fd); }
  size_t Size() const { return held_.size(); }

 private:
  std::unordered_set<int> held_;
};

// The calling environment's custody (native/addon.cc keeps one per addon
// instance, i.e. per environment).
FdCustody& FdCustodyOf(Napi::Env env);

}  // namespace hvsock

#endif  // HVSOCK_CUSTODY_H_
