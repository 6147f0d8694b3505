import { AsyncLocalStorage } from "node:async_hooks";
import { newContext, NO_DEFAULTS, ROOT_CONTEXT, type Context, type ContextManager, type Defaults } from "./context.js";

/** Node's carrier: the context follows awaits, timers, promise chains and I/O callbacks. */
export class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<T>(ctx: Context, fn: () => T): T {
    return this.storage.run(ctx, fn);
  }

  defaults(): Defaults {
    return this.active().defaults ?? NO_DEFAULTS;
  }

  /** For the rest of this flow and what it schedules, like a request's middleware expects. */
  setDefaults(defaults: Defaults): void {
    const ctx = this.active();
    this.storage.enterWith(newContext(ctx, ctx.trace, ctx.span, undefined, undefined, defaults));
  }
}
