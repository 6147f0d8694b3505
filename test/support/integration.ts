/**
 * The lifecycle every integration test file shares: a collector to trace to and a fake provider
 * to call, started once, wiped after each test, closed at the end.
 *
 *   beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeOpenAI)));
 *   afterEach(() => resetIntegration(tracing, fake));
 *   afterAll(() => closeIntegration(tracing, fake));
 */
import { setSession, setUser } from "../../src/index.js";
import { traceToCollector, type Tracing } from "./tracing.js";

interface Fake {
  reset(): void;
  close(): Promise<void>;
}

export async function startIntegration<F extends Fake>(startFake: () => Promise<F>): Promise<{ tracing: Tracing; fake: F }> {
  return { tracing: await traceToCollector(), fake: await startFake() };
}

/** A clean slate for the next test: no imperative ids, nothing scripted or recorded, nothing received. */
export async function resetIntegration(tracing: Tracing, fake: Fake): Promise<void> {
  setSession(undefined);
  setUser(undefined);
  fake.reset();
  await tracing.reset();
}

export async function closeIntegration(tracing: Tracing, fake: Fake): Promise<void> {
  await fake.close();
  await tracing.close();
}
