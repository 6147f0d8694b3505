/**
 * Real Chromium for browser tests and benchmarks: launch, bundle the page code, serve it.
 *
 *   const browser = await launchChromium();
 *   const server = await startPageServer(collector, { app: await bundlePage("app.ts") });
 *   const page = await (await browser.newContext()).newPage();
 *   await page.goto(server.pageUrl("app"));
 *
 * The page server sits in front of the collector the way an app's relay route does: the page posts
 * to its own origin at `/api/pandaprobe/...` (no CORS, no key in the browser) and the server
 * forwards to the collector adding `X-API-Key` and `X-Project-Name`.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import type { Collector } from "./collector.js";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const RELAY_PATH = "/api/pandaprobe";
export const TEST_API_KEY = "sk_pp_browser_tests";
export const TEST_PROJECT = "browser-tests";

// Two levels below the root, here and where bench/browser.mjs bundles this file (bench/.build/).
const ROOT_URL = new URL("../../", import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);
const PAGES_DIR = new URL("test/browser/pages/", ROOT_URL);

/** Debian's Chromium; `npx playwright install` cannot run in this environment. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. Install it with: ` +
        "apt-get update && apt-get install -y --no-install-recommends chromium",
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface BundleOptions {
  /** ES2016 turns async/await into generators, which zone.js can follow. Default es2020. */
  target?: "es2016" | "es2020";
  minify?: boolean;
}

/** One IIFE script of a page source under test/browser/pages/, the SDK bundled from src/ as an app would. */
export async function bundlePage(entry: string, options: BundleOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, PAGES_DIR))],
    absWorkingDir: ROOT,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: options.target ?? "es2020",
    minify: options.minify ?? false,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

export interface PageServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** The page that runs bundle `name`. */
  pageUrl(name: string, query?: Record<string, string>): string;
  close(): Promise<void>;
}

/**
 * Serves `/<name>/` (test/browser/pages/page.html) and `/<name>/bundle.js` for every bundle,
 * relays `/api/pandaprobe/*` to the collector, and redirects `/login-wall/*` to a login page. Nothing is cached, so a reload fetches afresh.
 */
export async function startPageServer(
  /** Where the stand-in relay forwards; or the app's own relay route (createRelayHandler, as a Node handler). */
  upstream: Collector | ((req: IncomingMessage, res: ServerResponse) => void),
  bundles: Record<string, string>,
): Promise<PageServer> {
  const html = readFileSync(new URL("page.html", PAGES_DIR), "utf8");
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith(`${RELAY_PATH}/`)) {
      return typeof upstream === "function" ? upstream(req, res) : relay(req, res, upstream, path.slice(RELAY_PATH.length));
    }
    // An app whose auth middleware sends signed-out visitors to its login page, relay route included.
    if (path.startsWith("/login-wall/")) return void res.writeHead(302, { location: "/login" }).end();
    if (path === "/login") return void res.writeHead(200, { "content-type": "text/html" }).end("<form>sign in</form>");
    const [, name, file] = /^\/([\w-]+)\/(bundle\.js)?$/.exec(path) ?? [];
    const script = name === undefined ? undefined : bundles[name];
    if (script === undefined) {
      res.writeHead(404, { "cache-control": "no-store" }).end();
    } else if (file) {
      res.writeHead(200, { "content-type": "text/javascript", "cache-control": "no-store" }).end(script);
    } else {
      // Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs (benchmarks).
      res
        .writeHead(200, {
          "content-type": "text/html",
          "cache-control": "no-store",
          "cross-origin-opener-policy": "same-origin",
          "cross-origin-embedder-policy": "require-corp",
        })
        .end(html);
    }
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    pageUrl: (name, query) => `${origin}/${name}/${query ? `?${new URLSearchParams(query)}` : ""}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The relay: same body and content type, credentials added; a dropped upstream drops the page's request. */
function relay(req: IncomingMessage, res: ServerResponse, collector: Collector, path: string): void {
  const upstream = request(
    `${collector.url}${path}`,
    {
      method: req.method,
      headers: {
        "content-type": req.headers["content-type"] ?? "application/json",
        "x-request-id": req.headers["x-request-id"] ?? "",
        "x-api-key": TEST_API_KEY,
        "x-project-name": TEST_PROJECT,
      },
    },
    (answer) => {
      const headers: Record<string, string> = { "cache-control": "no-store" };
      for (const name of ["content-type", "retry-after"]) {
        const value = answer.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", () => res.destroy());
  // The page gave up (timeout, closed tab): let the collector see the connection go.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
