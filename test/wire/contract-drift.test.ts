/**
 * Drift check: the project's compact ingestion schema against the backend's OpenAPI description.
 *
 * CI checks out `shared/` beside the repository (`<repoRoot>/../shared/pandaprobe-api/openapi.json`);
 * a fresh clone has no such folder, so the test is skipped there, saying why.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { contractErrors, ingestionSchema } from "../support/contract.js";

type Schema = Record<string, any>;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const sharedApiDir = resolve(repoRoot, "..", "shared", "pandaprobe-api");
const openapiPath = join(sharedApiDir, "openapi.json");
const seedDir = join(sharedApiDir, "seed-traces");
const hasOpenapi = existsSync(openapiPath);

if (!hasOpenapi) {
  console.info(`[contract-drift] skipped: ${openapiPath} not found (only CI has ../shared beside the checkout).`);
}

const OBJECTS = ["TraceCreate", "SpanCreate", "CreateTraceScoreRequest"] as const;
const ENUMS = ["SpanKind", "SpanStatusCode", "TraceStatus", "ScoreDataType"] as const;
const LIMITS = ["maxLength", "maxItems"] as const;

/** Resolves a local `$ref` (`#/components/schemas/X` or `#/$defs/X`) against its document. */
function deref(schema: Schema | undefined, root: Schema): Schema | undefined {
  let current = schema;
  for (let hops = 0; current && typeof current["$ref"] === "string" && hops < 20; hops++) {
    const ref: string = current["$ref"];
    if (!ref.startsWith("#/")) throw new Error(`non-local $ref not supported: ${ref}`);
    current = ref
      .slice(2)
      .split("/")
      .reduce<any>((node, key) => node?.[key.replace(/~1/g, "/").replace(/~0/g, "~")], root);
  }
  return current;
}

/** The schema itself plus its `anyOf`/`oneOf`/`allOf` branches (nullable upstream fields live in `anyOf`), dereferenced. */
function branches(schema: Schema | undefined, root: Schema): Schema[] {
  const resolved = deref(schema, root);
  if (!resolved) return [];
  const nested = ["anyOf", "oneOf", "allOf"].flatMap((k) =>
    Array.isArray(resolved[k]) ? resolved[k].flatMap((s: Schema) => branches(s, root)) : [],
  );
  return [resolved, ...nested];
}

/** The limit `keyword` of a property, looking through `$ref` and `anyOf` branches. */
function limitOf(schema: Schema | undefined, root: Schema, keyword: string): number | undefined {
  const values = branches(schema, root)
    .map((s) => s[keyword])
    .filter((v): v is number => typeof v === "number");
  return values.length ? Math.max(...values) : undefined;
}

function enumOf(schema: Schema | undefined, root: Schema): string[] | undefined {
  for (const s of branches(schema, root)) {
    if (Array.isArray(s["enum"])) return s["enum"];
  }
  return undefined;
}

