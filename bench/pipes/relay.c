/* Bench reference "c-pipe": a bare 1:1 TCP relay in C (epoll, no parsing, no pooling, one thread).
 * It is not a pooler: it shows what forwarding bytes costs without a language runtime, so the bench can
 * say how far a proxy is from the floor its transport sets. Usage: relay LISTEN_PORT BACKEND_PORT (127.0.0.1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536

static int peer_of[MAX_FDS];

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static void tune(int fd) {
  int one = 1;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Writes all of buf; waits for the socket to drain when its send buffer is full. */
static int write_all(int fd, const char *buf, ssize_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, (size_t)len);
    if (n > 0) {
      buf += n;
      len -= n;
    } else if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, 10000) <= 0) return -1;
    } else if (!(n < 0 && errno == EINTR)) {
      return -1;
    }
  }
  return 0;
}

static void close_pair(int fd) {
  int other = peer_of[fd];
  close(fd);
  close(other);
}

/* Accepts a client and connects its own backend connection (blocking connect: loopback, bench only). */
static void accept_one(int listener, int ep, int backend_port) {
  int client = accept(listener, NULL, NULL);
  if (client < 0) return;
  int backend = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in to = loopback(backend_port);
  if (backend < 0 || client >= MAX_FDS || backend >= MAX_FDS ||
      connect(backend, (struct sockaddr *)&to, sizeof to) != 0) {
    close(client);
    if (backend >= 0) close(backend);
    return;
  }
  tune(client);
  tune(backend);
  peer_of[client] = backend;
  peer_of[backend] = client;
  struct epoll_event a = {.events = EPOLLIN, .data.fd = client}, b = {.events = EPOLLIN, .data.fd = backend};
  epoll_ctl(ep, EPOLL_CTL_ADD, client, &a);
  epoll_ctl(ep, EPOLL_CTL_ADD, backend, &b);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s LISTEN_PORT BACKEND_PORT\n", argv[0]);
    return 2;
  }
  int listen_port = atoi(argv[1]), backend_port = atoi(argv[2]);
  int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in at = loopback(listen_port);
  if (bind(listener, (struct sockaddr *)&at, sizeof at) != 0 || listen(listener, 512) != 0) {
    perror("relay: listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  static char buf[65536];
  struct epoll_event ready[64];
  for (;;) {
    int n = epoll_wait(ep, ready, 64, -1);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      int fd = ready[i].data.fd;
      if (fd == listener) {
        accept_one(listener, ep, backend_port);
        continue;
      }
      ssize_t got = read(fd, buf, sizeof buf);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0 || write_all(peer_of[fd], buf, got) != 0) close_pair(fd);
    }
  }
}
