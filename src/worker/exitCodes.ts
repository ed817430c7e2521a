// Exit codes of `dsdc-dist worker` that its launchers act on (a start-up error is 1, a usage error 2 like a refusal: restarting cannot help).

/**
 * Restarting cannot help: the coordinator refused this worker (token, protocol version, duplicate
 * id), or its command line or settings are wrong (the usage-error status, the same number).
 */
export const WORKER_REFUSED_EXIT_CODE = 2;

/**
 * The coordinator stopped the run before its end (an error, a stop request): a restarted
 * coordinator continues it, so supervisors start this worker again (EX_TEMPFAIL of sysexits.h;
 * pm2's stop_exit_codes is [0]). Exit 0 means the run finished.
 */
export const WORKER_RUN_STOPPED_EXIT_CODE = 75;

/** No coordinator answered within --connect-timeout; a supervisor may start the worker again. */
export const WORKER_NO_COORDINATOR_EXIT_CODE = 3;
