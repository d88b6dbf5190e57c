#include "CShutdownSignals.h"

#include <pthread.h>
#include <signal.h>

// warncastd reads SIGTERM and SIGINT through libdispatch's signal source (ServiceLifecycle
// sets them to SIG_IGN), which sees a signal only while no thread can take it itself. The
// block must be in place before any thread exists: the Swift runtime may start threads of
// its cooperative pool before the daemon's own code runs, and a thread started earlier
// keeps the signals unblocked and drops them. A constructor runs on the main thread before
// main(), so every later thread inherits the block.
static int blocked = 0;

__attribute__((constructor)) static void warncast_block_shutdown_signals(void) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    blocked = pthread_sigmask(SIG_BLOCK, &signals, 0) == 0;
}

int warncast_shutdown_signals_blocked(void) { return blocked; }
