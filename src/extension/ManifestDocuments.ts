// Read-only JSON documents of manifests and indexes, and of image configs (`lazyimg-manifest:`
// URIs), fetched when opened.
import * as vscode from 'vscode';
import { describeError } from '../core/errors.js';
import { readImageConfig, resolveImage } from '../core/image/index.js';
import { formatReference, type ImageReference } from '../core/oci/index.js';
import type { Services } from './Services.js';

export const MANIFEST_SCHEME = 'lazyimg-manifest';

/** The document for a reference; the title shows the reference, the query carries it. */
export function manifestUri(ref: ImageReference): vscode.Uri {
  const title = formatReference(ref).replace(/[\\?#]/g, '_');
  return vscode.Uri.from({ scheme: MANIFEST_SCHEME, path: `/${title}.json`, query: JSON.stringify(ref) });
}

/** The document of the config of the image a reference names (this machine's platform, from an index). */
export function configUri(ref: ImageReference): vscode.Uri {
  const title = `${formatReference(ref)} config`.replace(/[\\?#]/g, '_');
  return vscode.Uri.from({ scheme: MANIFEST_SCHEME, path: `/${title}.json`, query: JSON.stringify(ref), fragment: 'config' });
}

export class ManifestDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly services: Services) {}

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const ref = JSON.parse(uri.query) as ImageReference;
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    try {
      const store = await this.services.stores.open(ref);
      const signal = controller.signal;
      if (uri.fragment === 'config') {
        const { image } = await resolveImage(store, ref.digest ?? ref.tag, 'Cannot read the config of', { signal });
        this.services.log.info(`Inspect config of ${formatReference(ref)}: ${image.manifest.config.digest}`);
        return `${JSON.stringify(await readImageConfig(store, image.manifest.config, { signal }), null, 2)}\n`;
      }
      const doc = await store.getManifest(await store.resolve(ref.digest ?? ref.tag, { signal }), { signal });
      this.services.log.info(`Inspect manifest of ${formatReference(ref)}: ${doc.descriptor.digest}`);
      return `${JSON.stringify(JSON.parse(doc.bytes.toString('utf8')), null, 2)}\n`;
    } catch (e) {
      this.services.log.error(`Inspect manifest of ${formatReference(ref)}: ${describeError(e)}`);
      throw new Error(describeError(e));
    } finally {
      subscription.dispose();
    }
  }
}
