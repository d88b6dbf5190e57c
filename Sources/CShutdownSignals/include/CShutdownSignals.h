#ifndef WARNCAST_SHUTDOWN_SIGNALS_H
#define WARNCAST_SHUTDOWN_SIGNALS_H

/// Whether SIGTERM and SIGINT were blocked before main() ran (1) or not (0).
int warncast_shutdown_signals_blocked(void);

#endif
