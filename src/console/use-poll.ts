// Hooks the pages share: a value fetched from the API, fetched again on demand (an event said it changed,
// coalesced to one fetch per `debounceMs`) and every `everyMs` for what no event reports (accounting).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export interface Polled<T> {
  value: T | undefined;
  error: string;
  refresh: () => void;
}

export function usePolled<T>(load: () => Promise<T>, everyMs: number, debounceMs = 250): Polled<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const run = useCallback(() => {
    loadRef.current().then(
      (v) => {
        setValue(v);
        setError('');
      },
      (e: unknown) => setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)),
    );
  }, []);
  const refresh = useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      run();
    }, debounceMs);
  }, [run, debounceMs]);
  useEffect(() => {
    run();
    const interval = setInterval(run, everyMs);
    return () => {
      clearInterval(interval);
      if (timer.current !== undefined) clearTimeout(timer.current);
    };
  }, [run, everyMs]);
  return { value, error, refresh };
}
