/** What went wrong, so an `onError` handler can tell a full queue from a rejected payload. */
export type PandaProbeErrorCode =
  | "config"
  | "queue_overflow"
  | "http_error"
  | "network_error"
  | "serialization"
  | "storage"
  | "internal";

/** Every error the SDK reports through `onError` or throws at an API boundary. */
export class PandaProbeError extends Error {
  override readonly name = "PandaProbeError";
  readonly code: PandaProbeErrorCode;
  /** HTTP status of the response that caused the error, when there was one. */
  readonly status?: number;

  constructor(code: PandaProbeErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
  }
}
