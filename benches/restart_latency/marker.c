/*
 * marker OUTDIR [PIDFILE] — the victim process every supervisor restarts.
 *
 * It reads the clock as its very first action, so the latency the driver computes
 * ("start.<pid>" timestamp minus the time of kill -9) ends at the moment the new
 * process is running, independent of how fast the driver notices it.
 *
 * Both files are written to a temporary name and renamed, so a reader never sees a
 * half-written pid or timestamp. The start file is written before the pidfile: once
 * the driver sees the new pid, the timestamp for it is already there.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int write_atomically(const char *path, const char *text) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (argc < 2) {
        fprintf(stderr, "usage: marker OUTDIR [PIDFILE]\n");
        return 2;
    }
    char text[64], path[4096];
    snprintf(text, sizeof text, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    snprintf(path, sizeof path, "%s/start.%d", argv[1], (int)getpid());
    if (write_atomically(path, text) != 0)
        perror("marker: start file");
    if (argc > 2) {
        snprintf(text, sizeof text, "%d\n", (int)getpid());
        if (write_atomically(argv[2], text) != 0)
            perror("marker: pidfile");
    }
    /* Wait for a signal; SIGTERM (a supervisor's normal stop) ends it by default. */
    for (;;)
        pause();
}
