// The OCI runtime spec (runc's config.json) of the container a workload is recorded in: the shape
// `runc spec` gives, with containerd's default capabilities, a new network namespace (only a
// loopback, so no network) unless the caller allows the host's, and a user namespace mapping the
// caller to the container's root when the caller is not root (rootless runc).
import type { Workload } from './workload.js';

export interface SandboxOptions {
  /** Share the host's network (and its resolv.conf and hosts), instead of a namespace with only a loopback. */
  network: boolean;
  /** The caller's IDs, when not root: the user namespace maps them to the container's root, its only user. */
  rootless?: { uid: number; gid: number };
  hostname: string;
}

/** containerd's default set: what `docker run` grants. */
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const MASKED = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'];
const READ_ONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface Mount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** Where the runtime mounts something of its own or the host's: what is opened there is not the image's. */
export function runtimeMounts(options: SandboxOptions): Mount[] {
  const rootless = options.rootless !== undefined;
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // A user namespace may not mount a new sysfs; it gets the host's, read-only.
    rootless
      ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ...(rootless ? [] : [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] }]),
    ...(options.network ? ['/etc/resolv.conf', '/etc/hosts'].map((f) => ({ destination: f, type: 'bind', source: f, options: ['rbind', 'ro'] })) : []),
  ];
}

export function runtimeSpec(workload: Workload, rootfs: string, options: SandboxOptions): object {
  const rootless = options.rootless;
  const namespaces = ['pid', 'ipc', 'uts', 'mount', ...(options.network ? [] : ['network']), ...(rootless ? ['user'] : [])];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: workload.user,
      args: workload.args,
      env: workload.env,
      cwd: workload.cwd,
      capabilities: { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      // As containerd's default spec: a setuid program of the image works as it would in production.
      noNewPrivileges: false,
    },
    root: { path: rootfs, readonly: false },
    hostname: options.hostname,
    mounts: runtimeMounts(options),
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      ...(rootless
        ? { uidMappings: [{ containerID: 0, hostID: rootless.uid, size: 1 }], gidMappings: [{ containerID: 0, hostID: rootless.gid, size: 1 }] }
        : { resources: { devices: [{ allow: false, access: 'rwm' }] } }),
      maskedPaths: MASKED,
      readonlyPaths: READ_ONLY,
    },
  };
}
