// Overlapped reads and writes on a private completion port (see
// overlapped_win32.h for why this path exists).
//
// One completion port and one thread serve every channel of the process
// (every environment, Workers included): the thread only ever touches
// channel state, which is reference-counted (the owner's reference plus one
// per pending operation, since the kernel writes into an OVERLAPPED until
// its completion is dequeued), and calls `post` only under the channel's
// lock while the channel is open. The thread is never joined: it lives as
// long as the process, so the DLL is pinned (a terminated Worker's unload
// would otherwise pull the code from under it).
#include "overlapped_win32.h"

#include <winsock2.h>
#include <windows.h>

#include <stdlib.h>
#include <string.h>
#include <uv.h>  // UV_E* constants

#include <algorithm>
#include <atomic>

#include "hvsock_win32.h"

namespace {

constexpr DWORD kReadBytes = 64 * 1024;  // what libuv reads per call for Node's own streams

struct Op {
  OVERLAPPED ov;
  hvsock_channel* ch;
  int kind;
  bool pending;  // under the channel's lock
};

}  // namespace

struct hvsock_channel {
  SOCKET s = INVALID_SOCKET;
  hvsock_io_post post = nullptr;
  void* context = nullptr;
  size_t send_cap = 0;
  SRWLOCK lock = SRWLOCK_INIT;
  bool closed = false;  // under lock
  std::atomic<int> refs{1};
  Op read_op;
  uint8_t* read_buf = nullptr;  // taken by each READ event; a fresh one per WSARecv
  Op write_op;
  uint8_t* write_buf = nullptr;
  size_t write_len = 0;
  size_t sent = 0;  // of write_buf, under lock
};

namespace {

HANDLE port = nullptr;
INIT_ONCE port_once = INIT_ONCE_STATIC_INIT;

void Drop(hvsock_channel* ch) {
  if (ch->refs.fetch_sub(1) != 1) return;
  free(ch->read_buf);
  free(ch->write_buf);
  delete ch;
}

hvsock_io_event* NewEvent(int kind, int status, uint32_t system) {
  hvsock_io_event* ev = new hvsock_io_event();
  ev->kind = kind;
  ev->status = status;
  ev->system = system;
  return ev;
}

int WsaError(uint32_t* system) {
  *system = static_cast<uint32_t>(WSAGetLastError());
  return hvsock_translate_error(*system);
}

// Under the lock, not closed: posts the next WSASend of the write's
// remainder, capped for fault injection. 0 or the error.
int SendRest(hvsock_channel* ch, uint32_t* system) {
  size_t left = ch->write_len - ch->sent;
  if (ch->send_cap != 0) left = std::min(left, ch->send_cap);
  WSABUF buf;
  buf.len = static_cast<ULONG>(std::min<size_t>(left, 1u << 30));
  buf.buf = reinterpret_cast<char*>(ch->write_buf + ch->sent);
  memset(&ch->write_op.ov, 0, sizeof ch->write_op.ov);
  ch->refs++;
  ch->write_op.pending = true;
  if (WSASend(ch->s, &buf, 1, nullptr, 0, &ch->write_op.ov, nullptr) == 0 || WSAGetLastError() == WSA_IO_PENDING) {
    return 0;  // the completion comes through the port either way
  }
  int rc = WsaError(system);
  ch->write_op.pending = false;
  ch->refs--;  // cannot be the last: the caller holds one
  return rc;
}

// Completion thread, under the lock, channel open: what one completion means.
void Complete(hvsock_channel* ch, Op* op, BOOL ok, DWORD bytes) {
  op->pending = false;
  uint32_t system = 0;
  int status = 0;
  if (!ok) {
    DWORD flags = 0;
    DWORD transferred = 0;
    WSAGetOverlappedResult(ch->s, &op->ov, &transferred, FALSE, &flags);
    status = WsaError(&system);
    if (status == 0) status = UV_EIO;  // failed, yet no error recorded
  }
  if (op->kind == HVSOCK_IO_READ) {
    hvsock_io_event* ev = NewEvent(HVSOCK_IO_READ, status, system);
    if (status == 0) {
      ev->data = ch->read_buf;  // the event takes the buffer; the next read makes one
      ev->length = bytes;
      ch->read_buf = nullptr;
    }
    ch->post(ch->context, ev);
    return;
  }
  if (status == 0) {
    // The send loop: a completion may carry fewer bytes than were asked
    // for; the write is complete only when all of it has been sent.
    ch->sent += bytes;
    if (ch->sent < ch->write_len) {
      // A send that moved nothing would loop for ever: report it.
      status = bytes == 0 ? UV_EIO : SendRest(ch, &system);
      if (status == 0) return;
    }
  }
  hvsock_io_event* ev = NewEvent(HVSOCK_IO_WRITE, status, system);
  ev->length = ch->sent;
  free(ch->write_buf);
  ch->write_buf = nullptr;
  ch->write_len = 0;
  ch->sent = 0;
  ch->post(ch->context, ev);
}

DWORD WINAPI Run(void*) {
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* ov = nullptr;
    BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE);
    if (ov == nullptr) {
      if (!ok) Sleep(10);  // the port itself failed: never spin
      continue;
    }
    Op* op = CONTAINING_RECORD(ov, Op, ov);
    hvsock_channel* ch = op->ch;
    AcquireSRWLockExclusive(&ch->lock);
    if (ch->closed) {
      op->pending = false;
    } else {
      Complete(ch, op, ok, bytes);
    }
    ReleaseSRWLockExclusive(&ch->lock);
    Drop(ch);  // the operation's reference
  }
  return 0;
}

