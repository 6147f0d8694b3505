import { AsyncLocalStorage } from "node:async_hooks";
import type { ContextManager } from "./context-manager.js";

/** Node's carrier: the value follows awaits, timers, promise chains and I/O callbacks. */
export class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<unknown>();

  active(): unknown {
    return this.storage.getStore();
  }

  with<T>(value: unknown, fn: () => T): T {
    return this.storage.run(value, fn);
  }

  enterWith(value: unknown): void {
    this.storage.enterWith(value);
  }
}
