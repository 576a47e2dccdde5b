/**
 * Every API error has one shape: `{"error": {"code", "message", "details"}}`.
 * `ApiError` carries it into the UI; transport failures get the code `network_error`.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  static network(cause: unknown): ApiError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ApiError(0, "network_error", `Could not reach the server (${reason}).`);
  }
}

interface ErrorEnvelope {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

/** The ApiError for a non-2xx answer, from its parsed JSON body when it has our shape. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const err = (body as ErrorEnvelope | null)?.error;
  if (err && typeof err.code === "string") {
    const message = typeof err.message === "string" ? err.message : err.code;
    const details =
      err.details && typeof err.details === "object" ? (err.details as Record<string, unknown>) : {};
    return new ApiError(status, err.code, message, details);
  }
  return new ApiError(status, `http_${status}`, `The server answered ${status}.`);
}

export function isApiError(value: unknown, code?: string): value is ApiError {
  return value instanceof ApiError && (code === undefined || value.code === code);
}

/** Whatever was thrown, as an ApiError (anything else is a transport failure). */
export function toApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : ApiError.network(err);
}
