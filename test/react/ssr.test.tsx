// @vitest-environment node
import { PassThrough } from "node:stream";
import { text } from "node:stream/consumers";
import { getClient } from "pandaprobe";
import { renderToPipeableStream, renderToReadableStream, renderToString } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";
import { Page } from "./ssr-page.js";

/** Were a client made from these options during server rendering, it would open a queue and start timers. */
const options = { endpoint: "http://127.0.0.1:9/api/pandaprobe" };

function pipeable(): Promise<string> {
  return new Promise((resolve, reject) => {
    const out = new PassThrough();
    const stream = renderToPipeableStream(<Page options={options} />, {
      onAllReady: () => stream.pipe(out),
      onError: reject,
    });
    resolve(text(out));
  });
}

describe("server rendering (Node: no window, document or IndexedDB)", () => {
  it("renders the tree's ids, makes no client and starts no timer", () => {
    const spies = [vi.spyOn(globalThis, "setTimeout"), vi.spyOn(globalThis, "setInterval"), vi.spyOn(console, "warn")];
    const html = renderToString(<Page options={options} />);
    expect(spies.map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0]);
    expect(html).toContain("conv-1<!-- --> <!-- -->alice<!-- --> <!-- -->no client");
    expect(html).toContain("conv-2<!-- --> <!-- -->alice");
    expect(getClient()).toBeUndefined();
  });

  it("streams the same markup as renderToString (pipeable and web streams)", async () => {
    const html = renderToString(<Page options={options} />);
    expect(await pipeable()).toBe(html);
    const web = await renderToReadableStream(<Page options={options} />);
    await web.allReady;
    expect(await new Response(web).text()).toBe(html);
  });
});
