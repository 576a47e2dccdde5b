/**
 * Uploading a file in two steps (docs/files.md): ask for a signed upload URL, then PUT the
 * raw bytes to it. XMLHttpRequest, not fetch, because only it reports upload progress.
 */
import { api, call } from "./api/client";
import { apiUrl } from "./api/base-url";
import { ApiError, errorFromBody } from "./api/errors";
import type { FileInfo, UploadTicket } from "./api/types";

export type Owner = { roomId: string } | { directSessionId: string };

export async function requestUpload(owner: Owner, file: File): Promise<UploadTicket> {
  const body = { filename: file.name, size_bytes: file.size };
  return "roomId" in owner
    ? call(api.POST("/api/v1/rooms/{room_id}/files", { params: { path: { room_id: owner.roomId } }, body }))
    : call(api.POST("/api/v1/direct-sessions/{session_id}/files", {
        params: { path: { session_id: owner.directSessionId } }, body,
      }));
}

export function putBytes(ticket: UploadTicket, file: File, onProgress: (fraction: number) => void,
  signal?: AbortSignal): Promise<FileInfo> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const url = ticket.upload_url.startsWith("/") ? apiUrl(ticket.upload_url) : ticket.upload_url;
    xhr.open(ticket.method || "PUT", url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as FileInfo);
      } else {
        reject(errorFromBody(xhr.status, body));
      }
    };
    xhr.onerror = () => reject(ApiError.network(new Error("the upload was interrupted")));
    xhr.onabort = () => reject(new ApiError(0, "upload_cancelled", "Upload cancelled."));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
