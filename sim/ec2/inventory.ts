/**
 * What the simulated EC2 account holds: instances and EC2 Instance Connect Endpoints. Tests and the
 * sandbox mutate these arrays freely (stop an instance, add a second endpoint); the query API reads
 * them on every call.
 */

export type InstanceStateName =
  'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped'

export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80
}

export type EndpointState =
  | 'create-in-progress'
  | 'create-complete'
  | 'create-failed'
  | 'delete-in-progress'
  | 'delete-complete'
  | 'delete-failed'
  | 'update-in-progress'
  | 'update-complete'
  | 'update-failed'

export interface SimInstance {
  instanceId: string
  state: InstanceStateName
  privateIpAddress?: string
  ipv6Address?: string
  vpcId: string
  subnetId: string
  availabilityZone: string
  securityGroupIds: string[]
  tags: Record<string, string>
}

export interface SimEndpoint {
  endpointId: string
  state: EndpointState
  vpcId: string
  subnetId: string
  availabilityZone: string
  securityGroupIds: string[]
  /** What DescribeInstanceConnectEndpoints returns as DnsName (the simulator: `127.0.0.1:PORT`). */
  dnsName: string
  fipsDnsName?: string
  ipAddressType: 'ipv4' | 'dualstack' | 'ipv6'
  preserveClientIp: boolean
  tags: Record<string, string>
}

/** One permission of a security group: protocol ('tcp', 'udp', 'icmp' or '-1' for all) and a port range. */
export interface SimSgRule {
  protocol: string
  fromPort?: number
  toPort?: number
  /** Peers: source groups (ingress) or destination groups (egress), and CIDR ranges. */
  groupIds?: string[]
  cidrs?: string[]
  ipv6Cidrs?: string[]
}

export interface SimSecurityGroup {
  groupId: string
  groupName: string
  vpcId: string
  description: string
  ingress: SimSgRule[]
  egress: SimSgRule[]
}

export interface Ec2Inventory {
  region: string
  accountId: string
  instances: SimInstance[]
  endpoints: SimEndpoint[]
  /** For DescribeSecurityGroups (ec2-push doctor); absent means none. */
  securityGroups?: SimSecurityGroup[]
}

/** Well-formed ids the way EC2 writes them (17 lower-case hex digits). */
export function simInstanceId(n: number): string {
  return 'i-0e1ce' + n.toString(16).padStart(12, '0')
}
export function simEndpointId(n: number): string {
  return 'eice-0e1ce' + n.toString(16).padStart(12, '0')
}

export interface DefaultInventoryIds {
  /** Running, subnet A of the VPC with the endpoint, tags Name=web-1 Role=web. */
  web1: string
  /** Running, subnet B of the same VPC (another AZ), tags Name=web-2 Role=web. */
  web2: string
  /** Stopped, same VPC, tag Role=web. */
  stopped: string
  /** Running, IPv6 only, same VPC (needs a dualstack/ipv6 endpoint). */
  ipv6Only: string
  /** Running, in a VPC without any endpoint, tag Role=worker. */
  noEndpoint: string
  /** The endpoint of the first VPC (subnet A, ipv4, create-complete). */
  endpoint: string
  vpcId: string
  otherVpcId: string
}

/**
 * The default account: one VPC with an endpoint and four instances, one VPC without an endpoint.
 * `dnsName` is the address of the simulator's TLS WebSocket endpoint.
 */
export function defaultInventory(opts: { region: string; accountId: string; dnsName: string }): {
  inventory: Ec2Inventory
  ids: DefaultInventoryIds
} {
  const az = (s: string) => opts.region + s
  const ids: DefaultInventoryIds = {
    web1: simInstanceId(1),
    web2: simInstanceId(2),
    stopped: simInstanceId(3),
    ipv6Only: simInstanceId(4),
    noEndpoint: simInstanceId(5),
    endpoint: simEndpointId(1),
    vpcId: 'vpc-0e1ce000000000001',
    otherVpcId: 'vpc-0e1ce000000000002'
  }
  const subnetA = 'subnet-0e1ce00000000000a'
  const subnetB = 'subnet-0e1ce00000000000b'
  const instanceSg = 'sg-0e1ce000000000001'
  const endpointSg = 'sg-0e1ce0000000000e1'
  const inventory: Ec2Inventory = {
    region: opts.region,
    accountId: opts.accountId,
    instances: [
      {
        instanceId: ids.web1,
        state: 'running',
        privateIpAddress: '10.0.1.10',
        vpcId: ids.vpcId,
        subnetId: subnetA,
        availabilityZone: az('a'),
        securityGroupIds: [instanceSg],
        tags: { Name: 'web-1', Role: 'web' }
      },
      {
        instanceId: ids.web2,
        state: 'running',
        privateIpAddress: '10.0.2.20',
        ipv6Address: '2600:1f10:4f8e:db02::20',
        vpcId: ids.vpcId,
        subnetId: subnetB,
        availabilityZone: az('b'),
        securityGroupIds: [instanceSg],
        tags: { Name: 'web-2', Role: 'web' }
      },
      {
        instanceId: ids.stopped,
        state: 'stopped',
        privateIpAddress: '10.0.1.30',
        vpcId: ids.vpcId,
        subnetId: subnetA,
        availabilityZone: az('a'),
        securityGroupIds: [instanceSg],
        tags: { Name: 'web-old', Role: 'web' }
      },
      {
        instanceId: ids.ipv6Only,
        state: 'running',
        ipv6Address: '2600:1f10:4f8e:db01::40',
        vpcId: ids.vpcId,
        subnetId: subnetA,
        availabilityZone: az('a'),
        securityGroupIds: [instanceSg],
        tags: { Name: 'v6-only' }
      },
      {
        instanceId: ids.noEndpoint,
        state: 'running',
        privateIpAddress: '10.1.1.50',
        vpcId: ids.otherVpcId,
        subnetId: 'subnet-0e1ce00000000000c',
        availabilityZone: az('a'),
        securityGroupIds: ['sg-0e1ce000000000002'],
        tags: { Name: 'worker-1', Role: 'worker' }
      }
    ],
    endpoints: [
      {
        endpointId: ids.endpoint,
        state: 'create-complete',
        vpcId: ids.vpcId,
        subnetId: subnetA,
        availabilityZone: az('a'),
        securityGroupIds: [endpointSg],
        dnsName: opts.dnsName,
        ipAddressType: 'ipv4',
        preserveClientIp: false,
        tags: {}
      }
    ],
    // As the EICE documentation advises: the instances admit 22 from the endpoint's group, which may send to them.
    securityGroups: [
      {
        groupId: instanceSg,
        groupName: 'instances',
        vpcId: ids.vpcId,
        description: 'web instances',
        ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, groupIds: [endpointSg] }],
        egress: [{ protocol: '-1', cidrs: ['0.0.0.0/0'] }]
      },
      {
        groupId: endpointSg,
        groupName: 'eice',
        vpcId: ids.vpcId,
        description: 'EC2 Instance Connect Endpoint',
        ingress: [],
        egress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, groupIds: [instanceSg] }]
      },
      {
        groupId: 'sg-0e1ce000000000002',
        groupName: 'workers',
        vpcId: ids.otherVpcId,
        description: 'workers',
        ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['10.1.0.0/16'] }],
        egress: [{ protocol: '-1', cidrs: ['0.0.0.0/0'] }]
      }
    ]
  }
  return { inventory, ids }
}
