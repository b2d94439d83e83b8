/** The upload manager's state in React, redrawn at most once per frame while bytes move. */
import { useMemo, useSyncExternalStore } from "react";

import { useServices } from "../services";
import type { UploadManager, UploadSnapshot } from "./manager";

function perFrame(manager: UploadManager) {
  return (listener: () => void) => {
    let frame: number | null = null;
    const stop = manager.subscribe(() => {
      frame ??= requestAnimationFrame(() => {
        frame = null;
        listener();
      });
    });
    return () => {
      stop();
      if (frame !== null) {
        cancelAnimationFrame(frame);
      }
    };
  };
}

export function useUploads(): { manager: UploadManager; snapshot: UploadSnapshot } {
  const { uploads } = useServices();
  const subscribe = useMemo(() => perFrame(uploads), [uploads]);
  const snapshot = useSyncExternalStore(subscribe, uploads.getSnapshot);
  return { manager: uploads, snapshot };
}
