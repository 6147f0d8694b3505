import { realmSlot } from "../base/realm.js";

/**
 * How a value travels with execution. One small interface, several carriers: AsyncLocalStorage on
 * servers, zones or an explicit stack in browsers. The value is opaque here: what is in scope (a
 * trace, a session) is the business of the layer above.
 */
export interface ContextManager {
  /** The value current here; undefined at the root. */
  active(): unknown;
  /** Runs fn with value current; the previous one is back when fn returns or throws. */
  with<T>(value: unknown, fn: () => T): T;
  /**
   * Makes value current for the rest of this execution and what it schedules from now on
   * (AsyncLocalStorage's `enterWith`). Absent where the carrier cannot do that (zones, the stack).
   */
  enterWith?(value: unknown): void;
}

/**
 * The carrier of last resort: holds for synchronous code and for async code up to its first
 * await. Used where no async context exists (plain browsers); spans carry their parents explicitly.
 */
export class StackContextManager implements ContextManager {
  // Declared, not initialized: bundles for ES2020 turn a class field into a helper call.
  declare private current: unknown;

  active(): unknown {
    return this.current;
  }

  with<T>(value: unknown, fn: () => T): T {
    const previous = this.current;
    this.current = value;
    try {
      return fn();
    } finally {
      this.current = previous;
    }
  }
}

const slot = realmSlot<{ manager?: ContextManager }>("context.v1", () => ({}));

/** Chosen once by the runtime's entry (Node, browser). */
export function setContextManager(next: ContextManager): void {
  slot.manager = next;
}

export function contextManager(): ContextManager {
  return (slot.manager ??= new StackContextManager());
}
