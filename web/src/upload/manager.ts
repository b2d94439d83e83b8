/**
 * The upload manager: sends files straight to S3 as the API's upload instructions say.
 *
 * Below the API's multipart threshold a file goes in one presigned POST; above it, in parts PUT
 * to presigned URLs, several at a time (bounded by one limit shared by every file), each part
 * retried on its own when it fails. A file whose part still fails after its attempts waits,
 * with its finished parts kept, until the user retries it: only the unfinished parts are sent
 * again. Progress is kept per part, per file and overall; a file can be cancelled at any time,
 * and the API is then told to abandon its upload (the parts already stored are removed).
 *
 * The API hands out part URLs in pages (the first with the registration): the URLs of later
 * parts are fetched a page at a time as the parts come up, and a part whose URL the storage
 * refuses with 403 (it expired, e.g. while the file waited for a retry) gets a fresh one once.
 * Each URL signs its part's exact length, so the parts are cut exactly as the API says.
 * When the confirmation is refused with 409 (the API found the stored bytes wrong and removed
 * them), retrying the file restarts its upload: new instructions, every byte sent again.
 *
 * It is plain TypeScript with its I/O passed in (the API and the byte transport), so the tests
 * drive it with fakes and the browser with XMLHttpRequest (see transport.ts).
 */
import type { components } from "../api/schema";

export type UploadInstructions = components["schemas"]["UploadInstructions"];
export type DocumentCreated = components["schemas"]["DocumentCreated"];
export type PartPage = components["schemas"]["PartPageOut"];

export interface FileDescription {
  filename: string;
  content_type: string;
  size_bytes: number;
}

/** What the manager needs from the API. */
export interface UploadBackend {
  register(dossierId: string, file: FileDescription, signal: AbortSignal): Promise<DocumentCreated>;
  /** URLs of parts `from` to `from + limit - 1` of a multipart upload (signed anew each time). */
  partUrls(documentId: string, from: number, limit: number, signal: AbortSignal): Promise<PartPage>;
  /** Confirm the upload (the API completes a multipart upload and checks the stored size). */
  complete(documentId: string, signal: AbortSignal): Promise<void>;
  /** Give the upload up: the document expires and the stored parts are removed. */
  abandon(documentId: string): Promise<void>;
  /** Start the upload again (after `complete` discarded the stored bytes): new instructions. */
  restart(documentId: string, signal: AbortSignal): Promise<UploadInstructions>;
}

/**
 * Reports bytes of the request body sent so far, out of the body's total; a form's body is
 * larger than its file (the fields and the multipart framing).
 */
export type ProgressListener = (loaded: number, total: number) => void;

/** What the manager needs to move bytes: a form POST and a PUT. */
export interface Transport {
  post(
    url: string,
    fields: Readonly<Record<string, string>>,
    file: Blob,
    onProgress: ProgressListener,
    signal: AbortSignal,
  ): Promise<void>;
  put(url: string, body: Blob, onProgress: ProgressListener, signal: AbortSignal): Promise<void>;
}

/** The share of `size` bytes that a body's progress stands for, never more than `size`. */
function share(size: number, loaded: number, total: number): number {
  if (total <= 0) {
    return 0;
  }
  return Math.min(size, Math.floor((size * Math.min(loaded, total)) / total));
}

/** A failed transfer: `status` 0 when there was no answer. */
export class TransferError extends Error {
  override readonly name = "TransferError";
  constructor(
    readonly status: number,
    message?: string,
  ) {
    super(message ?? (status === 0 ? "no answer from the storage" : `storage answered HTTP ${status}`));
  }

  /** Worth another attempt: no answer, a server error, a timeout or throttling. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export type FileState = "queued" | "registering" | "uploading" | "completing" | "done" | "failed" | "cancelled";
export type PartState = "waiting" | "sending" | "done" | "failed";

export interface PartProgress {
  readonly number: number;
  readonly size: number;
  readonly loaded: number;
  readonly state: PartState;
  readonly attempts: number;
}

export interface UploadItem {
  readonly id: string;
  readonly dossierId: string;
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
  readonly state: FileState;
  readonly loaded: number;
  readonly method: "POST" | "MULTIPART" | null;
  readonly parts: readonly PartProgress[];
  readonly documentId: string | null;
  readonly error: unknown;
  /** The API refused the confirmation and discarded what was stored: a retry sends it all again. */
  readonly discarded: boolean;
}

export interface UploadSnapshot {
  readonly items: readonly UploadItem[];
  /** Bytes sent and to send over every file that is not cancelled. */
  readonly loaded: number;
  readonly total: number;
  /** Some file is queued or on its way. */
  readonly active: boolean;
}

