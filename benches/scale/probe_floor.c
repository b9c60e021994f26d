/*
 * probe_floor TCP_PORT HTTP_PORT TCP_PER_S HTTP_PER_S SECONDS — what the scale mix's network
 * probes cost the process that makes them, with nothing else around them.
 *
 * Each second, in one burst (as monit runs its cycle), it makes TCP_PER_S connections to
 * 127.0.0.1:TCP_PORT and closes them (tcpw's check), and HTTP_PER_S
 * `GET / HTTP/1.0` requests to 127.0.0.1:HTTP_PORT, reading each answer to its end (httpw's
 * check); then it sleeps to the next second. At the end it prints its own CPU time
 * (getrusage: user and system, which includes the loopback's softirq work done in its
 * context) as a percentage of one core and per probe. No supervisor can make the same probes
 * for less: this is the floor under the scale benchmark's CPU figure for these probes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int tcp_probe(int port) {
    int fd = connect_to(port);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int http_probe(int port) {
    int fd = connect_to(port);
    if (fd < 0)
        return -1;
    static const char request[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1)) {
        close(fd);
        return -1;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    close(fd);
    return n == 0 ? 0 : -1;
}

static double seconds(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: probe_floor TCP_PORT HTTP_PORT TCP_PER_S HTTP_PER_S SECONDS\n");
        return 2;
    }
    int tcp_port = atoi(argv[1]), http_port = atoi(argv[2]);
    int tcp_n = atoi(argv[3]), http_n = atoi(argv[4]), secs = atoi(argv[5]);
    if (tcp_port <= 0 || http_port <= 0 || tcp_n < 0 || http_n < 0 || secs <= 0) {
        fprintf(stderr, "probe_floor: ports and SECONDS must be positive, counts not negative\n");
        return 2;
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    long failed = 0;
    for (int s = 0; s < secs; s++) {
        for (int i = 0; i < tcp_n; i++)
            failed += tcp_probe(tcp_port) != 0;
        for (int i = 0; i < http_n; i++)
            failed += http_probe(http_port) != 0;
        next.tv_sec += 1;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    getrusage(RUSAGE_SELF, &after);
    double user = seconds(after.ru_utime) - seconds(before.ru_utime);
    double sys = seconds(after.ru_stime) - seconds(before.ru_stime);
    long probes = (long)(tcp_n + http_n) * secs;
    printf("probe floor: %d tcp + %d http probes a second for %d s: CPU %.2f %% of a core "
           "(user %.2f %%, system %.2f %%), %.1f us per probe, %ld failed\n",
           tcp_n, http_n, secs, 100.0 * (user + sys) / secs, 100.0 * user / secs,
           100.0 * sys / secs, probes ? 1e6 * (user + sys) / (double)probes : 0.0, failed);
    return failed ? 1 : 0;
}
