/** A download link for an admin table as CSV (`?format=csv`, the same query as the view). */
import { apiUrl } from "@/lib/api/base-url";
import { DownloadIcon } from "./icons";

export function csvHref(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
  params.set("format", "csv");
  return apiUrl(`${path}?${params.toString()}`);
}

export function CsvLink({ href, label }: { href: string; label: string }) {
  return (
    <a className="csv-link" href={href} download aria-label={`Download ${label} as CSV`} data-testid="csv-link">
      <DownloadIcon /> CSV
    </a>
  );
}
