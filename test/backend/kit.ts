/** Talking to the real backend the kit runs: fresh keys, reads through its API, contract checks on the way out. */
import { readApi, type ReadApi } from "../demo/read-back.js";
import { contractErrors, type ContractKind } from "../support/contract.js";

export interface BackendKit {
  endpoint: string;
  orgId: string;
  /** Distinguishes this run's keys and projects from earlier runs' (the backend's data persists). */
  run: string;
}

/** `get` reads through the backend's read API, as this key and project. */
export interface Account extends ReadApi {
  apiKey: string;
  projectName: string;
  revoke(): Promise<void>;
}

/** A fresh API key (its own rate-limit window) and a fresh project (created by the first request naming it). */
export async function freshAccount(kit: BackendKit, name: string): Promise<Account> {
  const res = await fetch(`${kit.endpoint}/organizations/${kit.orgId}/api-keys`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: `delivery-${kit.run}-${name}` }),
  });
  if (res.status !== 201) throw new Error(`creating an API key answered ${res.status}: ${await res.text()}`);
  const { raw_key: apiKey, id } = (await res.json()) as { raw_key: string; id: string };
  const projectName = `delivery ${kit.run} ${name}`;
  return {
    apiKey,
    projectName,
    get: readApi(kit.endpoint, { "X-API-Key": apiKey, "X-Project-Name": projectName }).get,
    async revoke() {
      await fetch(`${kit.endpoint}/organizations/${kit.orgId}/api-keys/${id}`, { method: "DELETE" });
    },
  };
}

/** Persistence is asynchronous: asks again every half second until `check` gives a value (not undefined). */
export async function poll<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`still not ${what} after ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function contractOf(path: string): ContractKind | undefined {
  if (path === "/traces") return "trace";
  if (path === "/evaluations/trace-scores") return "score";
  return /^\/traces\/[^/]+\/spans$/.test(path) ? "spans" : undefined;
}

/** A fetch for the SDK that checks every body it sends against the ingestion contract, then sends it. */
export function contractCheckingFetch(violations: string[]): typeof fetch {
  return (input, init) => {
    const path = new URL(String(input)).pathname;
    const kind = contractOf(path);
    if (kind && typeof init?.body === "string") {
      for (const error of contractErrors(kind, JSON.parse(init.body))) violations.push(`${path}: ${error}`);
    }
    return fetch(input, init);
  };
}
