import { describe, expect, it, vi } from "vitest";

import {
  PART_PAGE,
  TransferError,
  UploadManager,
  splitParts,
  type DocumentCreated,
  type FileDescription,
  type Transport,
  type UploadBackend,
  type UploadInstructions,
} from "./manager";

const DOSSIER = "d".repeat(32);
const MiB = 1024 * 1024;

function file(name: string, size: number, type = "application/pdf"): File {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) {
    bytes[i] = i % 251;
  }
  return new File([bytes], name, { type });
}

function documentOf(id: string, description: FileDescription): DocumentCreated["document"] {
  return {
    id,
    dossier_id: DOSSIER,
    filename: description.filename,
    content_type: description.content_type,
    size_bytes: description.size_bytes,
    sha256: null,
    status: "pending",
    etag: null,
    uploaded_by: "alice",
    legacy_path: null,
    created_at: "2026-12-03T10:00:00Z",
    updated_at: "2026-12-03T10:00:00Z",
  };
}

const partUrl = (id: string, n: number) => `https://s3.test/${id}?partNumber=${n}`;

/**
 * An API that answers like the real one: a form below the threshold, above it the part count and
 * the first page of part URLs; further pages, or URLs signed again, from `partUrls`.
 */
function fakeBackend(threshold: number, partSize: number) {
  const registered: FileDescription[] = [];
  const completed: string[] = [];
  const pages: [string, number, number][] = [];
  const abandoned: string[] = [];
  const restarted: string[] = [];
  const counts = new Map<string, number>();
  let next = 0;
  const backend: UploadBackend = {
    register(_dossierId, description) {
      registered.push(description);
      next += 1;
      const id = String(next).padStart(32, "0");
      let upload: UploadInstructions;
      if (description.size_bytes > threshold) {
        const count = Math.max(1, Math.ceil(description.size_bytes / partSize));
        counts.set(id, count);
        const first = Math.min(count, PART_PAGE);
        upload = {
          method: "MULTIPART",
          upload_id: `up-${id}`,
          part_size: partSize,
          part_count: count,
          parts: Array.from({ length: first }, (_, i) => ({ part_number: i + 1, url: partUrl(id, i + 1) })),
          next_part: first < count ? first + 1 : null,
          expires_in: 300,
        };
      } else {
        upload = {
          method: "POST",
          url: "https://s3.test/bucket",
          fields: { key: `documents/${id}`, "Content-Type": description.content_type },
          expires_in: 300,
        };
      }
      return Promise.resolve({ document: documentOf(id, description), upload });
    },
    partUrls(documentId, from, limit) {
      pages.push([documentId, from, limit]);
      const count = counts.get(documentId) ?? 0;
      const last = Math.min(count, from + limit - 1);
      // Signed again: another URL than the first page's for the same part.
      const parts = Array.from({ length: last - from + 1 }, (_, i) => ({
        part_number: from + i,
        url: from <= PART_PAGE ? `${partUrl(documentId, from + i)}&signed=${pages.length}` : partUrl(documentId, from + i),
      }));
      return Promise.resolve({
        upload_id: `up-${documentId}`,
        part_size: partSize,
        part_count: count,
        parts,
        next_part: last < count ? last + 1 : null,
        expires_in: 300,
      });
    },
    complete(documentId) {
      completed.push(documentId);
      return Promise.resolve();
    },
    abandon(documentId) {
      abandoned.push(documentId);
      return Promise.resolve();
    },
    restart(documentId) {
      restarted.push(documentId);
      const count = counts.get(documentId) ?? 0;
      return Promise.resolve({
        method: "MULTIPART",
        upload_id: `up-${documentId}-again`,
        part_size: partSize,
        part_count: count,
        parts: Array.from({ length: Math.min(count, PART_PAGE) }, (_, i) => ({
          part_number: i + 1,
          url: `${partUrl(documentId, i + 1)}&again=1`,
        })),
        next_part: count > PART_PAGE ? PART_PAGE + 1 : null,
        expires_in: 300,
      });
    },
  };
  return { backend, registered, completed, pages, abandoned, restarted };
}

interface Sent {
  method: "POST" | "PUT";
  url: string;
  bytes: Uint8Array;
  fields?: Readonly<Record<string, string>>;
}

