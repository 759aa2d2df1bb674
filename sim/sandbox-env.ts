import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startCredentialSims, type CredentialSims } from './credential-sims.js'
import { startAwsSimServer, type AwsSimServer } from './aws/server.js'
import { startEicSim, type EicSim } from './eic/api.js'
import { startEiceSim, type EiceSim } from './eice/eice-sim.js'
import { startSshd, type Sshd } from './sshd.js'
import { startSsmSim, type SsmSim } from './ssm/index.js'
import type { SsmSimFaults } from './ssm/faults.js'
import { startWanRelay, type WanLink, type WanRelay } from './wan-relay.js'
import { startFleetSim, type FleetFaults, type FleetSim } from './fleet/index.js'

/**
 * The whole local sandbox: a real sshd playing "the instance", and every AWS simulator on one
 * loopback server, consistent with each other:
 * - SANDBOX_INSTANCE_ID: managed and Online in Session Manager, in a VPC without an EICE endpoint
 *   (so `auto` picks ssm for it);
 * - SANDBOX_EICE_INSTANCE_ID: in the VPC with an endpoint (so `auto` picks eice);
 * - both accept one-time keys pushed with SendSSHPublicKey (sshd's AuthorizedKeysCommand reads them);
 * - STS and the Actions token endpoint for role-to-assume; every signed call is verified;
 * - for delivery: s3, an S3 endpoint (SANDBOX_S3_BUCKET) and a fleet of instances that run Run
 *   Command scripts with a real sh (SANDBOX_FLEET_TAG matches all of them; instance i's remote-path P
 *   is at SANDBOX_FLEET_ROOT/<instance-id>/P from outside), see sim/fleet/.
 * With `wan`, every path goes through an emulated long link: SANDBOX_SSH_PORT (nlb) and the AWS API
 * lead to WAN relays (sim/wan-relay.ts), the EICE endpoint sits behind one, and the Session Manager
 * data channel delays each direction by half the round trip (its own `rttMs`).
 */
export interface Sandbox {
  sshd: Sshd
  aws: AwsSimServer
  credentials: CredentialSims
  ssm: SsmSim
  eice: EiceSim
  eic: EicSim
  /** The relays of `wan`: in front of sshd (the nlb path) and of the AWS API. */
  relays: { ssh: WanRelay; aws: WanRelay } | undefined
  fleet: FleetSim
  instanceId: string
  eiceInstanceId: string
  region: string
  /** Everything a process needs to use the sandbox (AWS_* endpoints, dummy keys, CA, SANDBOX_*). */
  env: Record<string, string>
  stop(): Promise<void>
}

export interface SandboxOptions {
  ssmFaults?: SsmSimFaults
  /** Lifetime of pushed one-time keys (default 60 s, as EC2 Instance Connect). */
  keyLifetimeSeconds?: number
  verbose?: boolean
  /** Emulate a long link on every path (see above). */
  wan?: WanLink
  /** Where the AWS API server (and the Actions token endpoint on it) listens (default 127.0.0.1). */
  awsHost?: string
  /** Instances in the Run Command fleet (default 50). */
  fleetSize?: number
  /** The shell the fleet's agent runs scripts with (default sh). */
  fleetShell?: string[]
  /** Faults of the Run Command fleet and its S3 endpoint. */
  fleetFaults?: FleetFaults
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-sandbox-'))
  const stops: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })]
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {})
  }
  try {
    const aws = await startAwsSimServer({ host: opts.awsHost })
    stops.push(() => aws.close())
    const credentials = startCredentialSims(aws)
    // The EC2 inventory decides the ids: the instance without an endpoint is the Session Manager one.
    const user = os.userInfo().username
    const eic = await startEicSim({
      awsServer: aws,
      dir,
      keyLifetimeSeconds: opts.keyLifetimeSeconds,
      instances: []
    })
    stops.push(() => eic.close())
    const sshd = await startSshd({ extraConfig: eic.sshdConfigLines, verbose: opts.verbose })
    stops.push(() => sshd.stop())
    const eice = await startEiceSim({
      sshHost: sshd.host,
      sshPort: sshd.port,
      awsServer: aws,
      secrets: credentials.store,
      wan: opts.wan
    })
    stops.push(() => eice.stop())
    const instanceId = eice.instanceIds.noEndpoint
    const eiceInstanceId = eice.instanceId
    for (const i of eice.inventory.instances) {
      eic.setInstance({ id: i.instanceId, state: i.state as never, availabilityZone: i.availabilityZone })
    }
    const ssm = await startSsmSim({
      sshHost: sshd.host,
      sshPort: sshd.port,
      awsServer: aws,
      faults: opts.wan ? { ...opts.ssmFaults, rttMs: opts.wan.rttMs } : opts.ssmFaults,
      region: eice.region,
      instanceId
    })
    stops.push(() => ssm.close())
    const region = eice.region
    let relays: Sandbox['relays']
    if (opts.wan) {
      const ssh = await startWanRelay({ host: sshd.host, port: sshd.port }, opts.wan)
      stops.push(() => ssh.close())
      const api = new URL(aws.url)
      const awsRelay = await startWanRelay({ host: api.hostname, port: Number(api.port) }, opts.wan)
      stops.push(() => awsRelay.close())
      relays = { ssh, aws: awsRelay }
    }
    const awsUrl = relays ? `${new URL(aws.url).protocol}//${relays.aws.host}:${relays.aws.port}` : aws.url
    // Every variable that names the AWS API simulator names it through its relay.
    const viaRelay = (vars: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [
          k,
          v.startsWith(aws.url) ? awsUrl + v.slice(aws.url.length) : v
        ])
      )
    const fleet = await startFleetSim({
      addOperation: ssm.addOperation,
      secrets: credentials.store,
      region,
      dir,
      size: opts.fleetSize,
      shell: opts.fleetShell,
      faults: opts.fleetFaults
    })
    stops.push(() => fleet.close())
    const env: Record<string, string> = {
      ...viaRelay({ ...credentials.env, ...ssm.env, ...eice.env }),
      AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT: awsUrl,
      ...fleet.env,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.longTermKey.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.longTermKey.secretAccessKey,
      NODE_EXTRA_CA_CERTS: eice.caFile,
      SANDBOX_SSH_HOST: sshd.host,
      SANDBOX_SSH_PORT: String(relays?.ssh.port ?? sshd.port),
      SANDBOX_SSH_USER: user,
      SANDBOX_SSH_PRIVATE_KEY_FILE: sshd.clientKey.privateKeyFile,
      SANDBOX_HOST_KEY_FINGERPRINT: sshd.hostKeyFingerprint,
      SANDBOX_REMOTE_ROOT: sshd.remoteRoot,
      SANDBOX_INSTANCE_ID: instanceId,
      SANDBOX_EICE_INSTANCE_ID: eiceInstanceId,
      SANDBOX_ROLE_ARN: credentials.roleArn,
      ...(opts.wan ? { SANDBOX_RTT_MS: String(opts.wan.rttMs), SANDBOX_SSHD_PORT: String(sshd.port) } : {})
    }
    return {
      sshd,
      aws,
      credentials,
      ssm,
      eice,
      eic,
      relays,
      fleet,
      instanceId,
      eiceInstanceId,
      region,
      env,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
