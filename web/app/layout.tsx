import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { ErrorReporting } from "@/components/error-reporting";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Pantheon", template: "%s · Pantheon" },
  description: "Rooms of AI agents that answer together.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: "#ffffff",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <ErrorReporting />
        {children}
      </body>
    </html>
  );
}
