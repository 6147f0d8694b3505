import type { Env } from "../config/env.js";
import type { PandaProbeOptions, ResolvedConfig } from "../config/options.js";
import type { PandaProbeError } from "../base/errors.js";
import type { SendTrace, SpanHold } from "../export/span-hold.js";
import type { Exporter } from "../export/types.js";
import { realmSlot } from "../base/realm.js";

/** What a client needs from its runtime, so the core stays free of Node and browser specifics. */
export interface Platform {
  /** `PANDAPROBE_*` variables where the runtime has a process environment. */
  env(): Env | undefined;
  /** The options such variables set, parsed; absent where there are none, so browsers ship no parsing. */
  readEnv?(env: Env, options: PandaProbeOptions | undefined): PandaProbeOptions;
  /** Where this runtime's defaults differ from the common ones. */
  defaults?: PandaProbeOptions;
  /** Throws on a developer's mistake in the options; absent in production browser bundles. */
  checkOptions?(options: PandaProbeOptions | undefined, config: ResolvedConfig): void;
  /** Why this config cannot send from this runtime (missing key, a key in a browser), or undefined. */
  refuse(config: ResolvedConfig): string | undefined;
  createExporter(config: ResolvedConfig, hooks: ExporterHooks): Exporter;
  /** Holds ended traces for their open spans so they share requests; none where the runtime may stop at any moment. */
  spanHold?(config: ResolvedConfig): ((send: SendTrace) => SpanHold) | undefined;
  /** Runs flush when the process is about to exit (Node's event loop drains); returns how to stop. */
  flushOnExit?(flush: () => Promise<void>): () => void;
}

export interface ExporterHooks {
  report(error: PandaProbeError): void;
  /** Present only in debug mode, so callers can skip building messages. */
  log: ((message: string) => void) | undefined;
}

const slot = realmSlot<{ platform?: Platform }>("platform.v1", () => ({}));

export function setPlatform(next: Platform): void {
  slot.platform = next;
}

export function currentPlatform(): Platform {
  const { platform } = slot;
  if (!platform) throw new Error("PandaProbe: no platform registered; import the SDK from its package entry.");
  return platform;
}
