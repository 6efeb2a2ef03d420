// Read-only JSON documents of manifests and indexes (`lazyimg-manifest:` URIs), fetched when opened.
import * as vscode from 'vscode';
import { describeError } from '../core/errors.js';
import { formatReference, type ImageReference } from '../core/oci/index.js';
import type { Services } from './Services.js';

export const MANIFEST_SCHEME = 'lazyimg-manifest';

/** The document for a reference; the title shows the reference, the query carries it. */
export function manifestUri(ref: ImageReference): vscode.Uri {
  const title = formatReference(ref).replace(/[\\?#]/g, '_');
  return vscode.Uri.from({ scheme: MANIFEST_SCHEME, path: `/${title}.json`, query: JSON.stringify(ref) });
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
