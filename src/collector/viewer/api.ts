/**
 * What the viewer reads: the collector's read routes (the backend's shapes, typed from the views
 * that build them) and its change events.
 */
import { useEffect, useRef, useState } from "react";
import type { scoreResponse, sessionSummary, spanResponse, traceListItem, traceResponse } from "../views.js";

export type SessionSummary = ReturnType<typeof sessionSummary>;
export type TraceListItem = ReturnType<typeof traceListItem>;
export type TraceDetail = ReturnType<typeof traceResponse>;
export type SpanDetail = ReturnType<typeof spanResponse>;
export type Score = ReturnType<typeof scoreResponse>;
export interface UserSummary {
  user_id: string;
  trace_count: number;
  error_count: number;
  first_seen: string;
  last_seen: string;
}
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== "");
  return defined.length ? `?${new URLSearchParams(defined.map(([k, v]) => [k, String(v)]))}` : "";
}

/**
 * The JSON at `url` (null: nothing to fetch), fetched again whenever `version` changes. The last
 * answer stays on screen while the next one loads, so live updates do not flicker.
 */
export function useJson<T>(url: string | null, version: number): { data: T | undefined; error: string | undefined } {
  const [state, setState] = useState<{ url: string | null; data: T | undefined; error: string | undefined }>({ url, data: undefined, error: undefined });
  useEffect(() => {
    if (url === null) return setState({ url, data: undefined, error: undefined });
    const controller = new AbortController();
    fetch(url, { signal: controller.signal })
      .then(async (res) => {
        const body = await res.json();
        setState(res.ok ? { url, data: body as T, error: undefined } : { url, data: undefined, error: body.detail ?? `HTTP ${res.status}` });
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setState((s) => ({ ...s, error: String(error) }));
      });
    return () => controller.abort();
  }, [url, version]);
  // A different URL's old answer is not shown as this one's.
  return state.url === url ? state : { data: undefined, error: undefined };
}

/** How many changes the collector has announced; bumped at most every `intervalMs` so a burst of writes costs one refresh. */
export function useLiveVersion(intervalMs = 400): { version: number; connected: boolean } {
  const [version, setVersion] = useState(0);
  const [connected, setConnected] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    const source = new EventSource("/events");
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.onmessage = () => {
      timer.current ??= setTimeout(() => {
        timer.current = undefined;
        setVersion((v) => v + 1);
      }, intervalMs);
    };
    return () => {
      source.close();
      clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [intervalMs]);
  return { version, connected };
}
