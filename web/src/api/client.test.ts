import { describe, expect, it, vi } from "vitest";

import { call, createApi, retryingFetch, type Sleep } from "./client";
import { ApiError, parseRetryAfter } from "./errors";

const BASE = "http://api.test";
const DOSSIER_ID = "0123456789abcdef0123456789abcdef";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function errorBody(code: string, message: string, details: { field: string; issue: string }[] = []) {
  return { error: { code, message, details } };
}

const dossier = {
  id: DOSSIER_ID,
  reference: "DOS-1",
  title: "A",
  description: null,
  status: "open",
  owner: "alice",
  version: 3,
  created_at: "2026-01-02T03:04:05Z",
  updated_at: "2026-01-02T03:04:05Z",
};

/** A fetch that answers from a script and records what it was sent. */
function scripted(...answers: (Response | Error)[]) {
  const seen: { method: string; url: string; headers: Headers; body: string }[] = [];
  const send = vi.fn(async (request: Request) => {
    seen.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: await request.text(),
    });
    const next = answers.shift();
    if (next === undefined) {
      throw new Error("no more scripted answers");
    }
    if (next instanceof Error) {
      throw next;
    }
    return next;
  });
  return { send, seen };
}

function recordingSleep() {
  const waits: number[] = [];
  const wait: Sleep = (ms) => {
    waits.push(ms);
    return Promise.resolve();
  };
  return { wait, waits };
}

function api(send: (r: Request) => Promise<Response>, wait: Sleep, token: string | null = "tok") {
  const onUnauthenticated = vi.fn();
  const client = createApi({
    baseUrl: `${BASE}/`,
    token: () => Promise.resolve(token),
    fetch: send,
    sleep: wait,
    onUnauthenticated,
  });
  return { client, onUnauthenticated };
}

