// What every worker job request carries besides its own params, and the short names jobs go by.
import * as vscode from 'vscode';
import type { ImageReference } from '../../core/oci/index.js';
import type { RegistryCredential } from '../../worker/protocol.js';
import type { JobSpec } from '../jobs/JobManager.js';
import type { Services } from '../Services.js';

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

/** Credentials and insecure registries for a job on these images. */
export async function jobParams(services: Services, refs: ImageReference[]): Promise<{ credentials: RegistryCredential[]; insecureRegistries: string[] }> {
  return { credentials: await credentialsFor(services, refs), insecureRegistries: services.settings.insecureRegistries() };
}

/** `app:v1` for `registry.example/org/app:v1` or `oci:/some/dir/app:v1`. */
export function shortName(ref: ImageReference): string {
  const name = (ref.kind === 'registry' ? ref.repository : ref.path).split('/').filter(Boolean).at(-1) ?? '';
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined && ref.tag === undefined ? `@${ref.digest.slice(7, 19)}` : ''}`;
}

/** Where an image lives, in a few words: its registry, or its layout folder (workspace-relative). */
export function storeName(ref: ImageReference): string {
  return ref.kind === 'registry' ? ref.registry : vscode.workspace.asRelativePath(ref.path);
}

/**
 * A job's names: `<verb> app:v1 → v1-esgz` (the destination's name alone when it sits beside the
 * source), the source's store, and the full title.
 */
export function jobSpec(verb: string, title: string, source: ImageReference, destination?: ImageReference): JobSpec {
  const beside = destination && storeName(destination) === storeName(source) && shortName(destination).split(':')[0] === shortName(source).split(':')[0];
  const to = destination ? ` → ${beside && destination.tag ? destination.tag : shortName(destination)}` : '';
  return { title, label: `${verb} ${shortName(source)}${to}`, where: storeName(source), source, destination, reveals: destination };
}
