/**
 * The one place where an API failure becomes something the application can show.
 *
 * The API answers errors as `{"error": {"code", "message", "details": [{"field", "issue"}]}}`;
 * API Gateway itself answers some (401, 413, 429, 504) as `{"message": "..."}`; the network may
 * fail with no answer at all. Each becomes an {@link ApiError} with a `kind` the screens turn
 * into a translated message and a next step (`errors.<kind>.*` in the message catalogues).
 */

export const ERROR_KINDS = [
  "invalid", // 400
  "unauthenticated", // 401
  "forbidden", // 403
  "not_found", // 404
  "conflict", // 409
  "stale", // 412: someone else changed the resource since it was read
  "precondition_required", // 428
  "too_large", // 413
  "unsupported_type", // 415
  "throttled", // 429
  "unavailable", // 503 (after the client's own retries)
  "timeout", // 504
  "network", // no answer
  "server", // any other 5xx
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface FieldIssue {
  /** Where the API found the problem, e.g. `body.reference` or `header.If-Match`. */
  field: string;
  issue: string;
}

const KIND_OF_STATUS: Readonly<Record<number, ErrorKind>> = {
  400: "invalid",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  412: "stale",
  413: "too_large",
  415: "unsupported_type",
  422: "invalid",
  428: "precondition_required",
  429: "throttled",
  503: "unavailable",
  504: "timeout",
};

export function kindOfStatus(status: number): ErrorKind {
  const known = KIND_OF_STATUS[status];
  if (known !== undefined) {
    return known;
  }
  return status >= 500 ? "server" : "invalid";
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly kind: ErrorKind;
  /** HTTP status, 0 when the request got no answer. */
  readonly status: number;
  /** The API's machine-readable code (e.g. `conflict`), when it sent one. */
  readonly code: string | null;
  readonly details: readonly FieldIssue[];
  /** Seconds the server asked to wait (503, 429), when it said. */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    kind?: ErrorKind;
    code?: string | null;
    message?: string;
    details?: readonly FieldIssue[];
    retryAfter?: number | null;
  }) {
    super(init.message ?? `HTTP ${init.status}`);
    this.status = init.status;
    this.kind = init.kind ?? kindOfStatus(init.status);
    this.code = init.code ?? null;
    this.details = init.details ?? [];
    this.retryAfter = init.retryAfter ?? null;
  }

  /** The issues about one field of a form (`body.title` for the field `title`). */
  issuesFor(field: string): string[] {
    return this.details
      .filter((d) => d.field === field || d.field === `body.${field}`)
      .map((d) => d.issue);
  }

  static network(cause: unknown): ApiError {
    const error = new ApiError({ status: 0, kind: "network", message: "no answer from the server" });
    error.cause = cause;
    return error;
  }
}

/**
 * Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 10.2.3).
 * Null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) {
    return null;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    return Number(text);
  }
  // An HTTP date names its day and month in letters; Date.parse alone would read "-3" as a year.
  const date = /^[A-Za-z]{3}, /.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(date)) {
    return null;
  }
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldIssues(value: unknown): FieldIssue[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter(isRecord).map((d) => ({
    field: typeof d.field === "string" ? d.field : "",
    issue: typeof d.issue === "string" ? d.issue : "",
  }));
}

/** An {@link ApiError} from a response that is not OK and its parsed body (if any). */
export function errorFromResponse(response: Response, body: unknown): ApiError {
  const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
  if (isRecord(body) && isRecord(body.error)) {
    const info = body.error;
    return new ApiError({
      status: response.status,
      code: typeof info.code === "string" ? info.code : null,
      message: typeof info.message === "string" ? info.message : undefined,
      details: fieldIssues(info.details),
      retryAfter,
    });
  }
  const message = isRecord(body) && typeof body.message === "string" ? body.message : undefined;
  return new ApiError({ status: response.status, message, retryAfter });
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
