/* The scale benchmark's local servers, in C: one epoll loop, no threads.
 *
 *   server tcp  PORTFILE      accept and close at once (all tcpw and monit's `type tcp` need)
 *   server http PORTFILE      read a request head, answer `200 OK` (empty body), close
 *
 * Listens on 127.0.0.1, an ephemeral port, written to PORTFILE (temp + rename). The Python
 * servers of scale.py saturate a core at ~1,500 requests/s (N = 10,000 in the benchmark),
 * which then shows as clp's lateness; this one answers tens of thousands a second on one
 * core, so the benchmark measures the supervisors, not the servers (SERVERS=python keeps
 * the old ones).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 65536
#define HEAD_MAX 4096

static const char ANSWER[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";

struct conn {
    int len;                     /* bytes of the request head read so far */
    char *buf;
};

static struct conn conns[MAX_CONN];

static void write_port(const char *portfile, int port) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, portfile) != 0) {
        perror(portfile);
        exit(1);
    }
}

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    free(conns[fd].buf);
    conns[fd].buf = NULL;
    conns[fd].len = 0;
    close(fd);
}

/* Reads what the client sent; answers once the head is complete (or the client is done). */
static void on_readable(int ep, int fd) {
    struct conn *c = &conns[fd];
    if (!c->buf && !(c->buf = malloc(HEAD_MAX))) {
        drop(ep, fd);
        return;
    }
    for (;;) {
        ssize_t n = read(fd, c->buf + c->len, HEAD_MAX - 1 - c->len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            drop(ep, fd);
            return;
        }
        c->len += (int)n;
        c->buf[c->len] = 0;
        if (strstr(c->buf, "\r\n\r\n") || c->len >= HEAD_MAX - 1) {
            ssize_t w = write(fd, ANSWER, sizeof ANSWER - 1);
            (void)w;
            drop(ep, fd);
            return;
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "http") != 0)) {
        fprintf(stderr, "usage: %s tcp|http PORTFILE\n", argv[0]);
        return 2;
    }
    int http = strcmp(argv[1], "http") == 0;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 4096) != 0) {
        perror("listen");
        return 1;
    }
    socklen_t alen = sizeof addr;
    getsockname(ls, (struct sockaddr *)&addr, &alen);
    write_port(argv[2], ntohs(addr.sin_port));

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd != ls) {
                on_readable(ep, fd);
                continue;
            }
            for (;;) {
                int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0)
                    break;       /* EAGAIN: drained; EMFILE and the like: retried next wake-up */
                if (!http || c >= MAX_CONN) {
                    close(c);
                    continue;
                }
                struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
                if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0)
                    close(c);
            }
        }
    }
}
