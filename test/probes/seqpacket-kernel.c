// Probe of the guest kernel's vsock SOCK_SEQPACKET behaviour, the facts
// lib/linux/poll/seqpacket.ts and native/addon_message_sender.cc are built on. Refuses to run
// outside the rig's guest (it connects AF_VSOCK). Not part of CI:
//   gcc -O1 -o build/seqprobe test/probes/seqpacket-kernel.c  (a path the guest sees)
//   node test/vm/run.mjs build/seqprobe
// Linux 6.1 (Debian 12) printed, among others:
//   send(bufsize+1) = -1 errno=12 (ENOMEM: oversize is ENOMEM, not EMSGSIZE)
//   send(0) = 0, nothing delivered (empty messages vanish)
//   recv 1000 into 100 = 100 flags=0x20 (MSG_TRUNC; the tail is dropped)
//   100000-byte messages, receiver idle: #0, #1 sent, #2 -> EAGAIN, yet a
//   resend arrives as ONE 162144-byte message: the EAGAIN send had already
//   sent 62144 bytes (the peer's remaining credit) without end-of-message.
//   connect with no listener / to a SOCK_STREAM listener: ECONNRESET.
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static int pair(int port, int *srv, int *cli) {
  struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
  int l = socket(AF_VSOCK, SOCK_SEQPACKET, 0);
  if (bind(l, (void *)&a, sizeof a) || listen(l, 4)) { perror("bind/listen"); exit(1); }
  int c = socket(AF_VSOCK, SOCK_SEQPACKET, 0);
  a.svm_cid = 1;
  if (connect(c, (void *)&a, sizeof a)) { perror("connect"); exit(1); }
  *srv = accept(l, NULL, NULL);
  close(l);
  *cli = c;
  return 0;
}
int main(void) {
  char cmd[4096] = {0};
  FILE *f = fopen("/proc/cmdline", "r");
  if (!f || !fgets(cmd, sizeof cmd, f) || !strstr(cmd, "hvsock.testguest=1")) { fprintf(stderr, "not in guest\n"); return 2; }
  int s, c;
  static char buf[1 << 22], rbuf[1 << 22];
  memset(buf, 'x', sizeof buf);
  pair(40001, &s, &c);
  unsigned long long bs = 0; socklen_t bl = sizeof bs;
  getsockopt(s, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &bs, &bl);
  printf("buffer size %llu\n", bs);
  // 1. oversize
  ssize_t n = send(c, buf, bs + 1, MSG_DONTWAIT);
  printf("send(bufsize+1) = %zd errno=%d (%s)\n", n, n < 0 ? errno : 0, n < 0 ? strerror(errno) : "");
  n = send(c, buf, bs, MSG_DONTWAIT);
  printf("send(bufsize) = %zd errno=%d\n", n, n < 0 ? errno : 0);
  struct msghdr m = {0}; struct iovec io = {rbuf, sizeof rbuf}; m.msg_iov = &io; m.msg_iovlen = 1;
  n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("recv whole = %zd flags=%#x\n", n, m.msg_flags);
  // 2. zero-length
  n = send(c, buf, 0, MSG_DONTWAIT);
  printf("send(0) = %zd errno=%d\n", n, n < 0 ? errno : 0);
  n = send(c, buf, 5, MSG_DONTWAIT);
  usleep(100000);
  m.msg_flags = 0; n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("recv after send(0),send(5) = %zd flags=%#x\n", n, m.msg_flags);
  m.msg_flags = 0; n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("recv next = %zd errno=%d flags=%#x\n", n, n < 0 ? errno : 0, m.msg_flags);
  // 3. truncation
  send(c, buf, 1000, MSG_DONTWAIT); usleep(100000);
  io.iov_len = 100; m.msg_flags = 0; n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("recv 1000 into 100 = %zd flags=%#x (MSG_TRUNC=%#x)\n", n, m.msg_flags, MSG_TRUNC);
  io.iov_len = sizeof rbuf; m.msg_flags = 0; n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("recv next after trunc = %zd errno=%d\n", n, n < 0 ? errno : 0);
  // 4. partial sends under credit shortage: 100000-byte messages, receiver idle
  int sent = 0; long total = 0;
  for (int i = 0; i < 20; i++) {
    n = send(c, buf, 100000, MSG_DONTWAIT);
    printf("  send#%d = %zd errno=%d\n", i, n, n < 0 ? errno : 0);
    if (n < 0) break;
    sent++; total += n;
  }
  usleep(100000);
  long got = 0;
  for (;;) {
    m.msg_flags = 0; n = recvmsg(s, &m, MSG_DONTWAIT);
    if (n <= 0) { printf("  recv end %zd errno=%d\n", n, errno); break; }
    printf("  recv msg %zd flags=%#x\n", n, m.msg_flags);
    got += n;
  }
  printf("partial: sent %d msgs %ld bytes, received %ld bytes\n", sent, total, got);
  // after EAGAIN, retry one message and read it
  n = send(c, buf, 100000, MSG_DONTWAIT);
  usleep(100000);
  m.msg_flags = 0; ssize_t r = recvmsg(s, &m, MSG_DONTWAIT);
  printf("retry send = %zd, recv = %zd\n", n, r);
  // 5. close semantics: shutdown(WR) then recv
  shutdown(c, SHUT_WR); usleep(100000);
  n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("recv after peer SHUT_WR = %zd errno=%d\n", n, n < 0 ? errno : 0);
  n = send(s, buf, 10, MSG_DONTWAIT);
  printf("send back after peer SHUT_WR = %zd errno=%d\n", n, n < 0 ? errno : 0);
  close(c); usleep(100000);
  n = send(s, buf, 10, MSG_DONTWAIT|MSG_NOSIGNAL);
  printf("send after peer close = %zd errno=%d\n", n, n < 0 ? errno : 0);
  // 6. no listener
  int d = socket(AF_VSOCK, SOCK_SEQPACKET, 0);
  struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = 1, .svm_port = 40999};
  n = connect(d, (void *)&a, sizeof a);
  printf("connect no listener = %zd errno=%d (%s)\n", n, errno, strerror(errno));
  // 7. stream listener, seqpacket connect
  int l = socket(AF_VSOCK, SOCK_STREAM, 0); a.svm_cid = VMADDR_CID_ANY; a.svm_port = 40998;
  bind(l, (void*)&a, sizeof a); listen(l, 1);
  int e = socket(AF_VSOCK, SOCK_SEQPACKET, 0); a.svm_cid = 1;
  n = connect(e, (void *)&a, sizeof a);
  printf("seqpacket connect to stream listener = %zd errno=%d (%s)\n", n, n<0?errno:0, n<0?strerror(errno):"");
  return 0;
}
