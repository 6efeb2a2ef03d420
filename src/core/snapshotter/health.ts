// Is the daemon serving? Neither daemon has a gRPC health service, so a List of containerd's
// Snapshots API that answers within a deadline is the check; its answer is also the snapshot list.
// grpc-js is loaded on the first check: the editor must not pay for it at activation.
import { stat } from 'node:fs/promises';
import type * as Grpc from '@grpc/grpc-js';
import { snapshotsPackage, SNAPSHOTS_SERVICE, type ListSnapshotsResponseMessage, type SnapshotKind } from './snapshotsApi.js';

export const HEALTH_TIMEOUT_MS = 3000;
/** The label containerd's remote snapshots carry. */
export const REMOTE_LABEL = 'containerd.io/snapshot/remote';
/** List answers bigger than this are cut short: the check is not a dump. */
const MAX_SNAPSHOTS = 10_000;

export interface SnapshotSummary {
  key: string;
  parent: string;
  kind: SnapshotKind;
  labels: Record<string, string>;
  /** Mounted lazily by the daemon rather than unpacked. */
  remote: boolean;
}

export type UnhealthyReason = 'no-socket' | 'not-a-socket' | 'refused' | 'unavailable' | 'timeout' | 'grpc';

export type Health =
  | { healthy: true; socket: string; latencyMs: number; snapshots: SnapshotSummary[] }
  | { healthy: false; socket: string; reason: UnhealthyReason; message: string };

function grpc(): typeof Grpc {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@grpc/grpc-js') as typeof Grpc;
}

type ListStream = Grpc.ClientReadableStream<ListSnapshotsResponseMessage>;
type SnapshotsClient = Grpc.Client & { List(request: object, options: Grpc.CallOptions): ListStream };

/** Lists the snapshots over the daemon's socket; any failure is an unhealthy answer, never a throw. */
export async function checkHealth(socket: string, options: { timeoutMs?: number } = {}): Promise<Health> {
  const timeoutMs = options.timeoutMs ?? HEALTH_TIMEOUT_MS;
  try {
    if (!(await stat(socket)).isSocket()) return { healthy: false, socket, reason: 'not-a-socket', message: `${socket} is not a socket` };
  } catch (e) {
    return { healthy: false, socket, reason: 'no-socket', message: `${socket}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such socket: the daemon is not running here' : (e as Error).message}` };
  }
  const g = grpc();
  const pkg = g.loadPackageDefinition(snapshotsPackage()) as unknown as { containerd: { services: { snapshots: { v1: { Snapshots: Grpc.ServiceClientConstructor } } } } };
  const client = new pkg.containerd.services.snapshots.v1.Snapshots(`unix://${socket}`, g.credentials.createInsecure()) as unknown as SnapshotsClient;
  const started = Date.now();
  try {
    const snapshots = await new Promise<SnapshotSummary[]>((resolve, reject) => {
      const found: SnapshotSummary[] = [];
      const call = client.List({}, { deadline: Date.now() + timeoutMs });
      call.on('data', (response: ListSnapshotsResponseMessage) => {
        for (const info of response.info) {
          if (found.length === MAX_SNAPSHOTS) break;
          found.push({ key: info.name, parent: info.parent, kind: info.kind, labels: info.labels, remote: Object.hasOwn(info.labels, REMOTE_LABEL) });
        }
      });
      call.on('error', reject);
      call.on('end', () => resolve(found));
    });
    return { healthy: true, socket, latencyMs: Date.now() - started, snapshots };
  } catch (e) {
    const err = e as Grpc.ServiceError;
    const status = g.status;
    // A daemon that has never held a snapshot has no metadata bucket yet; its List fails with
    // "bucket does not exist" (soci v0.16 as UNKNOWN). It answered, and there is nothing to list.
    if (err.code === status.NOT_FOUND || (err.code === status.UNKNOWN && /bucket does not exist/.test(err.details ?? ''))) {
      return { healthy: true, socket, latencyMs: Date.now() - started, snapshots: [] };
    }
    if (err.code === status.DEADLINE_EXCEEDED) return { healthy: false, socket, reason: 'timeout', message: `${SNAPSHOTS_SERVICE}/List did not answer within ${timeoutMs} ms` };
    if (err.code === status.UNAVAILABLE && /ECONNREFUSED|ENOENT/.test(err.details ?? '')) {
      return { healthy: false, socket, reason: 'refused', message: `${socket}: connection refused: nothing listens on the socket (a daemon that died leaves it behind)` };
    }
    if (err.code === status.UNAVAILABLE) {
      return { healthy: false, socket, reason: 'unavailable', message: `${socket}: the daemon dropped the connection: ${err.details ?? err.message}` };
    }
    return { healthy: false, socket, reason: 'grpc', message: `${SNAPSHOTS_SERVICE}/List failed: ${status[err.code] ?? err.code}: ${err.details ?? err.message}` };
  } finally {
    client.close();
  }
}
