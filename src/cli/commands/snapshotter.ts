// `lazyimg snapshotter`: the remote snapshotter daemons on this machine. Status, a daemon of your
// own in a folder (or the systemd unit), its log, and checks of its config and containerd's.
import { Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import {
  CONTAINERD_CONFIG, PROFILES, SNAPSHOTTER_KINDS, checkContainerdConfig, controlUnit, findBinary, followFile, followJournal, formatProblem,
  hostPlatform, managedPaths, readContainerdConfig, readDaemonConfig, restartDaemon, snapshotterStatus, startDaemon,
  stopDaemon, systemctlCommand, unitExists, type ManagedOptions, type SnapshotterKind, type SnapshotterProfile, type UnitAction,
} from '../../core/snapshotter/index.js';
import { collect, parseSnapshotterKind } from '../options.js';
import { printJson, terminalLines } from '../format.js';
import { statusLines } from './snapshotterStatus.js';

interface PlaceOptions {
  dir?: string;
  socket?: string;
  root?: string;
  config?: string;
  logFile?: string;
}

interface ControlOptions extends PlaceOptions {
  binary?: string;
  logLevel?: string;
}

function placeOptions(command: Command): Command {
  return command
    .option('--dir <folder>', "run the daemon of your own here: socket, root, config.toml, log and pid file")
    .option('--socket <path>', 'its socket (default: <dir>/<kind>.sock)')
    .option('--root <path>', 'its root (default: <dir>/root)')
    .option('--config <file>', 'its config.toml (default: <dir>/config.toml)')
    .option('--log-file <file>', 'its log (default: <dir>/<kind>.log)');
}

function managed(kind: SnapshotterKind, o: PlaceOptions): ManagedOptions | undefined {
  if (o.dir === undefined && o.socket === undefined) return undefined;
  return { profile: PROFILES[kind], dir: o.dir, socket: o.socket, root: o.root, config: o.config, logFile: o.logFile };
}

/** Without a folder the daemon is the system's: its systemd unit, or nothing we may touch. */
async function systemUnit(profile: SnapshotterProfile, action: string): Promise<string> {
  if (await unitExists(profile.unit)) return profile.unit;
  throw new LazyImageError('INVALID_ARGUMENT', `Cannot ${action} ${profile.kind}: systemd has no ${profile.unit} here; give --dir <folder> to run a daemon of your own`);
}

async function binaryFor(profile: SnapshotterProfile, given: string | undefined): Promise<string> {
  const found = given ?? (await findBinary(profile));
  if (found === undefined) throw new LazyImageError('NOT_FOUND', `Cannot find ${profile.binary} on PATH: ${profile.hint}, or give --binary <path>`);
  return found;
}

function control(parent: Command, action: UnitAction): void {
  placeOptions(parent.command(action))
    .description(`${action} a snapshotter daemon: one of your own with --dir, else the systemd unit`)
    .argument('<kind>', 'stargz or soci', parseSnapshotterKind)
    .option('--binary <path>', 'the daemon executable (default: found on PATH)')
    .option('--log-level <level>', 'the daemon --log-level', 'info')
    .action(async (kind: SnapshotterKind, o: ControlOptions) => {
      const profile = PROFILES[kind];
      const own = managed(kind, o);
      if (own === undefined) {
        const unit = await systemUnit(profile, action);
        await controlUnit(action, unit);
        process.stdout.write(`Ran ${systemctlCommand(action, unit)}\n`);
        return;
      }
      if (action === 'stop') {
        const r = await stopDaemon(own);
        const paths = managedPaths(own);
        const lines = [r.pid === undefined ? `No ${profile.binary} of ours was running on ${paths.socket}` : `Stopped ${profile.binary} (PID ${r.pid}) with ${r.signal}`];
        if (r.unmounted.length > 0) lines.push(`Unmounted ${r.unmounted.length} FUSE mount(s) it left under ${paths.root}`);
        process.stdout.write(terminalLines(lines));
        return;
      }
      const start = { ...own, binary: await binaryFor(profile, o.binary), logLevel: o.logLevel };
      const d = action === 'start' ? await startDaemon(start) : await restartDaemon(start);
      process.stdout.write(terminalLines([`${profile.binary} runs as PID ${d.pid} on ${d.socket}`, `root ${d.root}`, `config ${d.config}`, `log ${d.logFile}`]));
    });
}

export function registerSnapshotter(program: Command): void {
  const snapshotter = program.command('snapshotter').description('the remote snapshotter daemons (stargz, soci): status, control, logs and config checks');

  snapshotter
    .command('status')
    .description('installed? which version, answering on its socket, config problems, metrics, remote snapshots')
    .argument('[kind]', 'stargz or soci (default: both)', parseSnapshotterKind)
    .option('--socket <path>', "the daemon's socket (default: upstream's)")
    .option('--config <file>', "the daemon's config.toml (default: upstream's)")
    .option('--binary-dir <dir>', 'also look for the daemon here (repeatable)', collect, [])
    .option('--json', 'print the status as JSON')
    .action(async (kind: SnapshotterKind | undefined, o: { socket?: string; config?: string; binaryDir: string[]; json?: boolean }) => {
      const kinds = kind ? [kind] : SNAPSHOTTER_KINDS;
      if (!kind && (o.socket || o.config)) throw new LazyImageError('INVALID_ARGUMENT', '--socket and --config need a kind: stargz or soci');
      const statuses = await Promise.all(kinds.map((k) => snapshotterStatus(PROFILES[k], { socket: o.socket, config: o.config, binaryPaths: o.binaryDir })));
      if (o.json) printJson(kind ? statuses[0] : statuses);
      else process.stdout.write(terminalLines(statuses.flatMap((s, i) => [...(i > 0 ? [''] : []), ...statusLines(s)])));
    });

  control(snapshotter, 'start');
  control(snapshotter, 'stop');
  control(snapshotter, 'restart');

  placeOptions(snapshotter.command('logs'))
    .description("follow a daemon's log: its log file with --dir, else journalctl -u <unit> -f")
    .argument('<kind>', 'stargz or soci', parseSnapshotterKind)
    .option('-n, --lines <n>', 'lines of history first', '20')
    .action(async (kind: SnapshotterKind, o: PlaceOptions & { lines: string }) => {
      const own = managed(kind, o);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const options = { lines: Number(o.lines) || 20, signal: controller.signal };
      const lines = own ? followFile(managedPaths(own).logFile, options) : followJournal(await systemUnit(PROFILES[kind], 'follow the log of'), options);
      for await (const line of lines) process.stdout.write(terminalLines([line]));
    });

  snapshotter
    .command('check-config')
    .description("check a daemon's config.toml: syntax, the types of the keys it decodes, unknown keys")
    .argument('<kind>', 'stargz or soci', parseSnapshotterKind)
    .argument('[file]', "the config (default: the daemon's default path)")
    .option('--json', 'print {file, exists, problems} as JSON')
    .action(async (kind: SnapshotterKind, file: string | undefined, o: { json?: boolean }) => {
      const config = await readDaemonConfig(PROFILES[kind], file ?? PROFILES[kind].config);
      if (o.json) printJson({ file: config.file, exists: config.exists, problems: config.problems });
      else if (!config.exists) process.stdout.write(terminalLines([`${config.file} does not exist: the daemon runs on its defaults (if it is its default path)`]));
      else process.stdout.write(terminalLines(config.problems.length > 0 ? config.problems.map(formatProblem) : [`${config.file}: no problems`]));
      const errors = config.problems.filter((p) => p.severity === 'error');
      if (errors.length > 0) throw new LazyImageError('INVALID_FORMAT', `${config.file} has ${errors.length === 1 ? 'a problem' : `${errors.length} problems`} the daemon will not start with`, { ref: config.file });
    });

  snapshotter
    .command('check-containerd')
    .description("check that containerd's config.toml wires the daemon in as a proxy snapshotter; print the TOML to add")
    .argument('<kind>', 'stargz or soci', parseSnapshotterKind)
    .option('--containerd-config <file>', "containerd's config", CONTAINERD_CONFIG)
    .option('--socket <path>', "the daemon's socket (default: upstream's)")
    .option('--root <path>', "the daemon's root (default: upstream's)")
    .option('--json', 'print {file, version, plugin, problems, snippet} as JSON')
    .action(async (kind: SnapshotterKind, o: { containerdConfig: string; socket?: string; root?: string; json?: boolean }) => {
      const profile = PROFILES[kind];
      const text = await readContainerdConfig(o.containerdConfig);
      const wiring = checkContainerdConfig(profile, text, o.containerdConfig, { socket: o.socket ?? profile.socket, root: o.root ?? profile.root, platform: hostPlatform() });
      if (o.json) printJson(wiring);
      else {
        const lines = wiring.problems.length > 0 ? wiring.problems.map(formatProblem) : [`${wiring.file}: containerd uses ${profile.kind} as proxy plugin "${wiring.plugin}"`];
        if (wiring.snippet) lines.push('', `Add to ${wiring.file} (or replace the plugin's table with it), then restart containerd:`, '', ...wiring.snippet.trimEnd().split('\n'));
        process.stdout.write(terminalLines(lines));
      }
      if (wiring.problems.some((p) => p.severity === 'error')) throw new LazyImageError('INVALID_FORMAT', `containerd is not wired to the ${kind} snapshotter`, { ref: wiring.file });
    });
}
