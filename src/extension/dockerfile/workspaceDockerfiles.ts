// The workspace's Dockerfiles, by the names builders look for. The files we keep beside one
// (`Dockerfile.prioritize`, `Dockerfile.startup.json`) match `Dockerfile.*` but are not Dockerfiles.
import * as vscode from 'vscode';

const NAMES = '**/{Dockerfile,Dockerfile.*,*.Dockerfile,*.dockerfile,Containerfile}';
const OURS = /\.(prioritize|startup\.json)$/;

export async function workspaceDockerfiles(limit = 50): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(NAMES, '**/{node_modules,.git}/**', limit);
  return found.filter((u) => !OURS.test(u.path)).sort((a, b) => a.path.localeCompare(b.path));
}
