/** The longest delay timers honour; beyond it Node fires after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A timer that never holds a Node process open on its own (Node returns a Timeout object,
 * browsers a number) and never fires early because its delay overflowed.
 */
export function backgroundTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, Math.min(ms, MAX_TIMER_MS));
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
