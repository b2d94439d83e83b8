/**
 * The upload manager: sends files straight to S3 as the API's upload instructions say.
 *
 * Below the API's multipart threshold a file goes in one presigned POST; above it, in parts PUT
 * to presigned URLs, several at a time (bounded by one limit shared by every file), each part
 * retried on its own when it fails. A file whose part still fails after its attempts waits,
 * with its finished parts kept, until the user retries it: only the unfinished parts are sent
 * again. Progress is kept per part, per file and overall; a file can be cancelled at any time.
 *
 * It is plain TypeScript with its I/O passed in (the API and the byte transport), so the tests
 * drive it with fakes and the browser with XMLHttpRequest (see transport.ts).
 */
import type { components } from "../api/schema";

export type UploadInstructions = components["schemas"]["UploadInstructions"];
export type DocumentCreated = components["schemas"]["DocumentCreated"];

export interface FileDescription {
  filename: string;
  content_type: string;
  size_bytes: number;
}

/** What the manager needs from the API. */
export interface UploadBackend {
  register(dossierId: string, file: FileDescription, signal: AbortSignal): Promise<DocumentCreated>;
  /** Confirm the upload (the API completes a multipart upload and checks the stored size). */
  complete(documentId: string, signal: AbortSignal): Promise<void>;
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
  url: string;
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
}

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

/** The byte ranges of a multipart upload, checked against what the API announced. */
export function splitParts(size: number, instructions: UploadInstructions): Part[] {
  const partSize = instructions.part_size ?? 0;
  const announced = instructions.parts ?? [];
  const count = Math.max(1, Math.ceil(size / Math.max(partSize, 1)));
  if (partSize <= 0 || announced.length !== count) {
    throw new Error(`the upload instructions announce ${announced.length} parts for ${count}`);
  }
  return [...announced]
    .sort((a, b) => a.part_number - b.part_number)
    .map((part, index): Part => {
      if (part.part_number !== index + 1) {
        throw new Error(`part ${index + 1} is missing from the upload instructions`);
      }
      const start = index * partSize;
      return {
        number: part.part_number,
        start,
        end: Math.min(start + partSize, size),
        url: part.url,
        loaded: 0,
        state: "waiting",
        attempts: 0,
      };
    });
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
      };
      this.tasks.set(task.id, task);
      this.changed();
      void this.files.run(() => this.send(task));
      return task.id;
    });
  }

  /** Stop a file: transfers in flight are aborted. */
  cancel(id: string): void {
    const task = this.tasks.get(id);
    if (!task || task.state === "done" || task.state === "cancelled") {
      return;
    }
    task.controller.abort(new DOMException("cancelled", "AbortError"));
    task.state = "cancelled";
    this.changed();
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
      if (part.state !== "done") {
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
      }
      task.state = "uploading";
      this.changed();
      if (task.method === "MULTIPART") {
        await this.sendParts(task, signal);
      } else {
        await this.sendForm(task, task.created.upload, signal);
      }
      task.state = "completing";
      this.changed();
      await this.options.backend.complete(task.created.document.id, signal);
      task.state = "done";
      this.changed();
      this.options.onUploaded?.(this.itemOf(task));
    } catch (error) {
      if (signal.aborted || isAbort(error)) {
        return; // cancelled: the state says so already
      }
      task.error = error;
      task.state = "failed";
      this.changed();
    }
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
    try {
      await this.attempts(signal, (attempt) =>
        this.transfers.run(async () => {
          signal.throwIfAborted();
          part.state = "sending";
          part.attempts = attempt;
          part.loaded = 0;
          this.changed();
          await this.options.transport.put(
            part.url,
            body,
            (loaded, total) => {
              part.loaded = share(body.size, loaded, total);
              this.changed();
            },
            signal,
          );
        }),
      );
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
