import type { NextConfig } from "next";

/**
 * A static export: `next build` writes plain files to `out/`, which `pantheon serve`
 * serves at `/` beside `/api/v1` (one process), or any static host serves on its own.
 * The API's base URL comes from NEXT_PUBLIC_PANTHEON_API_URL at build time; empty means
 * the same origin (see lib/api/base-url.ts).
 */
const config: NextConfig = {
  output: "export",
  trailingSlash: true,
  reactStrictMode: true,
  images: { unoptimized: true },
  poweredByHeader: false,
};

export default config;
