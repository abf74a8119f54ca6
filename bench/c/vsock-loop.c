// The "limit" baseline of the benchmarks: plain blocking read/write loops in
// C, with the same scenarios and sizes as the Node side, over AF_VSOCK
// loopback (CID 1, only inside the rig's guest) or an AF_UNIX socketpair
// (the host stand-in). Prints one JSON object: {"seconds":..,"bytes":..,"ops":..}.
//
//   vsock-loop <vsock|pair> bulk    <bytes> <write-size> <c2s|s2c>
//   vsock-loop <vsock|pair> rtt     <rounds> <message-size>   (adds medianUs, p99Us)
//   vsock-loop <vsock|pair> conn    <count> <concurrency>
//   vsock-loop <vsock|pair> streams <count> <bytes-each> <write-size>
//
// Or one end only, as a separate process (the peer-process cases, see
// bench/lib/peers.mjs; the same roles as bench/go and bench/peer.py):
//   vsock-loop server <vsock|tcp> <port> bulk <bytes> <write-size>   receives, then 1 byte back
//   vsock-loop server <vsock|tcp> <port> rtt  <rounds> <size>        echoes
//   vsock-loop server <vsock|tcp> <port> conn <count>                accept, 1 byte each way, close
//   vsock-loop client <vsock|tcp> <port> <same scenario args>        the timed end: prints the JSON
// The server prints "ready" once it listens. TCP is on 127.0.0.1.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static int use_vsock;
static int use_tcp;
static unsigned port;
static int listener = -1;

static void die(const char *what) {
  fprintf(stderr, "vsock-loop: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// connect() on AF_VSOCK outside the rig's guest would leave this machine.
static void require_test_guest(void) {
  char line[4096] = {0};
  FILE *f = fopen("/proc/cmdline", "r");
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    fclose(f);
  }
  for (char *w = strtok(line, " \t\n"); w; w = strtok(NULL, " \t\n"))
    if (strcmp(w, "hvsock.testguest=1") == 0) return;
  fprintf(stderr, "vsock-loop: refusing AF_VSOCK outside the test guest (no hvsock.testguest=1 in /proc/cmdline)\n");
  exit(2);
}

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    buf += n;
    len -= (size_t)n;
  }
}

// Reads until `len` bytes or EOF; returns the byte count.
static size_t read_full(int fd, char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  return got;
}

static struct sockaddr_in tcp_address(void) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

static void start_listener(void) {
  if (use_tcp) {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = tcp_address();
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  } else if (use_vsock) {
    listener = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  } else {
    return;
  }
  if (listen(listener, 4096) < 0) die("listen");
}

static int dial(void) {
  if (use_tcp) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in addr = tcp_address();
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    return fd;
  }
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_LOCAL, .svm_port = port};
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  return fd;
}

static int take(void) {
  int fd = accept(listener, NULL, NULL);
  if (fd < 0) die("accept");
  return fd;
}

// One connection: fds[0] the client (connecting) end, fds[1] the server end.
static void open_connection(int fds[2]) {
  if (!use_vsock) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) die("socketpair");
    return;
  }
  fds[0] = dial();
  fds[1] = take();
}

struct flow {
  int fd;
  size_t bytes, write_size;
  int sending;
};

static void *run_flow(void *arg) {
  struct flow *f = arg;
  char *buf = malloc(f->write_size);
  if (!buf) die("malloc");
  memset(buf, 'x', f->write_size);
  if (f->sending) {
    for (size_t left = f->bytes; left > 0;) {
      size_t n = left < f->write_size ? left : f->write_size;
      write_all(f->fd, buf, n);
      left -= n;
    }
    shutdown(f->fd, SHUT_WR);
  } else {
    size_t got = 0, n;
    while ((n = read_full(f->fd, buf, f->write_size)) > 0) got += n;
    if (got != f->bytes) {
      fprintf(stderr, "vsock-loop: received %zu of %zu bytes\n", got, f->bytes);
      exit(1);
    }
  }
  free(buf);
  return NULL;
}

static void bulk(size_t bytes, size_t write_size, int client_sends) {
  int fds[2];
  open_connection(fds);
  struct flow sender = {fds[client_sends ? 0 : 1], bytes, write_size, 1};
  struct flow receiver = {fds[client_sends ? 1 : 0], bytes, write_size, 0};
  double start = now();
  pthread_t t;
  pthread_create(&t, NULL, run_flow, &sender);
  run_flow(&receiver);
  pthread_join(t, NULL);
  printf("{\"seconds\":%.9f,\"bytes\":%zu,\"ops\":1}\n", now() - start, bytes);
  close(fds[0]);
  close(fds[1]);
}

