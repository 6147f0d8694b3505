import { Client, getClient, init, type PandaProbeOptions } from "pandaprobe";

/** One client per distinct configuration, for the page's life: remounts and Strict Mode reuse it. */
const clients = new Map<string, Client | undefined>();
/** Clients this cache made the global one: an app's own init() replaces them and shuts them down. */
const madeGlobal = new WeakSet<Client>();
const objectIds = new WeakMap<object, number>();
let lastObjectId = 0;

/** Options that are functions or objects (`fetch`, `exporter`) count by identity, the rest by value. */
export function optionsKey(options: PandaProbeOptions): string {
  const entries = Object.entries(options)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => {
      if (value === null || (typeof value !== "object" && typeof value !== "function")) return [name, value];
      let id = objectIds.get(value);
      if (id === undefined) objectIds.set(value, (id = ++lastObjectId));
      return [name, `#${id}`];
    });
  return JSON.stringify(entries);
}

type AnyFunction = (...args: unknown[]) => unknown;

/** Per function option as a provider first passed it: the stand-in its client calls, and the latest function. */
const standIns = new WeakMap<AnyFunction, { call: AnyFunction; latest: AnyFunction }>();

/**
 * The function a client made from options calls in place of `latest`: one per `origin` (the
 * first function a provider passed there), so the options key stays while an inline function
 * changes identity at every render, and each call goes to the latest one (a fresh token).
 */
export function standIn(origin: AnyFunction, latest: AnyFunction): AnyFunction {
  let entry = standIns.get(origin);
  if (entry === undefined) {
    const created = { latest, call: (...args: unknown[]) => created.latest(...args) };
    standIns.set(origin, (entry = created));
  }
  entry.latest = latest;
  return entry.call;
}

/**
 * The client for these options, created on first use. Never on a server (no `document`): a
 * provider's options describe the browser client, and server code traces with its own global one.
 * The first one becomes the global client when the app has none, so module-level `trace()` and
 * integrations record with it too; when the app's own init() replaces it (and shuts it down), the
 * provider gets a new one. A refused configuration is one warning and no client.
 */
export function clientFor(options: PandaProbeOptions): Client | undefined {
  if (typeof document === "undefined") return undefined;
  const key = optionsKey(options);
  const cached = clients.get(key);
  const replaced = cached !== undefined && madeGlobal.has(cached) && getClient() !== cached;
  if (clients.has(key) && !replaced) return cached;
  let client: Client | undefined;
  try {
    if (getClient() === undefined) madeGlobal.add((client = init(options)));
    else client = new Client(options);
  } catch (error) {
    console.warn(`[pandaprobe] ${(error as Error).message} Traces of <PandaProbeProvider> are not sent.`);
  }
  clients.set(key, client);
  return client;
}

/** The client a point of the tree traces with: the provider's, else the core's global one. */
export function resolveClient(tree: { client: Client | undefined; options: PandaProbeOptions | undefined }): Client | undefined {
  return tree.client ?? (tree.options ? clientFor(tree.options) : undefined) ?? getClient();
}
