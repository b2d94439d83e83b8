import { useEffect, useRef, type ReactNode } from "react";
import { useTranslation } from "react-i18next";

// The first screen of a page load keeps the browser's own focus (the top of the page, where
// the skip link is); every screen after it takes the focus on its heading.
let firstScreen = true;

/**
 * The screen's one h1. It names the browser tab and, after a navigation inside the
 * application, takes the focus, so that a screen reader announces where a link led.
 */
export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = t("app.tabTitle", { page: title });
  }, [t, title]);
  useEffect(() => {
    if (firstScreen) {
      firstScreen = false;
      return;
    }
    heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}
