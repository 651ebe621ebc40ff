import { useEffect, useRef, useState } from 'react';

export function useMedia(queryText: string): boolean {
  const [on, setOn] = useState(() => window.matchMedia(queryText).matches);
  useEffect(() => {
    const mq = window.matchMedia(queryText);
    const fn = (): void => setOn(mq.matches);
    mq.addEventListener('change', fn);
    fn();
    return () => mq.removeEventListener('change', fn);
  }, [queryText]);
  return on;
}

/** Runs `fn` every `ms` while mounted (and while `enabled`), never overlapping itself. */
export function useInterval(fn: () => Promise<void>, ms: number, enabled = true): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!enabled) return undefined;
    let stopped = false;
    let timer = 0;
    const tick = async (): Promise<void> => {
      try {
        await saved.current();
      } catch {
        // the next tick tries again
      }
      if (!stopped) timer = window.setTimeout(() => void tick(), ms);
    };
    timer = window.setTimeout(() => void tick(), ms);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [ms, enabled]);
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads once per change of `deps`; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [gen, setGen] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (err: unknown) =>
        live &&
        setState({ data: null, error: err instanceof Error ? err.message : String(err), loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, gen]);
  return { ...state, reload: () => setGen((g) => g + 1) };
}
