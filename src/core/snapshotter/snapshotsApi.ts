// The part of containerd's Snapshots API (containerd.services.snapshots.v1, as in containerd's
// api/services/snapshots/v1/snapshots.proto) that we call: List (server streaming) and Usage.
// It is a protobuf.js JSON descriptor in code, so the bundle carries it with no file to find;
// field numbers and names are containerd's. Timestamp has google.protobuf.Timestamp's wire shape.
import type { PackageDefinition } from '@grpc/proto-loader';

export const SNAPSHOTS_SERVICE = 'containerd.services.snapshots.v1.Snapshots';

export type SnapshotKind = 'UNKNOWN' | 'VIEW' | 'ACTIVE' | 'COMMITTED';

/** A snapshot as List returns it (proto-loader's plain-object form). */
export interface SnapshotInfoMessage {
  name: string;
  parent: string;
  kind: SnapshotKind;
  created_at: { seconds: number; nanos: number } | null;
  updated_at: { seconds: number; nanos: number } | null;
  labels: Record<string, string>;
}

export interface ListSnapshotsResponseMessage {
  info: SnapshotInfoMessage[];
}

export interface UsageResponseMessage {
  size: number;
  inodes: number;
}

const v1 = {
  Snapshots: {
    methods: {
      List: { requestType: 'ListSnapshotsRequest', responseType: 'ListSnapshotsResponse', responseStream: true },
      Usage: { requestType: 'UsageRequest', responseType: 'UsageResponse' },
    },
  },
  Kind: { values: { UNKNOWN: 0, VIEW: 1, ACTIVE: 2, COMMITTED: 3 } },
  Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
  Info: {
    fields: {
      name: { type: 'string', id: 1 },
      parent: { type: 'string', id: 2 },
      kind: { type: 'Kind', id: 3 },
      created_at: { type: 'Timestamp', id: 4 },
      updated_at: { type: 'Timestamp', id: 5 },
      labels: { keyType: 'string', type: 'string', id: 6 },
    },
  },
  ListSnapshotsRequest: { fields: { snapshotter: { type: 'string', id: 1 }, filters: { rule: 'repeated', type: 'string', id: 2 } } },
  ListSnapshotsResponse: { fields: { info: { rule: 'repeated', type: 'Info', id: 1 } } },
  UsageRequest: { fields: { snapshotter: { type: 'string', id: 1 }, key: { type: 'string', id: 2 } } },
  UsageResponse: { fields: { size: { type: 'int64', id: 1 }, inodes: { type: 'int64', id: 2 } } },
};

/** The descriptor, for proto-loader's fromJSON. */
export const SNAPSHOTS_DESCRIPTOR = { nested: { containerd: { nested: { services: { nested: { snapshots: { nested: { v1: { nested: v1 } } } } } } } } };

/** Loads the service definition; proto-loader (and protobuf.js) are required here, on first use. */
export function snapshotsPackage(): PackageDefinition {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  return loader.fromJSON(SNAPSHOTS_DESCRIPTOR as Parameters<typeof loader.fromJSON>[0], { keepCase: true, longs: Number, enums: String, defaults: true });
}
