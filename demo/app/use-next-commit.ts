import { useCallback, useEffect, useRef } from "react";

/**
 * A promise for the end of React's next commit: "the user can see it now". It also settles when
 * the component unmounts (a new conversation started mid-answer), so a turn's trace still ends.
 */
export function useNextCommit(): () => Promise<void> {
  const waiting = useRef<(() => void)[]>([]);
  const release = () => {
    for (const resolve of waiting.current.splice(0)) resolve();
  };
  useEffect(release);
  useEffect(() => release, []);
  return useCallback(() => new Promise<void>((resolve) => waiting.current.push(resolve)), []);
}
