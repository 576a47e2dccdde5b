"use client";
import { useSearchParams } from "next/navigation";

/** A query-string value. Screens take their ids this way (`/room/?id=…`), as a static export
 * has no dynamic path segments. Callers sit inside a <Suspense> boundary. */
export function useQueryParam(name: string): string | null {
  return useSearchParams().get(name);
}
