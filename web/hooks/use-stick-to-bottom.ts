"use client";
import { useCallback, useEffect, useRef, type DependencyList } from "react";

/** Keeps a scrolling timeline at its newest message while the reader is there; leaves it
 * alone once they scroll up to read. */
export function useStickToBottom(deps: DependencyList) {
  const ref = useRef<HTMLDivElement>(null);
  const stuck = useRef(true);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (el) stuck.current = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }, []);

  const toBottom = useCallback(() => {
    stuck.current = true;
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (el && stuck.current) el.scrollTop = el.scrollHeight;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  return { ref, onScroll, toBottom };
}
