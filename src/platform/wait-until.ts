import type { ResolvedConfig } from "../config/options.js";
import type { WaitUntil } from "../export/keep-alive.js";

/**
 * Where runtimes expose the current invocation's `waitUntil` without an import: Vercel (Node and
 * Edge functions; what `@vercel/functions` reads) and Next.js's edge sandbox (what `after()` uses).
 */
const REQUEST_CONTEXTS = [Symbol.for("@vercel/request-context"), Symbol.for("@next/request-context")];

interface RequestContext {
  get?(): { waitUntil?: WaitUntil } | undefined;
}

/** The current invocation's waitUntil, where the runtime exposes one. */
function runtimeWaitUntil(): WaitUntil | undefined {
  for (const key of REQUEST_CONTEXTS) {
    const context = (globalThis as { [key: symbol]: RequestContext | undefined })[key]?.get?.();
    const waitUntil = context?.waitUntil;
    if (typeof waitUntil === "function") return (promise) => waitUntil.call(context, promise);
  }
  return undefined;
}

/** The `waitUntil` option, else the runtime's own. */
export function waitUntilFinder(config: ResolvedConfig): () => WaitUntil | undefined {
  const { waitUntil } = config;
  return waitUntil ? () => waitUntil : runtimeWaitUntil;
}
