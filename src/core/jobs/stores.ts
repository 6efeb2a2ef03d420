// Opens the store a reference names, sharing one registry client (and its token cache) per host.
import { LazyImageError } from '../errors.js';
import { OciLayoutStore, formatReference, type ImageReference, type ImageStore } from '../oci/index.js';
import { RegistryClient, RegistryStore, type RegistryOptions } from '../registry/index.js';

export class Stores {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly registryOptions: RegistryOptions = {}) {}

  client(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (!client) {
      client = new RegistryClient(registry, this.registryOptions);
      this.clients.set(registry, client);
    }
    return client;
  }

  /** The store for a reference; `create` makes a missing OCI layout (for a copy's destination). */
  async open(ref: ImageReference, options: { create?: boolean } = {}): Promise<ImageStore> {
    if (ref.kind === 'registry') return new RegistryStore(this.client(ref.registry), ref.repository);
    try {
      return await OciLayoutStore.open(ref.path, options);
    } catch (e) {
      if (e instanceof LazyImageError) throw e;
      throw new LazyImageError('IO', `Cannot open ${formatReference(ref)}: ${(e as Error).message}`, { ref: formatReference(ref), cause: e });
    }
  }

  /** Drops a registry's client, with its cached credentials and tokens (after a log-in or log-out). */
  async forget(registry: string): Promise<void> {
    const client = this.clients.get(registry);
    this.clients.delete(registry);
    await client?.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