export interface UploadManagerOptions {
  backend: UploadBackend;
  transport: Transport;
  /** Transfers (POSTs and parts) in flight at once, over all files. */
  maxTransfers?: number;
  /** Files registered and sent at once. */
  maxFiles?: number;
  /** Attempts per transfer before its file waits for the user. */
  maxAttempts?: number;
  /** Wait before attempt n+1 (n counts from 1). */
  retryDelay?: (attempt: number) => number;
  sleep?: (milliseconds: number, signal: AbortSignal) => Promise<void>;
  /** Called once per file when the API has registered it (the document exists, pending). */
  onRegistered?: (item: UploadItem) => void;
  /** Called once per file when the API has confirmed it. */
  onUploaded?: (item: UploadItem) => void;
}

interface Part {
  number: number;
  start: number;
  end: number;
  /** null until its page of URLs is fetched, or after the storage refused it as expired. */
  url: string | null;
  loaded: number;
  state: PartState;
  attempts: number;
}

interface Task {
  id: string;
  dossierId: string;
  file: Blob;
  name: string;
  contentType: string;
  state: FileState;
  method: "POST" | "MULTIPART" | null;
  created: DocumentCreated | null;
  parts: Part[];
  postLoaded: number;
  error: unknown;
  controller: AbortController;
  /** Pages of part URLs being fetched, by their first part number. */
  pages: Map<number, Promise<void>>;
  abandoned: boolean;
  /** The API discarded what was sent: the next attempt restarts the upload. */
  discarded: boolean;
}

/** Part URLs the API gives per page (and the most the manager asks for at once). */
export const PART_PAGE = 100;

const defaultSleep = (milliseconds: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, milliseconds);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/** A counting semaphore: at most `limit` holders at once, served in arrival order. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) {
        next(); // the slot passes straight to the next holder
      } else {
        this.active -= 1;
      }
    }
  }
}

/**
 * The byte ranges of a multipart upload, checked against what the API announced: `part_count`
 * parts of `part_size` bytes (the last one the remainder), the URLs of the first page.
 */
export function splitParts(size: number, instructions: UploadInstructions): Part[] {
  const partSize = instructions.part_size ?? 0;
  const announced = instructions.parts ?? [];
  const count = Math.max(1, Math.ceil(size / Math.max(partSize, 1)));
  const declared = instructions.part_count ?? announced.length;
  if (partSize <= 0 || declared !== count || announced.length > count) {
    throw new Error(`the upload instructions announce ${declared} parts for ${count}`);
  }
  const urls = new Map(announced.map((part) => [part.part_number, part.url]));
  if (!urls.has(1)) {
    throw new Error("part 1 is missing from the upload instructions");
  }
  return Array.from({ length: count }, (_, index): Part => {
    const start = index * partSize;
    return {
      number: index + 1,
      start,
      end: Math.min(start + partSize, size),
      url: urls.get(index + 1) ?? null,
      loaded: 0,
      state: "waiting",
      attempts: 0,
    };
  });
}

/** The URL a part was given (read after the request that was to give it). */
function givenUrl(part: Part): string {
  if (part.url === null) {
    throw new Error(`the API gave no URL for part ${part.number}`);
  }
  return part.url;
}

/** The HTTP status an error carries (the API client's errors do), if any. */
function statusOf(error: unknown): number | null {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") {
    return error.status;
  }
  return null;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

let sequence = 0;

export class UploadManager {
  private readonly tasks = new Map<string, Task>();
  private readonly listeners = new Set<() => void>();
  private readonly transfers: Limiter;
  private readonly files: Limiter;
  private readonly maxAttempts: number;
  private readonly retryDelay: (attempt: number) => number;
  private readonly sleep: (milliseconds: number, signal: AbortSignal) => Promise<void>;
  private snapshot: UploadSnapshot | null = null;

