/*
 * reaper PROGRAM [ARGS...] — run PROGRAM as a child sub-reaper.
 *
 * In this sandbox PID 1 is not an init that reaps orphans promptly, so a victim that a
 * supervisor double-forks (monit's "start program ... &") would linger as a zombie and
 * look alive to the next check. Running every supervisor under this sub-reaper gives
 * all of them the same, real-host behaviour.
 *
 * SIGTERM/SIGINT/SIGHUP are passed on to PROGRAM, so stopping the reaper stops the
 * supervisor the ordinary way. When PROGRAM has exited, the orphans it left behind
 * (which were re-parented to us, so we started them) get SIGTERM, then SIGKILL after
 * 2 s, so a benchmark run never leaves victims behind. Exit status is PROGRAM's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid = 0;

static void forward(int sig) {
    if (child_pid > 0)
        kill(child_pid, sig);
}

/* Signals every process whose parent is us (orphans adopted as sub-reaper); returns how many. */
static int signal_adopted(int sig) {
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    pid_t me = getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        /* Field 4 (ppid) follows the last ')' (the command name may contain spaces). */
        char *p = strrchr(buf, ')');
        char state;
        long ppid;
        if (p && sscanf(p + 1, " %c %ld", &state, &ppid) == 2 && ppid == me && state != 'Z') {
            kill((pid_t)pid, sig);
            n++;
        }
    }
    closedir(d);
    return n;
}

static void reap_all(void) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: reaper PROGRAM [ARGS...]\n");
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        perror("reaper: PR_SET_CHILD_SUBREAPER");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    pid_t c = fork();
    if (c < 0) {
        perror("reaper: fork");
        return 1;
    }
    if (c == 0) {
        execvp(argv[1], argv + 1);
        perror("reaper: exec");
        _exit(127);
    }
    child_pid = c;

    int status = 0;
    for (;;) {
        int st;
        pid_t p = wait(&st);
        if (p == c) {
            status = st;
            break;
        }
        if (p < 0 && errno != EINTR)
            break;
    }
    child_pid = 0;

    /* PROGRAM is gone: end what it left behind, politely first. */
    if (signal_adopted(SIGTERM) > 0) {
        for (int i = 0; i < 200; i++) {
            reap_all();
            struct timespec tick = {0, 10 * 1000 * 1000};
            nanosleep(&tick, NULL);
            if (signal_adopted(0) == 0)
                break;
        }
        signal_adopted(SIGKILL);
        reap_all();
        /* Collect the killed ones too, so none is left a zombie. */
        while (wait(NULL) > 0) {
        }
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
