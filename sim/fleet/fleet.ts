import { spawn, spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * A fleet of simulated instances that really run scripts: each run is a real `sh` (dash, or BusyBox)
 * in its own mount namespace (`unshare --mount`), where the folders a deploy writes to (OVERLAID) are
 * overlayfs mounts whose upper layer is the instance's own folder. So every instance sees the host's
 * files plus only its own changes, and what instance i wrote to P is at `<root>/<instance-id>/P` from
 * outside (the sandbox's SANDBOX_FLEET_ROOT). Needs root (it is, in CI and here); `checkFleetSupport`
 * says so in one line otherwise. The script reaches the S3 simulator over loopback HTTP with curl.
 */

/** Where a remote-path must live for the fleet to keep each instance's writes apart. */
export const OVERLAID = ['/srv', '/opt', '/var', '/home', '/mnt']

export interface FleetInstance {
  instanceId: string
  tags: Record<string, string>
  /** An offline agent never picks a command up. */
  online: boolean
  /** Commands this instance lacks (e.g. curl, to make the script fall back to wget). */
  missingTools?: string[]
}

export interface RunOutcome {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface Fleet {
  root: string
  instances: FleetInstance[]
  instance(id: string): FleetInstance | undefined
  /** Instance ids matching a Run Command target key (`tag:Name` or `InstanceIds`) and values. */
  match(key: string, values: string[]): string[]
  /** Run `script` on the instance as the agent does (a file, run by the instance's sh). */
  run(
    instanceId: string,
    script: string,
    opts: { timeoutSeconds: number; name: string; signal?: AbortSignal }
  ): Promise<RunOutcome>
  /** A command prefix (and its variables) that runs a program in the instance's view of the files. */
  wrap(instanceId: string): { argv: string[]; env: Record<string, string> }
  /** `<root>/<id>/<remotePath>`: the instance's remote path as seen from outside. */
  pathOf(instanceId: string, remotePath: string): string
}

export interface FleetOptions {
  root: string
  instances: FleetInstance[]
  /** The shell the agent runs scripts with (default `sh`, i.e. dash on Debian; `busybox sh` works too). */
  shell?: string[]
  /** AWS_SSM_REGION_NAME in the scripts' environment. */
  region?: string
}

export function checkFleetSupport(): string | undefined {
  const r = spawnSync(
    'unshare',
    ['--mount', 'sh', '-c', 'mount --make-rprivate / && mount -t tmpfs none /mnt'],
    {
      encoding: 'utf8'
    }
  )
  if (r.status === 0) return undefined
  return `the fleet simulator needs root with 'unshare --mount' and overlayfs (${(r.stderr || r.error?.message || '').trim()})`
}

export async function createFleet(opts: FleetOptions): Promise<Fleet> {
  const shell = opts.shell ?? ['sh']
  for (const i of opts.instances) {
    for (const d of OVERLAID) {
      await mkdir(path.join(opts.root, i.instanceId, d), { recursive: true })
      await mkdir(path.join(opts.root, '.work', i.instanceId, d), { recursive: true })
    }
    await mkdir(path.join(opts.root, '.agent', i.instanceId), { recursive: true })
  }
  const byId = new Map(opts.instances.map(i => [i.instanceId, i]))
  const setup = [
    'mount --make-rprivate / || exit 97',
    'for t in $MISSING; do p=$(command -v "$t") && mount --bind /dev/null "$p"; done',
    `for d in ${OVERLAID.join(' ')}; do mount -t overlay overlay -o "lowerdir=$d,upperdir=$UPPER$d,workdir=$WORK$d" "$d" || exit 97; done`,
    'exec "$@"'
  ].join('\n')
  const wrap = (instanceId: string) => ({
    argv: ['unshare', '--mount', 'sh', '-c', setup, 'fleet-setup'],
    env: {
      UPPER: path.join(opts.root, instanceId),
      WORK: path.join(opts.root, '.work', instanceId),
      MISSING: (byId.get(instanceId)?.missingTools ?? []).join(' ')
    }
  })
  return {
    wrap,
    root: opts.root,
    instances: opts.instances,
    instance: id => byId.get(id),
    match: (key, values) => {
      if (key === 'InstanceIds') return values.filter(v => byId.has(v))
      const tag = key.startsWith('tag:') ? key.slice(4) : undefined
      if (tag === undefined) return []
      return opts.instances
        .filter(i => i.tags[tag] !== undefined && values.includes(i.tags[tag]))
        .map(i => i.instanceId)
    },
    pathOf: (id, remotePath) => path.join(opts.root, id, remotePath),
    async run(instanceId, script, o) {
      const agentDir = path.join(opts.root, '.agent', instanceId, o.name)
      await mkdir(agentDir, { recursive: true })
      const file = path.join(agentDir, '_script.sh')
      await writeFile(file, script, { mode: 0o700 })
      // Cancelled while the script was being written: it never starts.
      if (o.signal?.aborted) return { code: null, stdout: '', stderr: '', timedOut: false }
      return new Promise(resolve => {
        const w = wrap(instanceId)
        const argv = [...w.argv, ...shell, file]
        const child = spawn(argv[0], argv.slice(1), {
          cwd: agentDir,
          detached: true,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: '/root',
            TMPDIR: agentDir,
            LANG: 'C',
            // As the SSM agent sets them for a Run Command script.
            AWS_SSM_INSTANCE_ID: instanceId,
            AWS_SSM_REGION_NAME: opts.region ?? 'us-east-1',
            ...w.env
          },
          stdio: ['ignore', 'pipe', 'pipe']
        })
        const out: Buffer[] = []
        const err: Buffer[] = []
        child.stdout.on('data', c => out.push(c))
        child.stderr.on('data', c => err.push(c))
        let timedOut = false
        const kill = () => {
          try {
            process.kill(-child.pid!, 'SIGKILL')
          } catch {
            // already gone
          }
        }
        // A cancel, as the agent's killProcess (agent/executers/executers_unix.go) does it: SIGKILL
        // to the script's process group at once, as on a timeout; no trap runs.
        const cancel = () => kill()
        const timer = setTimeout(() => {
          timedOut = true
          kill()
        }, o.timeoutSeconds * 1000)
        o.signal?.addEventListener('abort', cancel, { once: true })
        child.on('close', code => {
          clearTimeout(timer)
          o.signal?.removeEventListener('abort', cancel)
          resolve({
            code,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
            timedOut
          })
        })
      })
    }
  }
}
