import { useEffect, useRef, type ReactNode } from "react";
import { useTranslation } from "react-i18next";

/**
 * Whether the user came here by a navigation inside the application: React Router numbers the
 * history entries it pushes (`idx`), the page's first entry being 0.
 */
function navigatedHere(): boolean {
  const state = window.history.state as { idx?: unknown } | null;
  return typeof state?.idx === "number" && state.idx > 0;
}

/**
 * The screen's one h1. It names the browser tab and, after a navigation inside the
 * application, takes the focus, so that a screen reader announces where a link led. The first
 * screen of a page load keeps the browser's own focus (the top, where the skip link is).
 */
export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = t("app.tabTitle", { page: title });
  }, [t, title]);
  useEffect(() => {
    if (navigatedHere()) {
      heading.current?.focus({ preventScroll: true });
    }
  }, []);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}