struct echo {
  int fd;
  size_t rounds, size;
};

static void *echo_back(void *arg) {
  struct echo *e = arg;
  char buf[65536];
  for (size_t i = 0; i < e->rounds; i++) {
    if (read_full(e->fd, buf, e->size) != e->size) die("echo read");
    write_all(e->fd, buf, e->size);
  }
  return NULL;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

// Timed per round trip, like the Node side, for a median and a p99; `fd` is the pinging end.
static void rtt_on(int fd, size_t rounds, size_t size) {
  char buf[65536];
  memset(buf, 'p', size);
  double *micros = malloc(rounds * sizeof *micros);
  if (!micros) die("malloc");
  double start = now(), sent = start;
  for (size_t i = 0; i < rounds; i++) {
    write_all(fd, buf, size);
    if (read_full(fd, buf, size) != size) die("ping read");
    double back = now();
    micros[i] = (back - sent) * 1e6;
    sent = back;
  }
  double seconds = now() - start;
  qsort(micros, rounds, sizeof *micros, by_value);
  size_t p99 = (size_t)(0.99 * rounds);
  printf("{\"seconds\":%.9f,\"bytes\":%zu,\"ops\":%zu,\"medianUs\":%.3f,\"p99Us\":%.3f}\n", seconds, rounds * size * 2,
         rounds, micros[rounds / 2], micros[p99 < rounds ? p99 : rounds - 1]);
  free(micros);
}

static void rtt(size_t rounds, size_t size) {
  int fds[2];
  open_connection(fds);
  struct echo server = {fds[1], rounds, size};
  pthread_t t;
  pthread_create(&t, NULL, echo_back, &server);
  rtt_on(fds[0], rounds, size);
  pthread_join(t, NULL);
  close(fds[0]);
  close(fds[1]);
}

// Server side of the connection-rate loop: accept, one byte each way, close.
static void *serve_conns(void *arg) {
  size_t count = *(size_t *)arg;
  for (size_t i = 0; i < count; i++) {
    int fd = take();
    char b;
    if (read_full(fd, &b, 1) != 1) die("server read");
    write_all(fd, &b, 1);
    close(fd);
  }
  return NULL;
}

static void *client_conns(void *arg) {
  size_t count = *(size_t *)arg;
  for (size_t i = 0; i < count; i++) {
    char b = 'c';
    if (use_vsock) {
      int fd = dial();
      write_all(fd, &b, 1);
      if (read_full(fd, &b, 1) != 1) die("client read");
      close(fd);
    } else {
      // No accept on a socketpair: both ends' work happens here.
      int fds[2];
      open_connection(fds);
      write_all(fds[0], &b, 1);
      if (read_full(fds[1], &b, 1) != 1) die("server read");
      write_all(fds[1], &b, 1);
      if (read_full(fds[0], &b, 1) != 1) die("client read");
      close(fds[1]);
      close(fds[0]);
    }
  }
  return NULL;
}

static void conn(size_t count, size_t concurrency) {
  size_t per = count / concurrency;
  size_t total = per * concurrency;
  pthread_t server, clients[concurrency];
  double start = now();
  if (use_vsock) pthread_create(&server, NULL, serve_conns, &total);
  for (size_t i = 0; i < concurrency; i++) pthread_create(&clients[i], NULL, client_conns, &per);
  for (size_t i = 0; i < concurrency; i++) pthread_join(clients[i], NULL);
  if (use_vsock) pthread_join(server, NULL);
  printf("{\"seconds\":%.9f,\"bytes\":%zu,\"ops\":%zu}\n", now() - start, total * 2, total);
}

static void streams(size_t count, size_t bytes, size_t write_size) {
  struct flow *flows = calloc(count * 2, sizeof *flows);
  pthread_t *threads = calloc(count * 2, sizeof *threads);
  if (!flows || !threads) die("calloc");
  int (*fds)[2] = calloc(count, sizeof *fds);
  for (size_t i = 0; i < count; i++) open_connection(fds[i]);
  double start = now();
  for (size_t i = 0; i < count; i++) {
    flows[2 * i] = (struct flow){fds[i][0], bytes, write_size, 1};
    flows[2 * i + 1] = (struct flow){fds[i][1], bytes, write_size, 0};
  }
  for (size_t i = 0; i < count * 2; i++) pthread_create(&threads[i], NULL, run_flow, &flows[i]);
  for (size_t i = 0; i < count * 2; i++) pthread_join(threads[i], NULL);
  printf("{\"seconds\":%.9f,\"bytes\":%zu,\"ops\":%zu}\n", now() - start, count * bytes, count);
  for (size_t i = 0; i < count; i++) {
    close(fds[i][0]);
    close(fds[i][1]);
  }
}

static size_t arg(char **argv, int i) { return (size_t)strtoull(argv[i], NULL, 10); }

// One end of a peer-process case: argv = server|client, vsock|tcp, port, scenario, args.
static int one_end(int argc, char **argv) {
  int serving = strcmp(argv[1], "server") == 0;
  use_tcp = strcmp(argv[2], "tcp") == 0;
  use_vsock = !use_tcp;
  if (use_vsock) require_test_guest();
  port = (unsigned)arg(argv, 3);
  const char *what = argv[4];
  size_t a = argc > 5 ? arg(argv, 5) : 0, b = argc > 6 ? arg(argv, 6) : 0;
  char *buf = malloc(b > 1 ? b : 1);
  if (!buf) die("malloc");
  memset(buf, 'x', b > 1 ? b : 1);
  if (serving) {
    start_listener();
    printf("ready\n");
    fflush(stdout);
    if (strcmp(what, "bulk") == 0) {
      int fd = take();
      size_t got = 0, n;
      while (got < a && (n = read_full(fd, buf, a - got < b ? a - got : b)) > 0) got += n;
      if (got != a) die("bulk read");
      write_all(fd, "k", 1);
      close(fd);
    } else if (strcmp(what, "rtt") == 0) {
      struct echo e = {take(), a, b};
      echo_back(&e);
      close(e.fd);
    } else if (strcmp(what, "conn") == 0) {
      for (size_t i = 0; i < a; i++) {
        int fd = take();
        char c;
        if (read_full(fd, &c, 1) != 1) die("server read");
        write_all(fd, &c, 1);
        read_full(fd, &c, 1); // the client's close
        close(fd);
      }
    } else {
      return 2;
    }
    return 0;
  }
  if (strcmp(what, "bulk") == 0) {
    int fd = dial();
    double start = now();
    for (size_t left = a; left > 0;) {
      size_t n = left < b ? left : b;
      write_all(fd, buf, n);
      left -= n;
    }
    if (read_full(fd, buf, 1) != 1) die("ack");
    printf("{\"seconds\":%.9f,\"bytes\":%zu,\"ops\":1}\n", now() - start, a);
    close(fd);
  } else if (strcmp(what, "rtt") == 0 && b <= 65536) {
    rtt_on(dial(), a, b);
  } else if (strcmp(what, "conn") == 0) {
    double start = now();
    for (size_t i = 0; i < a; i++) {
      char c = 'c';
      int fd = dial();
      write_all(fd, &c, 1);
      if (read_full(fd, &c, 1) != 1) die("client read");
      close(fd);
    }
    printf("{\"seconds\":%.9f,\"bytes\":%zu,\"ops\":%zu}\n", now() - start, a * 2, a);
  } else {
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "client") == 0)) {
    int status = one_end(argc, argv);
    if (status == 2) fprintf(stderr, "vsock-loop: bad arguments\n");
    return status;
  }
  if (argc < 5) {
    fprintf(stderr, "usage: vsock-loop <vsock|pair> <bulk|rtt|conn|streams> args... (see the source)\n");
    return 2;
  }
  use_vsock = strcmp(argv[1], "vsock") == 0;
  if (use_vsock) {
    require_test_guest();
    const char *p = getenv("VSOCK_LOOP_PORT");
    port = p ? (unsigned)atoi(p) : 40000u + (unsigned)(getpid() % 20000);
  }
  start_listener();
  const char *what = argv[2];
  if (strcmp(what, "bulk") == 0 && argc == 6) bulk(arg(argv, 3), arg(argv, 4), strcmp(argv[5], "c2s") == 0);
  else if (strcmp(what, "rtt") == 0 && arg(argv, 4) <= 65536) rtt(arg(argv, 3), arg(argv, 4));
  else if (strcmp(what, "conn") == 0) conn(arg(argv, 3), arg(argv, 4));
  else if (strcmp(what, "streams") == 0 && argc == 6) streams(arg(argv, 3), arg(argv, 4), arg(argv, 5));
  else {
    fprintf(stderr, "vsock-loop: bad arguments\n");
    return 2;
  }
  return 0;
}