/**
 * A storage that records what it receives. `fail(url)` decides, per attempt, whether a transfer
 * fails (with which status); `gate` holds transfers until released, to observe concurrency.
 */
function fakeStorage(options: { fail?: (url: string, attempt: number) => number | null; gated?: boolean } = {}) {
  const received: Sent[] = [];
  const attemptsPerUrl = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const gates: (() => void)[] = [];

  async function transfer(
    method: "POST" | "PUT",
    url: string,
    body: Blob,
    onProgress: (loaded: number, total: number) => void,
    signal: AbortSignal,
    fields?: Readonly<Record<string, string>>,
  ): Promise<void> {
    // A form's body carries its fields and framing too: progress counts those bytes.
    const overhead = method === "POST" ? 300 : 0;
    const total = body.size + overhead;
    const attempt = (attemptsPerUrl.get(url) ?? 0) + 1;
    attemptsPerUrl.set(url, attempt);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (options.gated) {
        await new Promise<void>((resolve, reject) => {
          gates.push(resolve);
          signal.addEventListener("abort", () => {
            reject(new DOMException("aborted", "AbortError"));
          });
        });
      }
      signal.throwIfAborted();
      onProgress(Math.floor(total / 2), total);
      const status = options.fail?.(url, attempt) ?? null;
      if (status !== null) {
        throw new TransferError(status);
      }
      onProgress(total, total);
      received.push({ method, url, bytes: new Uint8Array(await body.arrayBuffer()), fields });
    } finally {
      inFlight -= 1;
    }
  }

  const transport: Transport = {
    post: (url, fields, blob, onProgress, signal) => transfer("POST", url, blob, onProgress, signal, fields),
    put: (url, blob, onProgress, signal) => transfer("PUT", url, blob, onProgress, signal),
  };
  return {
    transport,
    received,
    attemptsPerUrl,
    get maxInFlight() {
      return maxInFlight;
    },
    get waiting() {
      return gates.length;
    },
    releaseAll() {
      gates.splice(0).forEach((release) => {
        release();
      });
    },
  };
}

const noWait = () => Promise.resolve();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  expect(condition()).toBe(true);
}

describe("splitParts", () => {
  it("cuts a file into part-size ranges, the last one shorter", () => {
    const parts = splitParts(10 * MiB + 3, {
      method: "MULTIPART",
      part_size: 5 * MiB,
      parts: [3, 1, 2].map((n) => ({ part_number: n, url: `u${n}` })),
      expires_in: 300,
    });

    expect(parts.map((p) => [p.number, p.start, p.end, p.url])).toEqual([
      [1, 0, 5 * MiB, "u1"],
      [2, 5 * MiB, 10 * MiB, "u2"],
      [3, 10 * MiB, 10 * MiB + 3, "u3"],
    ]);
  });

  it("refuses instructions whose part count does not cover the file, or without the first URL", () => {
    const instructions = (numbers: number[], count?: number): UploadInstructions => ({
      method: "MULTIPART",
      part_size: 4,
      part_count: count ?? numbers.length,
      parts: numbers.map((n) => ({ part_number: n, url: `u${n}` })),
      expires_in: 300,
    });

    expect(() => splitParts(9, instructions([1, 2]))).toThrow("announce 2 parts for 3");
    expect(() => splitParts(9, instructions([2, 3], 3))).toThrow("part 1 is missing");
  });

  it("leaves the parts after the first page without a URL, to be fetched later", () => {
    const parts = splitParts(250 * 4, {
      method: "MULTIPART",
      part_size: 4,
      part_count: 250,
      parts: Array.from({ length: 100 }, (_, i) => ({ part_number: i + 1, url: `u${i + 1}` })),
      next_part: 101,
      expires_in: 300,
    });

    expect(parts).toHaveLength(250);
    expect(parts[99]?.url).toBe("u100");
    expect(parts.slice(100).every((p) => p.url === null)).toBe(true);
    expect(parts[249]).toMatchObject({ number: 250, start: 996, end: 1000 });
  });
});

