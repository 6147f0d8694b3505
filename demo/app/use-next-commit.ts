import { useCallback, useEffect, useRef } from "react";

/** A promise for the end of React's next commit: "the user can see it now". */
export function useNextCommit(): () => Promise<void> {
  const waiting = useRef<(() => void)[]>([]);
  useEffect(() => {
    for (const resolve of waiting.current.splice(0)) resolve();
  });
  return useCallback(() => new Promise<void>((resolve) => waiting.current.push(resolve)), []);
}
