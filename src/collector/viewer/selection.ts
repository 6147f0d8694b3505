/** What the viewer shows, kept in the URL (`?session=…&user=…&trace=…&span=…`) so a view can be linked and reloaded. */
import { useCallback, useEffect, useState } from "react";

export interface Selection {
  session?: string;
  user?: string;
  trace?: string;
  span?: string;
}

const KEYS = ["session", "user", "trace", "span"] as const;

function read(): Selection {
  const params = new URLSearchParams(location.search);
  const selection: Selection = {};
  for (const key of KEYS) {
    const value = params.get(key);
    if (value) selection[key] = value;
  }
  return selection;
}

export function useSelection(): [Selection, (next: Selection) => void] {
  const [selection, setSelection] = useState(read);
  useEffect(() => {
    const onPop = () => setSelection(read());
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  const select = useCallback((next: Selection) => {
    const params = new URLSearchParams();
    for (const key of KEYS) if (next[key]) params.set(key, next[key]);
    history.pushState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
    setSelection(next);
  }, []);
  return [selection, select];
}