describe("the API client", () => {
  it("sends the ID token as a bearer token and returns typed data", async () => {
    // Given an API that answers a dossier
    const { send, seen } = scripted(json(200, dossier, { ETag: '"3"' }));
    const { client } = api(send, recordingSleep().wait);

    // When the application reads it
    const { data, response } = await call(
      client.GET("/v1/dossiers/{dossier_id}", { params: { path: { dossier_id: DOSSIER_ID } } }),
    );

    // Then the request carried the token and the answer is the dossier
    expect(seen[0]?.url).toBe(`${BASE}/v1/dossiers/${DOSSIER_ID}`);
    expect(seen[0]?.headers.get("Authorization")).toBe("Bearer tok");
    expect(data.reference).toBe("DOS-1");
    expect(response.headers.get("ETag")).toBe('"3"');
  });

  it("sends no Authorization header when signed out", async () => {
    const { send, seen } = scripted(json(200, { status: "ok", database: "ok" }));
    const { client } = api(send, recordingSleep().wait, null);

    await call(client.GET("/health"));

    expect(seen[0]?.headers.has("Authorization")).toBe(false);
  });

  it.each([
    [400, "invalid"],
    [403, "forbidden"],
    [404, "not_found"],
    [409, "conflict"],
    [412, "stale"],
    [413, "too_large"],
    [415, "unsupported_type"],
    [428, "precondition_required"],
    [500, "server"],
    [502, "server"],
    [504, "timeout"],
  ])("maps HTTP %i to the error kind %s", async (status, kind) => {
    const { send } = scripted(json(status, errorBody("some_code", "some message")));
    const { client } = api(send, recordingSleep().wait);

    const failure = call(client.GET("/v1/dossiers/{dossier_id}", { params: { path: { dossier_id: DOSSIER_ID } } }));

    await expect(failure).rejects.toMatchObject({ status, kind, code: "some_code", message: "some message" });
  });

  it("keeps the field details of a 400 so that forms can show them by field", async () => {
    const details = [
      { field: "body.reference", issue: "String should match pattern" },
      { field: "body.title", issue: "too short" },
    ];
    const { send } = scripted(json(400, errorBody("invalid_request", "the request is not valid", details)));
    const { client } = api(send, recordingSleep().wait);

    const error = await call(
      client.POST("/v1/dossiers", { body: { reference: "!", title: "" } }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.issuesFor("reference")).toEqual(["String should match pattern"]);
    expect(apiError.issuesFor("title")).toEqual(["too short"]);
    expect(apiError.issuesFor("description")).toEqual([]);
  });

  it("reads API Gateway's own error body and reports a 401 as the end of the session", async () => {
    const { send } = scripted(json(401, { message: "Unauthorized" }));
    const { client, onUnauthenticated } = api(send, recordingSleep().wait);

    const failure = call(client.GET("/v1/dossiers"));

    await expect(failure).rejects.toMatchObject({ status: 401, kind: "unauthenticated", code: null });
    expect(onUnauthenticated).toHaveBeenCalledOnce();
  });

  it("turns a failed connection into a network error", async () => {
    const { send } = scripted(new TypeError("Failed to fetch"));
    const { client } = api(send, recordingSleep().wait);

    await expect(call(client.GET("/v1/dossiers"))).rejects.toMatchObject({ status: 0, kind: "network" });
  });

  it("retries a 503 after the Retry-After it gives, then returns the success", async () => {
    // Given an API whose database is down for two answers
    const unavailable = () => json(503, errorBody("unavailable", "db down"), { "Retry-After": "2" });
    const { send, seen } = scripted(unavailable(), unavailable(), json(200, { items: [], next_cursor: null }));
    const { wait, waits } = recordingSleep();
    const { client } = api(send, wait);

    // When the application lists dossiers
    const { data } = await call(client.GET("/v1/dossiers", { params: { query: { q: "DOS" } } }));

    // Then it waited as told between three identical requests and got the page
    expect(waits).toEqual([2000, 2000]);
    expect(seen.map((s) => s.url)).toEqual(Array(3).fill(`${BASE}/v1/dossiers?q=DOS`));
    expect(data.items).toEqual([]);
  });

  it("sends the same body and Idempotency-Key again when it retries a creation", async () => {
    const { send, seen } = scripted(
      json(503, errorBody("unavailable", "db down"), { "Retry-After": "1" }),
      json(201, dossier, { ETag: '"1"' }),
    );
    const { client } = api(send, recordingSleep().wait);

    await call(
      client.POST("/v1/dossiers", {
        body: { reference: "DOS-1", title: "A" },
        headers: { "Idempotency-Key": "k-1" },
      }),
    );

    expect(seen).toHaveLength(2);
    expect(seen[1]?.body).toBe(seen[0]?.body);
    expect(JSON.parse(seen[1]?.body ?? "")).toEqual({ reference: "DOS-1", title: "A" });
    expect(seen[1]?.headers.get("Idempotency-Key")).toBe("k-1");
  });

  it("gives up after its retries and reports the service as unavailable, with the wait it was told", async () => {
    const answers = Array.from({ length: 4 }, () =>
      json(503, errorBody("unavailable", "db down"), { "Retry-After": "1" }),
    );
    const { send } = scripted(...answers);
    const { wait, waits } = recordingSleep();
    const { client } = api(send, wait);

    await expect(call(client.GET("/v1/dossiers"))).rejects.toMatchObject({
      kind: "unavailable",
      retryAfter: 1,
    });
    expect(send).toHaveBeenCalledTimes(4);
    expect(waits).toEqual([1000, 1000, 1000]);
  });

  it("backs off exponentially when a 503 says nothing about when to retry", async () => {
    const { send } = scripted(
      json(503, errorBody("unavailable", "down")),
      json(503, errorBody("unavailable", "down")),
      json(200, { items: [], next_cursor: null }),
    );
    const { wait, waits } = recordingSleep();
    const { client } = api(send, wait);

    await call(client.GET("/v1/dossiers"));

    expect(waits).toEqual([1000, 2000]);
  });

  it("does not wait longer than its limit: a long Retry-After goes to the user at once", async () => {
    const { send } = scripted(json(503, errorBody("unavailable", "maintenance"), { "Retry-After": "3600" }));
    const { wait, waits } = recordingSleep();
    const { client } = api(send, wait);

    await expect(call(client.GET("/v1/dossiers"))).rejects.toMatchObject({
      kind: "unavailable",
      retryAfter: 3600,
    });
    expect(waits).toEqual([]);
  });

  it("does not retry client errors", async () => {
    const { send } = scripted(json(409, errorBody("conflict", "duplicate reference")));
    const { client } = api(send, recordingSleep().wait);

    await expect(call(client.POST("/v1/dossiers", { body: { reference: "D", title: "T" } }))).rejects.toMatchObject({
      kind: "conflict",
    });
    expect(send).toHaveBeenCalledOnce();
  });

  it("stops waiting when the request is cancelled", async () => {
    const controller = new AbortController();
    const send = vi.fn(() => Promise.resolve(json(503, errorBody("unavailable", "down"), { "Retry-After": "5" })));
    const wait: Sleep = (_ms, signal) =>
      new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => {
          reject(new DOMException("aborted", "AbortError"));
        });
        controller.abort();
      });
    const fetchWithRetry = retryingFetch(send, { maxRetries: 3, maxWaitSeconds: 30, defaultWaitSeconds: 1 }, wait);

    await expect(fetchWithRetry(new Request(`${BASE}/v1/dossiers`, { signal: controller.signal }))).rejects.toThrow(
      "aborted",
    );
    expect(send).toHaveBeenCalledOnce();
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates, and nothing else", () => {
    const now = Date.parse("2026-12-03T10:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Thu, 03 Dec 2026 10:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Thu, 03 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter("-3", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
