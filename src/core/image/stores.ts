// The one way to the images a reference names: a registry repository or an OCI layout, opened as
// an ImageStore, and a registry's repositories. One registry client (and its token cache) per
// host, one layout store per folder.
import { resolve } from 'node:path';
import { LazyImageError } from '../errors.js';
import { OciLayoutStore, formatReference, type ImageReference, type ImageStore, type NamePage, type PageOptions } from '../oci/index.js';
import { listRepositories, RegistryClient, RegistryStore, type RegistryOptions } from '../registry/index.js';

export class Stores {
  private readonly clients = new Map<string, RegistryClient>();
  private readonly layouts = new Map<string, OciLayoutStore>();

  constructor(private readonly registryOptions: RegistryOptions = {}) {}

  /**
   * The store for a reference; `create` opens an OCI layout to write (a job's destination): it
   * makes one in a new or empty folder, and refuses a folder that holds anything else.
   */
  async open(ref: ImageReference, options: { create?: boolean } = {}): Promise<ImageStore> {
    if (ref.kind === 'registry') return new RegistryStore(this.client(ref.registry), ref.repository);
    const key = resolve(ref.path);
    try {
      const kept = this.layouts.get(key);
      if (kept) {
        await kept.check(options);
        return kept;
      }
      const store = await OciLayoutStore.open(ref.path, options);
      this.layouts.set(key, store);
      return store;
    } catch (e) {
      if (e instanceof LazyImageError) throw e;
      throw new LazyImageError('IO', `Cannot open ${formatReference(ref)}: ${(e as Error).message}`, { ref: formatReference(ref), cause: e });
    }
  }

  /** Pages of a registry's repository names (its catalog), fetched only as the caller asks. */
  repositories(registry: string, options: PageOptions = {}): AsyncIterable<NamePage> {
    return listRepositories(this.client(registry), options);
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

  private client(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (!client) {
      client = new RegistryClient(registry, this.registryOptions);
      this.clients.set(registry, client);
    }
    return client;
  }
}
