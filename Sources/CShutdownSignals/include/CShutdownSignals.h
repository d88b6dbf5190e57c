#ifndef WARNCAST_SHUTDOWN_SIGNALS_H
#define WARNCAST_SHUTDOWN_SIGNALS_H

/// Whether SIGTERM and SIGINT were blocked before main() ran (1) or not (0).
int warncast_shutdown_signals_blocked(void);

/// Installs the handler for SIGTERM and SIGINT: it writes the signal's number into a pipe.
/// 0 on success, else errno.
int warncast_shutdown_signals_install(void);

/// Waits for SIGTERM or SIGINT and returns its number (-1 if the pipe failed), with when it
/// arrived in `arrived_ms` (CLOCK_MONOTONIC, milliseconds; may be null). Call it on one
/// thread of its own: that thread unblocks the two signals, so the kernel always has a
/// thread to run the handler on, whatever the other threads' masks. A SIGTERM sent to a
/// whole process group reaches a program started by make twice (make passes it on to its
/// children), a few milliseconds apart: the arrival times tell a repeat from a second request.
int warncast_wait_shutdown_signal(long long *arrived_ms);

#endif
