// The theme's colours for what CSS cannot colour itself (a chart's canvas), and a signal when the
// user switches theme: VS Code changes the body's class and its --vscode-* variables.

/** A `--vscode-*` (or our own) variable's current value, or `fallback`. */
export function themeColor(variable: string, fallback = ''): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

/** Calls `changed` after each theme switch; the returned function stops it. */
export function onThemeChange(changed: () => void): () => void {
  const observer = new MutationObserver(changed);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  return () => observer.disconnect();
}
