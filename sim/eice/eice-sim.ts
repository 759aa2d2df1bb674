import { DUMMY_LONG_TERM_KEY, SIM_ACCOUNT_ID } from '../aws/credential-store.js'
import type { AwsSimServer } from '../aws/server.js'
import { defaultInventory, type DefaultInventoryIds, type Ec2Inventory } from '../ec2/inventory.js'
import { registerEc2Api } from '../ec2/query-api.js'
import type { SecretTable } from '../sigv4-verify.js'
import { startWanRelay, type WanLink, type WanRelay } from '../wan-relay.js'
import { makeTestTls } from './ca.js'
import {
  DEFAULT_KNOBS,
  startEiceEndpointServer,
  type EiceCounters,
  type EiceKnobs,
  type OpenTunnelEvent
} from './endpoint-server.js'

export interface EiceSimOptions {
  /** The sshd every simulated instance's port 22 leads to. */
  sshHost: string
  sshPort: number
  /** The shared AWS API simulator; the EC2 query API is registered on it. */
  awsServer: AwsSimServer
  region?: string
  /** How the endpoint's DnsName is written: `127.0.0.1:PORT` (default) or `localhost:PORT`. */
  hostName?: '127.0.0.1' | 'localhost'
  /** Keys the simulator accepts (default: the sandbox's dummy key, DUMMY_LONG_TERM_KEY). */
  secrets?: SecretTable
  knobs?: Partial<EiceKnobs>
  /** Page size of DescribeInstanceConnectEndpoints (small values test paging). */
  endpointPageSize?: number
  /**
   * Put the endpoint behind an emulated WAN link (sim/wan-relay.ts): the DnsName leads to the relay,
   * so the TLS handshake, the upgrade and every tunnel byte take its round trips and window.
   */
  wan?: WanLink
}

export interface EiceSim {
  region: string
  /** The default inventory's instance ids (see sim/ec2/inventory.ts). */
  instanceIds: Omit<DefaultInventoryIds, 'endpoint' | 'vpcId' | 'otherVpcId'>
  /** Running instance in the VPC with the endpoint: the one to deploy to. */
  instanceId: string
  endpointId: string
  endpointIds: string[]
  /** `127.0.0.1:PORT`: the DnsName the endpoint advertises. */
  dnsName: string
  /** PEM file of the throwaway CA (NODE_EXTRA_CA_CERTS=caFile; Node reads it only at start-up). */
  caFile: string
  /** The same CA as PEM text, for in-process tests (createEiceTunnel's test-only `tlsCa`). */
  ca: string
  /** The emulated WAN link in front of the endpoint, when `wan` was given. */
  relay?: WanRelay
  /** Mutable: what EC2 reports (stop an instance, add endpoints) and where tunnels lead. */
  inventory: Ec2Inventory
  knobs: EiceKnobs
  /** Actions the EC2 API refuses with UnauthorizedOperation. */
  denyEc2Actions: Set<string>
  counters: EiceCounters
  events: OpenTunnelEvent[]
  /** What a child process needs to reach the simulators (merge into its env). */
  env: Record<string, string>
  stop(): Promise<void>
}

/**
 * The EC2 API (DescribeInstances, DescribeInstanceConnectEndpoints) plus a TLS WebSocket EICE
 * endpoint whose tunnels lead to the given sshd. Every running instance's IP and port 22 routes there.
 */
export async function startEiceSim(opts: EiceSimOptions): Promise<EiceSim> {
  const region = opts.region ?? 'us-east-1'
  const secrets =
    opts.secrets ??
    new Map([[DUMMY_LONG_TERM_KEY.accessKeyId, { secretAccessKey: DUMMY_LONG_TERM_KEY.secretAccessKey }]])
  const knobs: EiceKnobs = { ...DEFAULT_KNOBS, ...opts.knobs }
  const tls = await makeTestTls()
  const { inventory, ids } = defaultInventory({ region, accountId: SIM_ACCOUNT_ID, dnsName: 'pending' })
  let server
  try {
    server = await startEiceEndpointServer({
      key: tls.key,
      cert: tls.cert,
      region,
      inventory,
      secrets,
      knobs,
      route: (ip, port) => {
        const inst = inventory.instances.find(i => i.privateIpAddress === ip || i.ipv6Address === ip)
        if (!inst || inst.state !== 'running' || port !== 22) return undefined
        return { host: opts.sshHost, port: opts.sshPort }
      }
    })
  } catch (err) {
    await tls.remove()
    throw err
  }
  let relay: WanRelay | undefined
  try {
    if (opts.wan) relay = await startWanRelay({ host: '127.0.0.1', port: server.port }, opts.wan)
  } catch (err) {
    await server.close()
    await tls.remove()
    throw err
  }
  const dnsName = `${opts.hostName ?? '127.0.0.1'}:${relay?.port ?? server.port}`
  for (const e of inventory.endpoints) e.dnsName = dnsName
  const denyEc2Actions = new Set<string>()
  registerEc2Api(opts.awsServer, {
    inventory,
    secrets,
    denyActions: denyEc2Actions,
    endpointPageSize: opts.endpointPageSize
  })
  const { endpoint } = ids
  const instanceIds = {
    web1: ids.web1,
    web2: ids.web2,
    stopped: ids.stopped,
    ipv6Only: ids.ipv6Only,
    noEndpoint: ids.noEndpoint
  }
  return {
    region,
    instanceIds,
    instanceId: ids.web1,
    endpointId: endpoint,
    endpointIds: inventory.endpoints.map(e => e.endpointId),
    dnsName,
    caFile: tls.caFile,
    ca: tls.ca,
    relay,
    inventory,
    knobs,
    denyEc2Actions,
    counters: server.counters,
    events: server.events,
    env: {
      AWS_ENDPOINT_URL_EC2: opts.awsServer.url,
      AWS_REGION: region,
      NODE_EXTRA_CA_CERTS: tls.caFile
    },
    stop: async () => {
      await relay?.close()
      await server.close()
      await tls.remove()
    }
  }
}
