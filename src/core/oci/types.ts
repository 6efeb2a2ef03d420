// The OCI image model as plain JSON types (image-spec v1.1).
import type { Digest } from './digest.js';

export type Annotations = Record<string, string>;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Annotations;
  platform?: Platform;
  artifactType?: string;
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string> | null;
  };
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>;
}

/** A manifest as read from a store: its descriptor, its exact bytes, and the parsed document. */
export type ManifestDocument =
  | { kind: 'index'; descriptor: Descriptor; bytes: Buffer; index: ImageIndex }
  | { kind: 'manifest'; descriptor: Descriptor; bytes: Buffer; manifest: ImageManifest };

export type ImageDocument = Extract<ManifestDocument, { kind: 'manifest' }>;
export type IndexDocument = Extract<ManifestDocument, { kind: 'index' }>;

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
