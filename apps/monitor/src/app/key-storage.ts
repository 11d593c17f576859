/** The admin key lives in sessionStorage: it survives reloads of this tab, never other tabs or a browser restart. */
const slot = (apiUrl: string) => `conveyor.monitor.key:${apiUrl}`;

export function storedKey(apiUrl: string): string | null {
  try {
    return sessionStorage.getItem(slot(apiUrl));
  } catch {
    return null;
  }
}

export function storeKey(apiUrl: string, key: string | null): void {
  try {
    if (key) sessionStorage.setItem(slot(apiUrl), key);
    else sessionStorage.removeItem(slot(apiUrl));
  } catch {
    // Storage disabled (private mode policies): the key then lasts only as long as the page.
  }
}
