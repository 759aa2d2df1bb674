import { DUMMY_LONG_TERM_KEY } from '../aws/credential-store.js'
import { AwsSimServer, startAwsSimServer } from '../aws/server.js'
import { addSsmApi, InstanceState, SsmApiSim, SsmSessionsRecord, SsmSimInstance } from './api.js'
import type { SessionRecord } from './agent-session.js'
import { DataChannelServer, startDataChannelServer } from './data-channel-server.js'
import type { SsmSimFaults } from './faults.js'

export type { SsmSimFaults, DirectionFaults } from './faults.js'
export type { SsmSessionsRecord, StartRecord, InstanceState } from './api.js'

/** The simulated Session Manager (API + data channel + agent), wired to a local sshd. */
export interface SsmSim {
  /** The AWS simulator URL: set AWS_ENDPOINT_URL_SSM to this. */
  url: string
  awsServer: AwsSimServer
  dataChannel: DataChannelServer
  /** A managed, online instance whose port 22 leads to the sshd. */
  instanceId: string
  /** A managed instance whose agent is offline (StartSession: TargetNotConnected). */
  offlineInstanceId: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** AWS_ENDPOINT_URL_SSM, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY for a client of this sim. */
  env: Record<string, string>
  sessions: SsmSessionsRecord
  /** Per-session agent/service records (connects, retransmits, violations...). */
  sessionRecords(): SessionRecord[]
  /** Everything clients sent that the strict service rejected; a correct client leaves this empty. */
  violations(): string[]
  setFaults(faults: SsmSimFaults): void
  setInstanceState(instanceId: string, state: InstanceState): void
  /** Refuse StartSession (AccessDeniedException) on this instance id or document name. */
  deny(instanceOrDocument: string): void
  /** Undo deny(). */
  allow(instanceOrDocument: string): void
  /** Serve more AmazonSSM operations on the same endpoint (Run Command: sim/run-command/). */
  addOperation: SsmApiSim['addOperation']
  /** Make `host:port` (localhost:<port> for a port on the instance) lead to `target` for this instance. */
  addRoute(instanceId: string, hostPort: string, target: { host: string; port: number }): void
  close(): Promise<void>
}

export interface SsmSimOptions {
  sshHost: string
  sshPort: number
  /** Share an existing AWS simulator server (its authenticator, if any, checks signatures). */
  awsServer?: AwsSimServer
  faults?: SsmSimFaults
  region?: string
  instanceId?: string
}

export async function startSsmSim(opts: SsmSimOptions): Promise<SsmSim> {
  const ownServer = !opts.awsServer
  const awsServer = opts.awsServer ?? (await startAwsSimServer())
  const dataChannel = await startDataChannelServer(opts.faults ?? {})
  const region = opts.region ?? 'us-east-1'
  const instanceId = opts.instanceId ?? 'i-0123456789abcdef0'
  const offlineInstanceId = 'i-0fffffffffffffff0'
  const instances: SsmSimInstance[] = [
    { instanceId, state: 'online', target: { host: opts.sshHost, port: opts.sshPort } },
    { instanceId: offlineInstanceId, state: 'offline', target: { host: opts.sshHost, port: opts.sshPort } }
  ]
  const api = addSsmApi(awsServer, { region, dataChannel, instances })
  const credentials = { ...DUMMY_LONG_TERM_KEY }
  return {
    url: awsServer.url,
    awsServer,
    dataChannel,
    instanceId,
    offlineInstanceId,
    region,
    credentials,
    env: {
      AWS_ENDPOINT_URL_SSM: awsServer.url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey
    },
    sessions: api.sessions,
    sessionRecords: () => [...dataChannel.sessions.values()].map(s => s.record),
    violations: () => [
      ...dataChannel.violations,
      ...[...dataChannel.sessions.values()].flatMap(s =>
        s.record.violations.map(v => `${s.spec.sessionId}: ${v}`)
      )
    ],
    setFaults: f => dataChannel.setFaults(f),
    setInstanceState: (id, state) => {
      const i = api.instances.get(id)
      if (i) i.state = state
      else api.instances.set(id, { instanceId: id, state })
    },
    deny: what => void api.denied.add(what),
    allow: what => void api.denied.delete(what),
    addOperation: api.addOperation,
    addRoute: (id, hostPort, target) => {
      const i = api.instances.get(id)
      if (!i) throw new Error(`no simulated instance ${id}`)
      ;(i.routes ??= new Map()).set(hostPort, target)
    },
    close: async () => {
      await dataChannel.close()
      if (ownServer) await awsServer.close()
    }
  }
}
