#ifndef WARNCAST_SHUTDOWN_SIGNALS_H
#define WARNCAST_SHUTDOWN_SIGNALS_H

/// Whether SIGTERM and SIGINT were blocked before main() ran (1) or not (0).
int warncast_shutdown_signals_blocked(void);

/// Installs the handler for SIGTERM and SIGINT: it writes the signal's number into a pipe.
/// 0 on success, else errno.
int warncast_shutdown_signals_install(void);

/// Waits for SIGTERM or SIGINT and returns its number (-1 if the pipe failed). Call it on
/// one thread of its own: that thread unblocks the two signals, so the kernel always has a
/// thread to run the handler on, whatever the other threads' masks.
int warncast_wait_shutdown_signal(void);

#endif