  constructor(private readonly options: UploadManagerOptions) {
    this.transfers = new Limiter(options.maxTransfers ?? 4);
    this.files = new Limiter(options.maxFiles ?? 3);
    this.maxAttempts = options.maxAttempts ?? 3;
    this.retryDelay = options.retryDelay ?? ((attempt) => 500 * 2 ** (attempt - 1));
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Queue files for a dossier; they start as soon as a slot is free. Returns their ids. */
  add(dossierId: string, files: readonly File[]): string[] {
    return files.map((file) => {
      sequence += 1;
      const task: Task = {
        id: `upload-${sequence}`,
        dossierId,
        file,
        name: file.name,
        contentType: file.type || "application/octet-stream",
        state: "queued",
        method: null,
        created: null,
        parts: [],
        postLoaded: 0,
        error: null,
        controller: new AbortController(),
        pages: new Map(),
        abandoned: false,
        discarded: false,
      };
      this.tasks.set(task.id, task);
      this.changed();
      void this.files.run(() => this.send(task));
      return task.id;
    });
  }

  /**
   * Stop a file: transfers in flight are aborted and, once the API has registered it, its upload
   * is abandoned (a file cancelled while it registers is abandoned as soon as it is registered).
   */
  cancel(id: string): void {
    const task = this.tasks.get(id);
    if (!task || task.state === "done" || task.state === "cancelled") {
      return;
    }
    task.controller.abort(new DOMException("cancelled", "AbortError"));
    task.state = "cancelled";
    this.changed();
    this.abandon(task);
  }

  /** Tell the API, once, that a cancelled file's upload is given up. Best effort: what is left
   * behind (the API unreachable) is expired by the API after a while anyway. */
  private abandon(task: Task): void {
    if (task.state !== "cancelled" || task.created === null || task.abandoned) {
      return;
    }
    task.abandoned = true;
    this.options.backend.abandon(task.created.document.id).catch(() => undefined);
  }

  /** Try a failed file again: a registered file keeps its finished parts and sends the rest. */
  retry(id: string): void {
    const task = this.tasks.get(id);
    if (task?.state !== "failed") {
      return;
    }
    task.controller = new AbortController();
    task.error = null;
    task.state = "queued";
    for (const part of task.parts) {
      if (part.state !== "done" || task.discarded) {
        part.state = "waiting";
        part.attempts = 0;
        part.loaded = 0;
      }
    }
    this.changed();
    void this.files.run(() => this.send(task));
  }

  /** Forget the files that are finished or cancelled. */
  clearFinished(): void {
    for (const [id, task] of this.tasks) {
      if (task.state === "done" || task.state === "cancelled") {
        this.tasks.delete(id);
      }
    }
    this.changed();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** An immutable view, the same object until something changes (for useSyncExternalStore). */
  getSnapshot = (): UploadSnapshot => {
    this.snapshot ??= this.takeSnapshot();
    return this.snapshot;
  };

  /** Resolves when no file is queued or on its way. */
  async settled(): Promise<UploadSnapshot> {
    while (this.getSnapshot().active) {
      await new Promise<void>((resolve) => {
        const stop = this.subscribe(() => {
          stop();
          resolve();
        });
      });
    }
    return this.getSnapshot();
  }

  private changed(): void {
    this.snapshot = null;
    for (const listener of [...this.listeners]) {
      listener();
    }
  }

  private takeSnapshot(): UploadSnapshot {
    const items = [...this.tasks.values()].map((task) => this.itemOf(task));
    const counted = items.filter((item) => item.state !== "cancelled");
    return {
      items,
      loaded: counted.reduce((sum, item) => sum + item.loaded, 0),
      total: counted.reduce((sum, item) => sum + item.size, 0),
      active: items.some((item) => ["queued", "registering", "uploading", "completing"].includes(item.state)),
    };
  }

  private itemOf(task: Task): UploadItem {
    const loaded =
      task.state === "done"
        ? task.file.size
        : task.method === "MULTIPART"
          ? task.parts.reduce((sum, part) => sum + part.loaded, 0)
          : task.postLoaded;
    return {
      id: task.id,
      dossierId: task.dossierId,
      name: task.name,
      size: task.file.size,
      contentType: task.contentType,
      state: task.state,
      loaded,
      method: task.method,
      parts: task.parts.map((p) => ({
        number: p.number,
        size: p.end - p.start,
        loaded: p.loaded,
        state: p.state,
        attempts: p.attempts,
      })),
      documentId: task.created?.document.id ?? null,
      error: task.error,
      discarded: task.discarded,
    };
  }

  private async send(task: Task): Promise<void> {
    const { signal } = task.controller;
    try {
      signal.throwIfAborted();
      if (task.created === null) {
        task.state = "registering";
        this.changed();
        task.created = await this.options.backend.register(
          task.dossierId,
          { filename: task.name, content_type: task.contentType, size_bytes: task.file.size },
          signal,
        );
        task.method = task.created.upload.method;
        if (task.method === "MULTIPART") {
          task.parts = splitParts(task.file.size, task.created.upload);
        }
        this.options.onRegistered?.(this.itemOf(task));
      } else if (task.discarded) {
        await this.restart(task, task.created, signal);
      }
      signal.throwIfAborted(); // cancelled while it registered: stays cancelled
      task.state = "uploading";
      this.changed();
      if (task.method === "MULTIPART") {
        await this.sendParts(task, signal);
      } else {
        await this.sendForm(task, task.created.upload, signal);
      }
      task.state = "completing";
      this.changed();
      try {
        await this.options.backend.complete(task.created.document.id, signal);
      } catch (error) {
        task.discarded = statusOf(error) === 409;
        throw error;
      }
      task.state = "done";
      this.changed();
      this.options.onUploaded?.(this.itemOf(task));
    } catch (error) {
      if (signal.aborted || isAbort(error)) {
        this.abandon(task); // cancelled: the state says so already
        return;
      }
      task.error = error;
      task.state = "failed";
      this.changed();
    }
  }

  /** New instructions for a registered file whose stored bytes the API discarded. */
  private async restart(task: Task, created: DocumentCreated, signal: AbortSignal): Promise<void> {
    task.state = "registering";
    this.changed();
    const upload = await this.options.backend.restart(created.document.id, signal);
    task.created = { ...created, upload };
    task.method = upload.method;
    task.parts = upload.method === "MULTIPART" ? splitParts(task.file.size, upload) : [];
    task.pages.clear();
    task.postLoaded = 0;
    task.discarded = false;
  }

  private async sendForm(task: Task, upload: UploadInstructions, signal: AbortSignal): Promise<void> {
    if (!upload.url || !upload.fields) {
      throw new Error("the upload instructions have no form");
    }
    const { url, fields } = upload;
    await this.attempts(signal, (attempt) => {
      task.postLoaded = 0;
      if (attempt > 1) {
        this.changed();
      }
      return this.transfers.run(() =>
        this.options.transport.post(
          url,
          fields,
          task.file,
          (loaded, total) => {
            task.postLoaded = share(task.file.size, loaded, total);
            this.changed();
          },
          signal,
        ),
      );
    });
    task.postLoaded = task.file.size;
  }

  private async sendParts(task: Task, signal: AbortSignal): Promise<void> {
    const pending = task.parts.filter((part) => part.state !== "done");
    const results = await Promise.allSettled(pending.map((part) => this.sendPart(task, part, signal)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) {
      throw failure.reason;
    }
  }

  private async sendPart(task: Task, part: Part, signal: AbortSignal): Promise<void> {
    const body = task.file.slice(part.start, part.end);
    let renewed = false;
    // The URL is taken (or fetched) when the part's turn comes, so that pages are fetched as the
    // parts come up, not all at the start while their URLs would age.
    const put = (attempt: number) =>
      this.transfers.run(async () => {
        signal.throwIfAborted();
        const url = await this.urlOf(task, part, signal);
        part.state = "sending";
        part.attempts = attempt;
        part.loaded = 0;
        this.changed();
        await this.options.transport.put(
          url,
          body,
          (loaded, total) => {
            part.loaded = share(body.size, loaded, total);
            this.changed();
          },
          signal,
        );
      });
    try {
      await this.attempts(signal, async (attempt) => {
        try {
          await put(attempt);
        } catch (error) {
          // 403: the URL expired (or its signature no longer holds): sign it again, once.
          if (!(error instanceof TransferError && error.status === 403) || renewed) {
            throw error;
          }
          renewed = true;
          part.url = null;
          await put(attempt);
        }
      });
    } catch (error) {
      part.loaded = 0;
      part.state = "failed";
      this.changed();
      throw error;
    }
    part.loaded = body.size;
    part.state = "done";
    this.changed();
  }

  /**
   * The part's URL; fetched when it has none: the page it belongs to when its URL was never
   * given, itself alone when it was refused. Parts of one page share one request.
   */
  private async urlOf(task: Task, part: Part, signal: AbortSignal): Promise<string> {
    if (part.url !== null) {
      return part.url;
    }
    const documentId = task.created?.document.id;
    if (!documentId) {
      throw new Error("the file is not registered");
    }
    const neverGiven = part.attempts === 0; // else it was given, and refused
    const from = neverGiven ? Math.floor((part.number - 1) / PART_PAGE) * PART_PAGE + 1 : part.number;
    const limit = neverGiven ? PART_PAGE : 1;
    const key = neverGiven ? from : -part.number;
    let request = task.pages.get(key);
    if (!request) {
      request = this.options.backend.partUrls(documentId, from, limit, signal).then((page) => {
        for (const given of page.parts) {
          const target = task.parts[given.part_number - 1];
          if (target?.number === given.part_number && target.state !== "done") {
            target.url = given.url;
          }
        }
      });
      task.pages.set(key, request);
      request.then(
        () => task.pages.delete(key),
        () => task.pages.delete(key),
      );
    }
    await request;
    return givenUrl(part);
  }

  /** Run one transfer up to maxAttempts times while its failures are worth retrying. */
  private async attempts(signal: AbortSignal, attempt: (n: number) => Promise<void>): Promise<void> {
    for (let n = 1; ; n += 1) {
      try {
        await attempt(n);
        return;
      } catch (error) {
        const retryable = error instanceof TransferError && error.retryable;
        if (signal.aborted || !retryable || n >= this.maxAttempts) {
          throw error;
        }
        await this.sleep(this.retryDelay(n), signal);
      }
    }
  }
}
