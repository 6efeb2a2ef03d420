// Commands that run on the worker: Copy Image To..., Verify Image.
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { CopyResult, RegistryCredential, VerifyResult } from '../../worker/protocol.js';
import type { JobManager } from '../jobs/JobManager.js';
import type { Services } from '../Services.js';
import type { Node } from '../tree/nodes.js';
import { askReference } from './prompts.js';

/** The credentials a job needs, for the registries it touches; they go in the request only. */
async function credentialsFor(services: Services, refs: ImageReference[]): Promise<RegistryCredential[]> {
  const registries = [...new Set(refs.flatMap((r) => (r.kind === 'registry' ? [r.registry] : [])))];
  const found = await Promise.all(registries.map(async (registry): Promise<RegistryCredential | undefined> => {
    const c = await services.credentialProvider(registry);
    if (!c) return undefined;
    if (c.kind === 'basic') return { registry, username: c.username, password: c.password };
    return c.kind === 'identity-token' ? { registry, identityToken: c.token } : { registry, registryToken: c.token };
  }));
  return found.filter((c): c is RegistryCredential => c !== undefined);
}

/** `app:v1` for `registry.example/org/app:v1` or `oci:/some/dir/app:v1`. */
function shortName(ref: ImageReference): string {
  const name = (ref.kind === 'registry' ? ref.repository : ref.path).split('/').filter(Boolean).at(-1) ?? '';
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined && ref.tag === undefined ? `@${ref.digest.slice(7, 19)}` : ''}`;
}

function imageRef(node: Node | undefined): ImageReference | undefined {
  return node?.kind === 'image' || node?.kind === 'platform' ? node.ref : undefined;
}

export function jobCommands(services: Services, jobs: JobManager) {
  const common = async (refs: ImageReference[]): Promise<object> => ({
    credentials: await credentialsFor(services, refs),
    insecureRegistries: services.settings.insecureRegistries(),
  });

  return {
    async copyImage(node?: Node): Promise<void> {
      const source = imageRef(node);
      if (!source) return;
      const destination = await askReference(`Copy ${formatReference(source)}`, 'Destination: a registry repository, or an OCI layout folder (created if missing)');
      if (!destination) return;
      const names = { title: `Copy ${formatReference(source)} to ${formatReference(destination)}`, label: `Copy ${shortName(source)} → ${shortName(destination)}` };
      await jobs.run<CopyResult>('copy', names, {
        source: formatReference(source),
        destination: formatReference(destination),
        ...(await common([source, destination])),
      }, (r) => `${r.descriptor.digest}: ${r.blobs.uploaded} blobs copied (${formatBytes(r.bytesUploaded)}), ${r.blobs.existed} already there, ${r.blobs.mounted} mounted`);
    },

    async verifyImage(node?: Node): Promise<void> {
      const ref = imageRef(node);
      if (!ref) return;
      const result = await jobs.run<VerifyResult>('verify', { title: `Verify ${formatReference(ref)}`, label: `Verify ${shortName(ref)}` }, { reference: formatReference(ref), ...(await common([ref])) },
        (r) => `${r.ok ? 'valid' : 'INVALID'}: ${r.blobs} blobs, ${formatBytes(r.bytes)} read${r.problems.length ? `; ${r.problems.length} problem(s)` : ''}`);
      if (!result) return;
      if (result.ok) void vscode.window.showInformationMessage(`${formatReference(ref)} is valid: ${result.blobs} blobs, ${formatBytes(result.bytes)}, every digest and size checked.`);
      else void vscode.window.showErrorMessage(`${formatReference(ref)} failed verification: ${result.problems.map((p) => p.message).join('; ')}`);
    },
  };
}
