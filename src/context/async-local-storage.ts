import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, type Context, type ContextManager } from "./context.js";

/** Node's carrier: the context follows awaits, timers, promise chains and I/O callbacks. */
export class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<T>(ctx: Context, fn: () => T): T {
    return this.storage.run(ctx, fn);
  }

  enterWith(ctx: Context): void {
    this.storage.enterWith(ctx);
  }
}
