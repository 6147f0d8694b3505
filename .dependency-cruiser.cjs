/**
 * The SDK's layers, checked by `npm test` (`npm run layers`). Each layer imports only those below it:
 *
 *   base         errors, the developer-build switch, guards, timers, per-realm slots   (nothing)
 *   wire         the contract: types, enums, limits, ids, serialization, bodies        base
 *   context      generic carriers of an opaque value (AsyncLocalStorage, zones, stack) base
 *   trace        Trace, Span, scopes, decorators, the typed context                    base, wire, context
 *   export       pipeline, exporters, queues, senders, retry                           base, wire, trace
 *   config       options, environment, option checks                                   base, wire, export
 *   platform     what each runtime provides (exporter, environment, exit hook)        base, wire, config, export
 *   client       Client, the global client, error reports                              all of the above
 *   relay        the server route browsers send through                                base, wire
 *   collector    the local collector and its viewer (`pandaprobe dev`), no SDK entry   base, wire
 *   integrations and react/: only the package's public entries (and their own folder)
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */
const layers = {
  base: [],
  wire: ["base"],
  context: ["base"],
  trace: ["base", "wire", "context"],
  export: ["base", "wire", "trace"],
  config: ["base", "wire", "export"],
  platform: ["base", "wire", "config", "export"],
  client: ["base", "wire", "context", "trace", "export", "config", "platform"],
  relay: ["base", "wire"],
  collector: ["base", "wire"],
};

const PUBLIC_ENTRY = "^src/(index|integration-kit)\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "no-cycle-across-folders",
      comment: "An import cycle that leaves its folder ties layers together: break it with an interface below.",
      severity: "error",
      from: { path: "^(src/[^/]+)/" },
      to: { circular: true, via: { pathNot: "^$1/" } },
    },
    ...Object.entries(layers).map(([layer, below]) => ({
      name: `${layer}-imports-only-below`,
      comment: `src/${layer}/ may import only ${below.length ? below.join(", ") : "nothing of the SDK"}.`,
      severity: "error",
      from: { path: `^src/${layer}/` },
      to: { path: "^src/", pathNot: `^src/(${[layer, ...below].join("|")})/` },
    })),
    {
      name: "integrations-import-public-entries",
      comment: "Integrations reach the core as users do: 'pandaprobe' and 'pandaprobe/integration-kit'.",
      severity: "error",
      from: { path: "^src/integrations/" },
      to: { path: "^(src|react)/", pathNot: [`^src/integrations/`, PUBLIC_ENTRY] },
    },
    {
      name: "integrations-import-core-by-name",
      comment: "A relative import of an entry would bundle a second copy of the core into the integration.",
      severity: "error",
      from: { path: "^src/integrations/" },
      to: { path: PUBLIC_ENTRY, dependencyTypes: ["local"] },
    },
    {
      name: "react-imports-public-entries",
      comment: "The React bindings use the core only through 'pandaprobe', as an app does.",
      severity: "error",
      from: { path: "^react/" },
      to: { path: "^src/", pathNot: PUBLIC_ENTRY },
    },
    {
      name: "react-imports-core-by-name",
      severity: "error",
      from: { path: "^react/" },
      to: { path: PUBLIC_ENTRY, dependencyTypes: ["local"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // The swc parser dependency-cruiser drives cannot read JSX: the viewer's components (.tsx) are
    // skipped; its data modules (.ts), which hold its only import of the collector, are checked.
    exclude: { path: "\\.tsx$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // TypeScript 7 has no JavaScript API; swc reads the sources instead.
    parser: "swc",
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "default"] },
  },
};
