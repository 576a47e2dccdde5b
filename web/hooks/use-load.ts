"use client";
import { useCallback, useEffect, useState, type DependencyList } from "react";
import { toApiError, type ApiError } from "@/lib/api/errors";

/** Loads `load()` whenever `deps` change; keeps the last data while reloading, and the
 * error of the last attempt. `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList) {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({
    data: null, error: null, loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stop = false;
    setState((s) => ({ ...s, loading: true }));
    load()
      .then((data) => !stop && setState({ data, error: null, loading: false }))
      .catch((err: unknown) => !stop && setState((s) => ({ data: s.data, error: toApiError(err), loading: false })));
    return () => {
      stop = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
