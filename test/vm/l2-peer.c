// The inner guest's own vsock peer for the restart test of the boundary
// suite (test/boundary/): static, started by l2-init.sh straight from the
// initramfs, so a restarted guest serves without a 9p root, a shell or a
// Node start (each costs a minute or more under nested TCG).
//   - echoes every connection on port 9000 (a child per connection);
//   - says "hello after restart\n" once to the host (CID 2) on port 7001,
//     half-closes, and waits for the host to close.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int vsock(unsigned cid, unsigned port, int do_listen) {
  struct sockaddr_vm a;
  memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_cid = cid;
  a.svm_port = port;
  int s = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (s < 0) return -1;
  if (do_listen ? bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16) : connect(s, (struct sockaddr *)&a, sizeof a)) {
    perror(do_listen ? "[l2-peer] listen" : "[l2-peer] connect");
    close(s);
    return -1;
  }
  return s;
}

static void hello(void) {
  static const char msg[] = "hello after restart\n";
  char buf[256];
  int s = -1;
  for (int i = 0; i < 60 && (s = vsock(VMADDR_CID_HOST, 7001, 0)) < 0; i++) sleep(1);
  if (s < 0) return;
  if (write(s, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) perror("[l2-peer] write");
  shutdown(s, SHUT_WR);
  while (read(s, buf, sizeof buf) > 0) {}
  close(s);
  printf("[l2-peer] said hello to the host\n");
  fflush(stdout);
}

int main(void) {
  signal(SIGCHLD, SIG_IGN); // no zombies from the per-connection children
  int l = vsock(VMADDR_CID_ANY, 9000, 1);
  if (l < 0) return 1;
  printf("[l2-peer] echo on port 9000\n");
  fflush(stdout);
  if (fork() == 0) {
    hello();
    _exit(0);
  }
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    if (fork() == 0) {
      char buf[65536];
      ssize_t n;
      close(l);
      while ((n = read(c, buf, sizeof buf)) > 0)
        for (ssize_t off = 0, w; off < n; off += w)
          if ((w = write(c, buf + off, n - off)) <= 0) _exit(1);
      _exit(0);
    }
    close(c);
  }
}
