// `lazyimg pull`: a pull through containerd and a remote snapshotter, then per layer whether it
// was mounted lazily or downloaded (with the daemon's reason), set against the prediction.
import { Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import { formatReference, parseReference } from '../../core/oci/index.js';
import { pullLazily, renderPull, summarizePull, type SnapshotterKind } from '../../core/snapshotter/index.js';
import { withStores } from '../context.js';
import { parseSnapshotterKind } from '../options.js';
import { printJson, terminalLines } from '../format.js';

interface PullCliOptions {
  snapshotter: SnapshotterKind;
  containerd: string;
  namespace: string;
  log?: string;
  daemonRoot?: string;
  metrics?: string;
  plainHttp?: boolean;
  requireLazy?: boolean;
  ctr?: string;
  ctrRemote?: string;
  json?: boolean;
}

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('pull through containerd and a remote snapshotter; report per layer lazy or downloaded, and why, against the prediction')
    .argument('<ref>', 'registry/repo[:tag|@digest]')
    .requiredOption('--snapshotter <kind>', 'stargz (ctr-remote images rpull) or soci (ctr images pull, containerd v2 transfer service)', parseSnapshotterKind)
    .option('--containerd <socket>', "containerd's socket", '/run/containerd/containerd.sock')
    .option('--namespace <ns>', 'the containerd namespace', 'default')
    .option('--log <file>', "the daemon's log, for its per-layer decisions and reasons")
    .option('--daemon-root <dir>', "the daemon's root: a layer's FUSE mount must be under it")
    .option('--metrics <address>', "the daemon's metrics host:port, for mount points and bytes fetched")
    .option('--plain-http', 'containerd talks plain HTTP to the registry')
    .option('--require-lazy', 'exit non-zero when any layer was downloaded')
    .option('--ctr <path>', 'the ctr of containerd v2 (default: on PATH)')
    .option('--ctr-remote <path>', "stargz-snapshotter's ctr-remote (default: on PATH)")
    .option('--json', 'print the report as JSON')
    .action(async (input: string, o: PullCliOptions, command: Command) => {
      const ref = parseReference(input);
      if (ref.kind !== 'registry') throw new LazyImageError('INVALID_ARGUMENT', `Cannot pull ${input}: containerd pulls from a registry, not an OCI layout`);
      const report = await withStores(command, async (stores, signal) => pullLazily({
        ref: formatReference(ref), store: await stores.open(ref), tagOrDigest: ref.digest ?? ref.tag, snapshotter: o.snapshotter,
        containerd: o.containerd, namespace: o.namespace, logFile: o.log, daemonRoot: o.daemonRoot, metricsAddress: o.metrics, plainHttp: o.plainHttp,
        ctr: o.ctr, ctrRemote: o.ctrRemote, signal,
      }));
      if (o.json) printJson(report);
      else process.stdout.write(terminalLines([...renderPull(report), summarizePull(report).text]));
      if (report.failed) throw new LazyImageError('IO', `The pull of ${report.ref} through ${report.snapshotter} failed`, { ref: report.ref });
      const downloaded = report.layers.filter((l) => l.outcome !== 'remote');
      if (o.requireLazy && downloaded.length > 0) {
        throw new LazyImageError('INVALID_FORMAT', `${downloaded.length} of ${report.layers.length} layers of ${report.ref} were not mounted lazily: ${downloaded.map((l) => l.index).join(', ')}`, { ref: report.ref });
      }
    });
}
