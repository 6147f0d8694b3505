/** Where the PandaProbe API lives unless a self-hosted instance is configured. */
export const DEFAULT_ENDPOINT = "https://api.pandaprobe.com";

/**
 * The largest request body the relay forwards by default (1 MiB). Browsers truncate traces to
 * it, so a page never sends what its relay would refuse with 413.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
