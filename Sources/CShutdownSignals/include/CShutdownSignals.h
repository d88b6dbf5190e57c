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

/// After the first signal: waits for another one, dropping those that arrive within
/// `quiet_ms` of the call. A SIGTERM sent to a whole process group reaches a program started
/// by make twice (make passes it on to its children): that is one request to stop, not two.
int warncast_wait_later_shutdown_signal(int quiet_ms);

#endif