/** Every difference between the project schema and the OpenAPI `components.schemas`, one readable line each. */
function findDrift(project: Schema, openapi: Schema): string[] {
  const upstreamDefs: Schema = openapi["components"]?.["schemas"] ?? {};
  const projectDefs: Schema = project["$defs"] ?? {};
  const drift: string[] = [];

  for (const name of OBJECTS) {
    const mine = projectDefs[name];
    const theirs = upstreamDefs[name];
    if (!mine) drift.push(`${name}: missing from schema/ingestion.schema.json $defs`);
    if (!theirs) drift.push(`${name}: missing from openapi components.schemas`);
    if (!mine || !theirs) continue;

    const mineProps: Schema = mine["properties"] ?? {};
    const theirProps: Schema = theirs["properties"] ?? {};
    for (const prop of Object.keys(mineProps)) {
      if (!(prop in theirProps)) drift.push(`${name}.${prop}: allowed by the project schema but unknown upstream`);
    }
    for (const prop of Object.keys(theirProps)) {
      if (!(prop in mineProps)) drift.push(`${name}.${prop}: defined upstream but missing from the project schema`);
    }
    for (const prop of (theirs["required"] ?? []) as string[]) {
      if (!((mine["required"] ?? []) as string[]).includes(prop)) {
        drift.push(`${name}.${prop}: required upstream but optional in the project schema`);
      }
    }
    for (const prop of Object.keys(mineProps)) {
      if (!(prop in theirProps)) continue;
      for (const keyword of LIMITS) {
        const a = limitOf(mineProps[prop], project, keyword);
        const b = limitOf(theirProps[prop], openapi, keyword);
        if (a !== undefined && b !== undefined && a !== b) {
          drift.push(`${name}.${prop}: ${keyword} is ${a} in the project schema but ${b} upstream`);
        }
      }
      const a = enumOf(mineProps[prop], project);
      const b = enumOf(theirProps[prop], openapi);
      if (a && b) {
        const extra = a.filter((v) => !b.includes(v));
        if (extra.length) drift.push(`${name}.${prop}: project allows ${JSON.stringify(extra)}, not in upstream enum`);
      }
      const constant = deref(mineProps[prop], project)?.["const"];
      if (constant !== undefined && b && !b.includes(constant)) {
        drift.push(`${name}.${prop}: project const ${JSON.stringify(constant)} not in upstream enum ${JSON.stringify(b)}`);
      }
    }
  }

  for (const name of ENUMS) {
    const a = enumOf(projectDefs[name], project);
    const b = enumOf(upstreamDefs[name], openapi);
    if (!a) drift.push(`${name}: no enum in schema/ingestion.schema.json $defs`);
    if (!b) drift.push(`${name}: no enum in openapi components.schemas`);
    if (!a || !b) continue;
    const onlyMine = a.filter((v) => !b.includes(v));
    const onlyTheirs = b.filter((v) => !a.includes(v));
    if (onlyMine.length) drift.push(`${name}: values ${JSON.stringify(onlyMine)} in the project schema but not upstream`);
    if (onlyTheirs.length) drift.push(`${name}: values ${JSON.stringify(onlyTheirs)} upstream but not in the project schema`);
  }
  return drift;
}

/** Seeds as the SDK would send them: optional fields omitted instead of null. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

describe.skipIf(!hasOpenapi)(`contract drift against ${openapiPath}`, () => {
  it("the project schema agrees with the OpenAPI components.schemas (properties, enums, limits)", () => {
    const openapi: Schema = JSON.parse(readFileSync(openapiPath, "utf8"));
    const drift = findDrift(ingestionSchema, openapi);
    expect(drift, `schema/ingestion.schema.json drifted from the backend:\n  - ${drift.join("\n  - ")}\n`).toEqual([]);
  });

  it("the drift check itself notices a renamed property, a changed enum and a changed limit", () => {
    const openapi: Schema = JSON.parse(readFileSync(openapiPath, "utf8"));
    const schemas = openapi["components"]["schemas"];
    const { session_id, ...rest } = schemas["TraceCreate"]["properties"];
    schemas["TraceCreate"]["properties"] = { ...rest, session: session_id };
    schemas["SpanKind"]["enum"] = [...schemas["SpanKind"]["enum"], "GUARDRAIL"];
    schemas["SpanCreate"]["properties"]["name"]["maxLength"] = 256;
    const drift = findDrift(ingestionSchema, openapi);
    expect(drift).toEqual(
      expect.arrayContaining([
        "TraceCreate.session_id: allowed by the project schema but unknown upstream",
        "TraceCreate.session: defined upstream but missing from the project schema",
        'SpanKind: values ["GUARDRAIL"] upstream but not in the project schema',
        "SpanCreate.name: maxLength is 512 in the project schema but 256 upstream",
      ]),
    );
  });

  const seeds = existsSync(seedDir) ? readdirSync(seedDir).filter((f) => f.endsWith(".json")).sort() : [];
  it.skipIf(seeds.length === 0).each(seeds)("seed %s validates once nulls are omitted", (file) => {
    const body = withoutNulls(JSON.parse(readFileSync(join(seedDir, file), "utf8")));
    const errors = contractErrors(Array.isArray(body) ? "spans" : "trace", body);
    expect(errors, `${file}:\n  - ${errors.join("\n  - ")}`).toEqual([]);
  });
});