describe("the upload manager", () => {
  it("sends a small file in one presigned POST with its form fields, then confirms it", async () => {
    // Given an API with a 1 MiB multipart threshold
    const { backend, registered, completed } = fakeBackend(MiB, MiB);
    const storage = fakeStorage();
    const uploaded = vi.fn();
    const manager = new UploadManager({ backend, transport: storage.transport, onUploaded: uploaded });

    // When a 1000-byte PDF is added
    const source = file("report.pdf", 1000);
    manager.add(DOSSIER, [source]);
    const done = await manager.settled();

    // Then it was declared with its name, type and size, posted whole with the fields, confirmed
    expect(registered).toEqual([{ filename: "report.pdf", content_type: "application/pdf", size_bytes: 1000 }]);
    expect(storage.received).toHaveLength(1);
    expect(storage.received[0]?.method).toBe("POST");
    expect(storage.received[0]?.fields?.["Content-Type"]).toBe("application/pdf");
    expect(storage.received[0]?.bytes).toEqual(new Uint8Array(await source.arrayBuffer()));
    expect(completed).toHaveLength(1);
    expect(done.items[0]).toMatchObject({ state: "done", method: "POST", loaded: 1000, size: 1000 });
    expect(uploaded).toHaveBeenCalledOnce();
  });

  it("declares a file with no type as application/octet-stream", async () => {
    const { backend, registered } = fakeBackend(MiB, MiB);
    const manager = new UploadManager({ backend, transport: fakeStorage().transport });

    manager.add(DOSSIER, [file("notes", 10, "")]);
    await manager.settled();

    expect(registered[0]?.content_type).toBe("application/octet-stream");
  });

  it("sends a large file in parts whose bytes put together are the file", async () => {
    // Given parts of 64 KiB and a file of 5 parts, the last one shorter
    const partSize = 64 * 1024;
    const { backend, completed } = fakeBackend(100, partSize);
    const storage = fakeStorage();
    const manager = new UploadManager({ backend, transport: storage.transport });
    const source = file("scan.tiff", 4 * partSize + 17, "image/tiff");

    // When it is uploaded
    manager.add(DOSSIER, [source]);
    const done = await manager.settled();

    // Then each part went to its own URL with its own range of bytes, and the upload was completed
    expect(storage.received.every((s) => s.method === "PUT")).toBe(true);
    const byPart = [...storage.received].sort((a, b) => a.url.localeCompare(b.url));
    expect(byPart.map((s) => s.bytes.length)).toEqual([partSize, partSize, partSize, partSize, 17]);
    const joined = new Uint8Array(byPart.reduce((n, s) => n + s.bytes.length, 0));
    let offset = 0;
    for (const sent of byPart) {
      joined.set(sent.bytes, offset);
      offset += sent.bytes.length;
    }
    expect(sameBytes(joined, new Uint8Array(await source.arrayBuffer()))).toBe(true);
    expect(completed).toHaveLength(1);
    expect(done.items[0]?.parts.map((p) => p.state)).toEqual(Array(5).fill("done"));
    expect(done.items[0]?.loaded).toBe(source.size);
  });

  it("keeps no more transfers in flight than its limit, over all files", async () => {
    // Given a storage that holds every transfer until released, and a limit of 3
    const { backend } = fakeBackend(10, 10);
    const storage = fakeStorage({ gated: true });
    const manager = new UploadManager({ backend, transport: storage.transport, maxTransfers: 3, maxFiles: 2 });

    // When two files of 10 parts each are added
    manager.add(DOSSIER, [file("a.bin", 100), file("b.bin", 100)]);

    // Then 3 transfers start, and no more while they are held
    await until(() => storage.waiting === 3);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(storage.waiting).toBe(3);
    // and released one wave after another, all 20 parts arrive, never more than 3 at once
    while (manager.getSnapshot().active) {
      storage.releaseAll();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(storage.received).toHaveLength(20);
    expect(storage.maxInFlight).toBe(3);
  });

  it("retries a failed part by itself, without sending the other parts again", async () => {
    // Given a storage where part 2 fails twice with 503 then succeeds
    const { backend, completed } = fakeBackend(10, 10);
    const storage = fakeStorage({ fail: (url, attempt) => (url.endsWith("partNumber=2") && attempt <= 2 ? 503 : null) });
    const delays: number[] = [];
    const manager = new UploadManager({
      backend,
      transport: storage.transport,
      maxAttempts: 3,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });

    // When a file of 4 parts is uploaded
    manager.add(DOSSIER, [file("a.bin", 40)]);
    const done = await manager.settled();

    // Then part 2 was sent three times, the others once, with growing waits, and the file is done
    expect([...storage.attemptsPerUrl.entries()].map(([url, n]) => [url.slice(-1), n]).sort()).toEqual([
      ["1", 1],
      ["2", 3],
      ["3", 1],
      ["4", 1],
    ]);
    expect(delays).toEqual([500, 1000]);
    expect(done.items[0]?.parts[1]?.attempts).toBe(3);
    expect(done.items[0]?.state).toBe("done");
    expect(completed).toHaveLength(1);
  });

  it("lets a file whose part keeps failing wait for the user, then sends only what is missing", async () => {
    // Given a storage where part 3 fails on its first three attempts
    const { backend, completed } = fakeBackend(10, 10);
    const storage = fakeStorage({ fail: (url, attempt) => (url.endsWith("partNumber=3") && attempt <= 3 ? 500 : null) });
    const manager = new UploadManager({ backend, transport: storage.transport, maxAttempts: 3, sleep: noWait });

    // When a file of 4 parts is uploaded
    const [id] = manager.add(DOSSIER, [file("a.bin", 40)]);
    const failed = await manager.settled();

    // Then it failed with parts 1, 2 and 4 kept, part 3 failed, nothing confirmed
    const item = failed.items[0];
    expect(item?.state).toBe("failed");
    expect(item?.error).toBeInstanceOf(TransferError);
    expect(item?.parts.map((p) => p.state)).toEqual(["done", "done", "failed", "done"]);
    expect(item?.loaded).toBe(30);
    expect(completed).toHaveLength(0);

    // When the user retries it
    manager.retry(id ?? "");
    const done = await manager.settled();

    // Then only part 3 was sent again, the file is done and was registered once
    expect(storage.received.map((s) => s.url.slice(-1)).sort()).toEqual(["1", "2", "3", "4"]);
    expect(storage.attemptsPerUrl.get(storage.received.find((s) => s.url.endsWith("3"))?.url ?? "")).toBe(4);
    expect(done.items[0]?.state).toBe("done");
    expect(done.items[0]?.loaded).toBe(40);
    expect(completed).toHaveLength(1);
  });

  it("does not retry a refused transfer (403: the URL expired or the size is wrong)", async () => {
    const { backend } = fakeBackend(MiB, MiB);
    const storage = fakeStorage({ fail: () => 403 });
    const manager = new UploadManager({ backend, transport: storage.transport, sleep: noWait });

    manager.add(DOSSIER, [file("a.pdf", 10)]);
    const done = await manager.settled();

    expect(storage.attemptsPerUrl.get("https://s3.test/bucket")).toBe(1);
    expect(done.items[0]?.state).toBe("failed");
    expect((done.items[0]?.error as TransferError).status).toBe(403);
  });

  it("fetches the part URLs after the first page once per page, as the parts come up", async () => {
    // Given a file of 250 parts: the registration gives the URLs of the first 100
    const { backend, pages, completed } = fakeBackend(10, 4);
    const storage = fakeStorage();
    const manager = new UploadManager({ backend, transport: storage.transport, maxTransfers: 4 });
    const source = file("many.bin", 250 * 4 - 1);

    // When it is uploaded
    manager.add(DOSSIER, [source]);
    const done = await manager.settled();

    // Then pages 101-200 and 201-250 were asked once each, every part was sent with its bytes
    const id = done.items[0]?.documentId ?? "";
    expect(pages).toEqual([
      [id, 101, PART_PAGE],
      [id, 201, PART_PAGE],
    ]);
    expect(storage.received).toHaveLength(250);
    const bytes = new Uint8Array(await source.arrayBuffer());
    for (const sent of storage.received) {
      const n = Number(new URL(sent.url).searchParams.get("partNumber"));
      expect(sameBytes(sent.bytes, bytes.slice((n - 1) * 4, n * 4))).toBe(true);
    }
    expect(done.items[0]?.state).toBe("done");
    expect(completed).toEqual([id]);
  });

  it("asks again for a part URL the storage refuses with 403 (expired), once", async () => {
    // Given a storage that refuses the first URL of part 2 (it expired)
    const { backend, pages, completed } = fakeBackend(10, 10);
    const storage = fakeStorage({ fail: (url) => (url.endsWith("partNumber=2") ? 403 : null) });
    const manager = new UploadManager({ backend, transport: storage.transport, sleep: noWait });

    // When a file of 3 parts is uploaded
    manager.add(DOSSIER, [file("a.bin", 30)]);
    const done = await manager.settled();

    // Then part 2's URL alone was signed again, the new one took the part, and the file is done
    const id = done.items[0]?.documentId ?? "";
    expect(pages).toEqual([[id, 2, 1]]);
    expect(storage.received.map((s) => s.url).sort()).toEqual([
      partUrl(id, 1),
      `${partUrl(id, 2)}&signed=1`,
      partUrl(id, 3),
    ]);
    expect(done.items[0]?.state).toBe("done");
    expect(completed).toEqual([id]);
  });

  it("gives up on a part whose fresh URL is refused too", async () => {
    const { backend, pages } = fakeBackend(10, 10);
    const storage = fakeStorage({ fail: (url) => (url.includes("partNumber=2") ? 403 : null) });
    const manager = new UploadManager({ backend, transport: storage.transport, sleep: noWait });

    manager.add(DOSSIER, [file("a.bin", 30)]);
    const done = await manager.settled();

    expect(pages).toHaveLength(1);
    expect(done.items[0]?.state).toBe("failed");
    expect((done.items[0]?.error as TransferError).status).toBe(403);
  });

  it("abandons the upload of a cancelled file, once, even when cancelled while registering", async () => {
    // Given a file on its way and one whose registration is held
    const { backend, abandoned } = fakeBackend(10, 10);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const register = backend.register.bind(backend);
    vi.spyOn(backend, "register")
      .mockImplementationOnce((...args) => register(...args))
      .mockImplementationOnce(async (...args) => {
        await held;
        return register(...args);
      });
    const storage = fakeStorage({ gated: true });
    const manager = new UploadManager({ backend, transport: storage.transport });
    const [sending, registering] = manager.add(DOSSIER, [file("a.bin", 30), file("b.bin", 30)]);
    await until(() => storage.waiting > 0);

    // When both are cancelled, and the held registration then answers
    manager.cancel(sending ?? "");
    manager.cancel(registering ?? "");
    release();
    await manager.settled();
    await until(() => abandoned.length === 2);

    // Then the API was told to abandon each upload once
    const ids = manager.getSnapshot().items.map((i) => i.documentId);
    expect([...abandoned].sort()).toEqual([...ids].sort());
    manager.cancel(sending ?? "");
    expect(abandoned).toHaveLength(2);
  });

  it("restarts an upload whose bytes the API discarded, and sends every part again", async () => {
    // Given an API that refuses the first confirmation with 409 (stored bytes discarded)
    const { backend, restarted, completed } = fakeBackend(10, 10);
    const complete = backend.complete.bind(backend);
    vi.spyOn(backend, "complete")
      .mockRejectedValueOnce(Object.assign(new Error("discarded"), { status: 409 }))
      .mockImplementation((...args) => complete(...args));
    const storage = fakeStorage();
    const manager = new UploadManager({ backend, transport: storage.transport });
    const [id] = manager.add(DOSSIER, [file("a.bin", 30)]);
    const failed = await manager.settled();
    expect(failed.items[0]).toMatchObject({ state: "failed", discarded: true });

    // When the user retries it
    manager.retry(id ?? "");
    const done = await manager.settled();

    // Then the upload was restarted once, all three parts went to the new URLs, and it is done
    const documentId = done.items[0]?.documentId ?? "";
    expect(restarted).toEqual([documentId]);
    expect(storage.received.filter((s) => s.url.endsWith("&again=1"))).toHaveLength(3);
    expect(storage.received).toHaveLength(6);
    expect(completed).toEqual([documentId]);
    expect(done.items[0]).toMatchObject({ state: "done", loaded: 30, discarded: false });
  });

  it("reports the progress of each file and of all of them", async () => {
    const { backend } = fakeBackend(10, 10);
    const storage = fakeStorage({ gated: true });
    const manager = new UploadManager({ backend, transport: storage.transport, maxTransfers: 2 });
    const seen: [number, number][] = [];
    manager.subscribe(() => {
      const s = manager.getSnapshot();
      seen.push([s.loaded, s.total]);
    });

    manager.add(DOSSIER, [file("a.bin", 30), file("b.bin", 5)]);
    await until(() => storage.waiting === 2);
    expect(manager.getSnapshot()).toMatchObject({ loaded: 0, total: 35, active: true });
    while (manager.getSnapshot().active) {
      storage.releaseAll();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }

    // Overall progress only grows, passes through halves of transfers, and ends at the total
    const loaded = seen.map(([l]) => l);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(loaded).toContain(5); // half of the first 10-byte part
    expect(seen.at(-1)).toEqual([35, 35]);
    expect(manager.getSnapshot().items.map((i) => [i.name, i.loaded, i.size])).toEqual([
      ["a.bin", 30, 30],
      ["b.bin", 5, 5],
    ]);
  });

  it("counts a form's progress against the whole body, so a file never shows more than its size", async () => {
    // Given a storage whose form bodies are 300 bytes larger than their file, held half-way
    const { backend } = fakeBackend(MiB, MiB);
    const storage = fakeStorage({ gated: true });
    const manager = new UploadManager({ backend, transport: storage.transport });
    const fractions: number[] = [];
    manager.subscribe(() => {
      const item = manager.getSnapshot().items[0];
      if (item) fractions.push(item.loaded / item.size);
    });

    // When a 100-byte file is posted
    manager.add(DOSSIER, [file("a.txt", 100, "text/plain")]);
    await until(() => storage.waiting === 1);
    storage.releaseAll();
    await manager.settled();

    // Then half the body is about half the file, and the file never passes 100 %
    expect(fractions.some((f) => f > 0.4 && f < 0.6)).toBe(true);
    expect(Math.max(...fractions)).toBe(1);
  });

  it("cancels a file: its transfers stop, it is not confirmed, and it leaves the overall total", async () => {
    const { backend, completed } = fakeBackend(10, 10);
    const storage = fakeStorage({ gated: true });
    const manager = new UploadManager({ backend, transport: storage.transport, maxTransfers: 4 });

    const [big] = manager.add(DOSSIER, [file("big.bin", 100)]);
    manager.add(DOSSIER, [file("small.bin", 5)]);
    await until(() => storage.waiting === 4);
    manager.cancel(big ?? "");
    while (manager.getSnapshot().active) {
      storage.releaseAll();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }

    const snapshot = manager.getSnapshot();
    expect(snapshot.items.map((i) => [i.name, i.state])).toEqual([
      ["big.bin", "cancelled"],
      ["small.bin", "done"],
    ]);
    expect(storage.received.filter((s) => s.url.includes("partNumber"))).toHaveLength(0);
    expect(completed).toHaveLength(1);
    expect(snapshot.total).toBe(5);
    manager.clearFinished();
    expect(manager.getSnapshot().items).toEqual([]);
  });

  it("reports a registration the API refuses, and registers again on retry", async () => {
    const { backend, registered } = fakeBackend(MiB, MiB);
    const refusal = new Error("archived");
    const register = vi.spyOn(backend, "register").mockRejectedValueOnce(refusal);
    const manager = new UploadManager({ backend, transport: fakeStorage().transport });

    const [id] = manager.add(DOSSIER, [file("a.pdf", 10)]);
    const failed = await manager.settled();
    expect(failed.items[0]).toMatchObject({ state: "failed", error: refusal, method: null });

    manager.retry(id ?? "");
    const done = await manager.settled();
    expect(register).toHaveBeenCalledTimes(2);
    expect(registered).toHaveLength(1);
    expect(done.items[0]?.state).toBe("done");
  });

  it("keeps the same snapshot object until something changes", async () => {
    const { backend } = fakeBackend(MiB, MiB);
    const manager = new UploadManager({ backend, transport: fakeStorage().transport });
    const first = manager.getSnapshot();
    expect(manager.getSnapshot()).toBe(first);

    manager.add(DOSSIER, [file("a.pdf", 10)]);
    expect(manager.getSnapshot()).not.toBe(first);
    await manager.settled();
    const settled = manager.getSnapshot();
    expect(manager.getSnapshot()).toBe(settled);
  });
});
