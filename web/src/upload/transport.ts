/**
 * Bytes to S3 from the browser with XMLHttpRequest: the one browser API that reports upload
 * progress (fetch does not). The presigned URLs carry their own authorisation: no token is sent.
 */
import { TransferError, type ProgressListener, type Transport } from "./manager";

function send(
  method: "POST" | "PUT",
  url: string,
  body: Blob | FormData,
  onProgress: ProgressListener,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const xhr = new XMLHttpRequest();
    const abort = () => {
      xhr.abort();
    };
    xhr.open(method, url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        onProgress(event.loaded, event.total);
      }
    });
    xhr.addEventListener("load", () => {
      signal.removeEventListener("abort", abort);
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve();
      } else {
        reject(new TransferError(xhr.status, `storage answered HTTP ${xhr.status}: ${xhr.responseText.slice(0, 200)}`));
      }
    });
    xhr.addEventListener("error", () => {
      signal.removeEventListener("abort", abort);
      reject(new TransferError(0));
    });
    xhr.addEventListener("timeout", () => {
      signal.removeEventListener("abort", abort);
      reject(new TransferError(0, "the storage did not answer in time"));
    });
    xhr.addEventListener("abort", () => {
      reject(signal.reason as Error);
    });
    signal.addEventListener("abort", abort, { once: true });
    xhr.send(body);
  });
}

export const xhrTransport: Transport = {
  post(url, fields, file, onProgress, signal) {
    // S3 reads the form fields first, and the file must be the last one.
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      form.append(name, value);
    }
    form.append("file", file);
    return send("POST", url, form, onProgress, signal);
  },
  put(url, body, onProgress, signal) {
    return send("PUT", url, body, onProgress, signal);
  },
};
