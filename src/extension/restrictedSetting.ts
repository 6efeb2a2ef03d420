// Settings that run programs or weaken security (the worker command, insecure registries, layout
// folders to read) are declared in `restrictedConfigurations`, so VS Code ignores a workspace's
// value in Restricted Mode. This reads them the same way, so nothing depends on that alone: a
// cloned repository's `.vscode/settings.json` counts only once its workspace is trusted.
import * as vscode from 'vscode';

/** Where a setting's value comes from. */
export type SettingSource = 'workspace' | 'user' | 'default';

export function restrictedSetting<T>(section: string, key: string, fallback: T): { value: T; source: SettingSource } {
  const inspected = vscode.workspace.getConfiguration(section).inspect<T>(key);
  if (vscode.workspace.isTrusted && inspected?.workspaceValue !== undefined) return { value: inspected.workspaceValue, source: 'workspace' };
  if (inspected?.globalValue !== undefined) return { value: inspected.globalValue, source: 'user' };
  return { value: inspected?.defaultValue ?? fallback, source: 'default' };
}