BOOL CALLBACK StartPort(INIT_ONCE*, void*, void**) {
  HMODULE module = nullptr;
  // Pinned: the thread outlives every environment (see the file comment).
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                          reinterpret_cast<LPCWSTR>(&Run), &module)) {
    return FALSE;
  }
  HANDLE created = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (created == nullptr) return FALSE;
  HANDLE thread = CreateThread(nullptr, 0, Run, nullptr, 0, nullptr);
  if (thread == nullptr) {
    CloseHandle(created);
    return FALSE;
  }
  CloseHandle(thread);
  port = created;
  return TRUE;
}

}  // namespace

void hvsock_io_event_free(hvsock_io_event* event) {
  free(event->data);
  delete event;
}

int hvsock_channel_open(hvsock_fd fd, hvsock_io_post post, void* context, size_t send_cap, hvsock_channel** out) {
  SOCKET s = static_cast<SOCKET>(fd);
  if (!InitOnceExecuteOnce(&port_once, StartPort, nullptr, nullptr)) {
    int rc = hvsock_translate_error(GetLastError());
    closesocket(s);
    return rc != 0 ? rc : UV_ENOMEM;
  }
  // Fails (ERROR_INVALID_PARAMETER) for a socket some other port has,
  // e.g. one opened into libuv.
  if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(s), port, 0, 0) == nullptr) {
    int rc = hvsock_translate_error(GetLastError());
    closesocket(s);
    return rc;
  }
  hvsock_channel* ch = new hvsock_channel();
  ch->s = s;
  ch->post = post;
  ch->context = context;
  ch->send_cap = send_cap;
  ch->read_op.ch = ch;
  ch->read_op.kind = HVSOCK_IO_READ;
  ch->read_op.pending = false;
  ch->write_op.ch = ch;
  ch->write_op.kind = HVSOCK_IO_WRITE;
  ch->write_op.pending = false;
  *out = ch;
  return hvsock_translate_error(0);
}

int hvsock_channel_read(hvsock_channel* ch) {
  AcquireSRWLockExclusive(&ch->lock);
  int rc = 0;
  if (ch->closed) {
    rc = UV_EBADF;
  } else if (!ch->read_op.pending) {
    if (ch->read_buf == nullptr) ch->read_buf = static_cast<uint8_t*>(malloc(kReadBytes));
    if (ch->read_buf == nullptr) {
      rc = UV_ENOMEM;
    } else {
      // Never a zero-byte read: the whole buffer, as go-winio and WSL read.
      WSABUF buf;
      buf.len = kReadBytes;
      buf.buf = reinterpret_cast<char*>(ch->read_buf);
      DWORD flags = 0;
      memset(&ch->read_op.ov, 0, sizeof ch->read_op.ov);
      ch->refs++;
      ch->read_op.pending = true;
      if (WSARecv(ch->s, &buf, 1, nullptr, &flags, &ch->read_op.ov, nullptr) != 0 &&
          WSAGetLastError() != WSA_IO_PENDING) {
        uint32_t system = 0;
        rc = WsaError(&system);
        ch->read_op.pending = false;
        ch->refs--;
      }
    }
  }
  ReleaseSRWLockExclusive(&ch->lock);
  return rc;
}

int hvsock_channel_write(hvsock_channel* ch, uint8_t* data, size_t length) {
  AcquireSRWLockExclusive(&ch->lock);
  int rc = 0;
  if (ch->closed) {
    rc = UV_EBADF;
  } else if (ch->write_buf != nullptr) {
    rc = UV_EBUSY;
  } else {
    ch->write_buf = data;
    ch->write_len = length;
    ch->sent = 0;
    data = nullptr;
    uint32_t system = 0;
    rc = SendRest(ch, &system);
    if (rc != 0) {
      free(ch->write_buf);
      ch->write_buf = nullptr;
      ch->write_len = 0;
    }
  }
  ReleaseSRWLockExclusive(&ch->lock);
  free(data);
  return rc;
}

int hvsock_channel_shutdown(hvsock_channel* ch) {
  AcquireSRWLockExclusive(&ch->lock);
  int rc = ch->closed ? UV_EBADF : hvsock_shutdown(static_cast<hvsock_fd>(ch->s), HVSOCK_SHUT_WR);
  ReleaseSRWLockExclusive(&ch->lock);
  return rc;
}

hvsock_fd hvsock_channel_fd(hvsock_channel* ch) { return static_cast<hvsock_fd>(ch->s); }

void hvsock_channel_close(hvsock_channel* ch) {
  AcquireSRWLockExclusive(&ch->lock);
  if (!ch->closed) {
    ch->closed = true;
    // Pending operations complete (ERROR_OPERATION_ABORTED) through the
    // port; the thread drops their references without posting.
    CancelIoEx(reinterpret_cast<HANDLE>(ch->s), nullptr);
    closesocket(ch->s);
  }
  ReleaseSRWLockExclusive(&ch->lock);
  Drop(ch);  // the owner's
}
