import { Component, type ReactNode } from "react";

import { RouteError } from "./RouteError";

/** A screen that failed to load or draw (for instance a chunk of an older deployment). */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error };
  }

  override render(): ReactNode {
    return this.state.error === null ? this.props.children : <RouteError error={this.state.error} />;
  }
}
