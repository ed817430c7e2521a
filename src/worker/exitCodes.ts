// Exit codes of `dsdc-dist worker` that its launchers act on (a usage or start-up error is 1).

/** The coordinator refused this worker (token, protocol version, duplicate id): restarting cannot help. */
export const WORKER_REFUSED_EXIT_CODE = 2;
