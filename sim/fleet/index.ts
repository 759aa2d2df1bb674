import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { AwsSimServer, SimRequest, SimResponse } from '../aws/server.js'
import type { SecretTable } from '../sigv4-verify.js'
import { addRunCommand, type RunCommandSim } from '../run-command/api.js'
import { startS3Sim, type S3Sim } from '../s3/server.js'
import { createFleet, type Fleet, type FleetInstance } from './fleet.js'

/**
 * The `delivery: s3` corner of the sandbox: an S3 endpoint with one bucket, a fleet of instances
 * tagged Fleet=sandbox (half also Role=web), and Run Command on the shared AWS server's AmazonSSM
 * endpoint running scripts on them. Fault knobs: an instance offline, an instance whose commands
 * never finish (they time out), an object corrupted after upload; set at start (FleetFaults) or
 * while it runs.
 */

export const FLEET_BUCKET = 'ec2-push-sandbox'
export const FLEET_TAG = 'tag:Fleet=sandbox'

/** Faults set when the fleet starts (the sandbox's --fleet-offline, --fleet-hang, --s3-corrupt). */
export interface FleetFaults {
  /** Instances (ids, or 1-based numbers) whose agent never takes a command. */
  offline?: string[]
  /** Instances whose commands never finish, so they time out. */
  hang?: string[]
  /** A glob (`*` any characters) over object keys: matching objects are corrupted after upload. */
  corrupt?: string
}

export interface FleetSim {
  s3: S3Sim
  fleet: Fleet
  runCommand: RunCommandSim
  instanceIds: string[]
  bucket: string
  env: Record<string, string>
  setOffline(instanceId: string, offline?: boolean): void
  /** Commands on this instance hang until their executionTimeout. */
  hang(instanceId: string): void
  /** The instance lacks these commands (e.g. curl: the script then fetches with wget). */
  removeTools(instanceId: string, tools: string[]): void
  /** Flip a byte of `<prefix>/objects/<sha256>` in the bucket, as if it changed after upload. */
  corruptObject(prefix: string, sha256: string): void
  close(): Promise<void>
}

export function fleetInstanceId(i: number): string {
  return `i-0f1ee7${i.toString(16).padStart(11, '0')}`
}

export async function startFleetSim(opts: {
  addOperation: (name: string, handler: (req: SimRequest) => SimResponse) => void
  awsServer?: AwsSimServer
  secrets: SecretTable
  region: string
  dir: string
  size?: number
  shell?: string[]
  faults?: FleetFaults
}): Promise<FleetSim> {
  const s3 = await startS3Sim({ region: opts.region, secrets: opts.secrets })
  s3.createBucket(FLEET_BUCKET)
  const root = path.join(opts.dir, 'fleet')
  await mkdir(root, { recursive: true })
  const instances: FleetInstance[] = Array.from({ length: opts.size ?? 50 }, (_, i) => ({
    instanceId: fleetInstanceId(i + 1),
    tags: { Fleet: 'sandbox', ...(i % 2 === 0 ? { Role: 'web' } : {}), Name: `fleet-${i + 1}` },
    online: true
  }))
  const hanging = new Set<string>()
  const fleet = await createFleet({ root, instances, shell: opts.shell, region: opts.region })
  const run = fleet.run.bind(fleet)
  fleet.run = (id, script, o) => run(id, hanging.has(id) ? 'sleep 2147483647\n' + script : script, o)
  const runCommand = addRunCommand(opts.addOperation, fleet)
  const ids = instances.map(i => i.instanceId)
  const offline = resolveInstances(opts.faults?.offline ?? [], ids)
  const hang = resolveInstances(opts.faults?.hang ?? [], ids)
  for (const id of offline) fleet.instance(id)!.online = false
  for (const id of hang) hanging.add(id)
  if (opts.faults?.corrupt) s3.corruptAfterUpload(globRegExp(opts.faults.corrupt))
  return {
    s3,
    fleet,
    runCommand,
    instanceIds: instances.map(i => i.instanceId),
    bucket: FLEET_BUCKET,
    env: {
      AWS_ENDPOINT_URL_S3: s3.url,
      SANDBOX_S3_BUCKET: FLEET_BUCKET,
      SANDBOX_FLEET_TAG: FLEET_TAG,
      SANDBOX_FLEET_ROOT: root,
      ...(offline.length ? { SANDBOX_FLEET_OFFLINE: offline.join(',') } : {}),
      ...(hang.length ? { SANDBOX_FLEET_HANG: hang.join(',') } : {}),
      ...(opts.faults?.corrupt ? { SANDBOX_S3_CORRUPT: opts.faults.corrupt } : {})
    },
    setOffline: (id, offline = true) => {
      const i = fleet.instance(id)
      if (!i) throw new Error(`no fleet instance ${id}`)
      i.online = !offline
    },
    hang: id => void hanging.add(id),
    removeTools: (id, tools) => {
      const i = fleet.instance(id)
      if (!i) throw new Error(`no fleet instance ${id}`)
      i.missingTools = tools
    },
    corruptObject: (prefix, sha256) => s3.corrupt(FLEET_BUCKET, `${prefix}/objects/${sha256}`),
    close: () => s3.close()
  }
}

/** Instance ids or 1-based numbers as the fleet's ids; anything else is one line of error. */
export function resolveInstances(items: string[], ids: string[]): string[] {
  return items
    .map(s => s.trim())
    .filter(Boolean)
    .map(item => {
      if (ids.includes(item)) return item
      const n = Number(item)
      if (/^[0-9]+$/.test(item) && n >= 1 && n <= ids.length) return ids[n - 1]
      throw new Error(
        `'${item}' is not one of the fleet's instances (an id, or a number from 1 to ${ids.length})`
      )
    })
}

/** `*` matches any characters (slashes too); everything else is itself; the whole key must match. */
export function globRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map(p => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`
  )
}
