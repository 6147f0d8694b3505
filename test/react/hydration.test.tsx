// @vitest-environment happy-dom
import { act, fireEvent, screen } from "@testing-library/react";
import { StrictMode } from "react";
import { hydrateRoot } from "react-dom/client";
import { renderToString } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";
import { capture } from "./capture.js";
import { Page } from "./ssr-page.js";

describe("hydration", () => {
  it("matches the server markup without warnings, then brings the client and traces with the tree's ids", async () => {
    const sink = capture();
    const options = { endpoint: "http://127.0.0.1:9/api/pandaprobe", exporter: sink.exporter };
    const page = (
      <StrictMode>
        <Page options={options} />
      </StrictMode>
    );
    const container = document.createElement("div");
    container.innerHTML = renderToString(page);
    document.body.append(container);
    expect(screen.getByTestId("outer").textContent).toBe("conv-1 alice no client");

    const errors = vi.spyOn(console, "error");
    const recoverable = vi.fn();
    await act(async () => {
      hydrateRoot(container, page, { onRecoverableError: recoverable });
    });
    expect(errors).not.toHaveBeenCalled();
    expect(recoverable).not.toHaveBeenCalled();

    // After hydration the provider's client exists; the ids never changed.
    expect(screen.getByTestId("outer").textContent).toBe("conv-1 alice client");
    expect(screen.getByTestId("inner").textContent).toBe("conv-2 alice client");
    fireEvent.click(screen.getByText("send"));
    const sent = sink.trace("send");
    expect([sent.session_id, sent.user_id]).toEqual(["conv-2", "alice"]);
  });
});
