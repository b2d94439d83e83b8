/**
 * Whether the session has ended under the user's feet (a 401 from the API, or a renewal that
 * failed). The screens stay as they are; a dialog offers to sign in again in a popup, which
 * keeps every form's content, then the user sends again.
 */
export class SessionState {
  private expired = false;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  isExpired = (): boolean => this.expired;

  markExpired(): void {
    this.set(true);
  }

  markRenewed(): void {
    this.set(false);
  }

  private set(value: boolean): void {
    if (this.expired !== value) {
      this.expired = value;
      this.listeners.forEach((listener) => {
        listener();
      });
    }
  }
}
