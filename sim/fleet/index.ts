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
 * never finish (they time out), an object corrupted after upload.
 */

export const FLEET_BUCKET = 'ec2-push-sandbox'
export const FLEET_TAG = 'tag:Fleet=sandbox'

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
      SANDBOX_FLEET_ROOT: root
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
