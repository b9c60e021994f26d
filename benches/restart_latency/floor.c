/*
 * floor SCRIPT — the least a supervisor can do, to measure the host beside the supervisors.
 *
 * It starts `/bin/sh SCRIPT` the way clppm starts an async resource's start script
 * (posix_spawn, the leader of its own process group, stdin from /dev/null), blocks in
 * waitpid until it ends, and starts it again at once: no monitor, no log, no store, no
 * runtime. What its kill -9 -> restarted latency is on a host is the part of every
 * supervisor's figure that the host charges (waking on the exit, creating the shell,
 * exec'ing the victim); what a supervisor measures above it is its own.
 *
 * SIGTERM/SIGINT/SIGHUP end it: the script's process group gets SIGTERM, then it exits.
 * A script that ends within 100 ms five times in a row is broken, not killed by the
 * driver: floor then exits with status 1 instead of spinning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t stopping = 0;

static void on_stop(int sig) {
    (void)sig;
    stopping = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t start(const char *script) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    pid_t pid = -1;
    char *argv[] = {"sh", (char *)script, NULL};
    if (posix_spawnattr_init(&attr) != 0 || posix_spawn_file_actions_init(&actions) != 0)
        return -1;
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "floor: cannot start /bin/sh %s: %s\n", script, strerror(rc));
        return -1;
    }
    return pid;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: floor SCRIPT\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int quick = 0;
    while (!stopping) {
        double started = now_s();
        pid_t pid = start(argv[1]);
        if (pid < 0)
            return 1;
        int status;
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR)
                return 1;
            if (stopping) {
                kill(-pid, SIGTERM);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                }
                return 0;
            }
        }
        quick = now_s() - started < 0.1 ? quick + 1 : 0;
        if (quick >= 5) {
            fprintf(stderr, "floor: %s ended within 100 ms five times in a row\n", argv[1]);
            return 1;
        }
    }
    return 0;
}
