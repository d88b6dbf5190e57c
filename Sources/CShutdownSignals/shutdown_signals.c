#define _GNU_SOURCE
#include "CShutdownSignals.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// warncastd stops gracefully on SIGTERM (systemd) and SIGINT (Ctrl-C). A process-directed
// signal goes to any one thread that does not block it, so relying on every thread's mask
// (or on a signalfd read by one thread) drops the signal whenever some thread, started by
// a library, has it unblocked. Here instead:
//   - a constructor blocks both before main(), so every thread inherits the block and a
//     signal that arrives before the handler exists stays pending rather than killing us;
//   - the handler only writes the signal's number into a pipe, which is safe in a handler
//     and works on whichever thread the kernel picks;
//   - one watcher thread unblocks both and reads the pipe, so there is always a thread
//     that takes the signal.
static int blocked = 0;
static int pipe_fds[2] = {-1, -1};

__attribute__((constructor)) static void warncast_block_shutdown_signals(void) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    blocked = pthread_sigmask(SIG_BLOCK, &signals, 0) == 0;
}

int warncast_shutdown_signals_blocked(void) { return blocked; }

// Each signal is one note in the pipe: its number and when it arrived (CLOCK_MONOTONIC, in
// milliseconds). clock_gettime and write are async-signal-safe, and a write this small
// to a pipe is atomic, so notes never interleave.
enum { NOTE_SIZE = 1 + sizeof(long long) };

static long long monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void warncast_on_shutdown_signal(int number) {
    int saved = errno;
    unsigned char note[NOTE_SIZE];
    long long at = monotonic_ms();
    note[0] = (unsigned char)number;
    memcpy(note + 1, &at, sizeof at);
    ssize_t written = write(pipe_fds[1], note, sizeof note);
    (void)written;
    errno = saved;
}

int warncast_shutdown_signals_install(void) {
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return errno;
    // The handler must never block: with the pipe full (signals nobody reads), drop the byte.
    if (fcntl(pipe_fds[1], F_SETFL, fcntl(pipe_fds[1], F_GETFL) | O_NONBLOCK) != 0) return errno;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = warncast_on_shutdown_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &action, 0) != 0 || sigaction(SIGINT, &action, 0) != 0) return errno;
    return 0;
}

int warncast_wait_shutdown_signal(long long *arrived_ms) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &signals, 0);
    unsigned char note[NOTE_SIZE];
    size_t have = 0;
    while (have < sizeof note) {
        ssize_t got = read(pipe_fds[0], note + have, sizeof note - have);
        if (got > 0) {
            have += (size_t)got;
        } else if (got < 0 && errno == EINTR) {
            continue;
        } else {
            return -1;
        }
    }
    if (arrived_ms) memcpy(arrived_ms, note + 1, sizeof *arrived_ms);
    return note[0];
}
