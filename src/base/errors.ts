/** What went wrong, so an `onError` handler can tell a full queue from a rejected payload. */
export type PandaProbeErrorCode =
  | "config"
  | "queue_overflow"
  | "http_error"
  | "network_error"
  | "serialization"
  | "storage"
  /** The `mask` option threw: the value it failed on was recorded as "[mask failed]". */
  | "mask"
  | "internal";

/** Every error the SDK reports through `onError` or throws at an API boundary. */
export class PandaProbeError extends Error {
  // Assigned in the constructor, not as field initializers: bundles for ES2020 turn each of those
  // into a helper call, in every page that loads the SDK. `status` is always an own property.
  declare readonly name: "PandaProbeError";
  declare readonly code: PandaProbeErrorCode;
  /** HTTP status of the response that caused the error, when there was one. */
  declare readonly status?: number;

  constructor(code: PandaProbeErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    Object.assign(this, { name: "PandaProbeError", code, status: options?.status });
  }
}
