import {
  paginateDescribeInstanceConnectEndpoints,
  type Filter,
  type Ec2InstanceConnectEndpoint as InstanceConnectEndpoint
} from '@aws-sdk/client-ec2'
import type { AwsContext } from '../../aws/credentials.js'
import { awsErrorCode, awsErrorMessage, ec2ClientFor, MAX_PAGES } from '../../aws/ec2.js'
import type { InstanceInfo } from '../../aws/instances.js'
import { TransientError, UserError } from '../../errors.js'

/** States in which an endpoint carries tunnels (AWS CLI >= 2.30.6: an endpoint being modified keeps serving). */
export const USABLE_ENDPOINT_STATES = [
  'create-complete',
  'update-in-progress',
  'update-failed',
  'update-complete'
]

export interface EndpointInfo {
  endpointId: string
  /** arn:aws:ec2:REGION:ACCOUNT:instance-connect-endpoint/ID (the resource IAM's OpenTunnel grant names). */
  arn?: string
  /** The host (and, for the simulator, `:port`) to open `wss://.../openTunnel` on. */
  dnsName: string
  state: string
  vpcId: string
  subnetId: string
  availabilityZone?: string
  securityGroupIds: string[]
  ipAddressType: 'ipv4' | 'dualstack' | 'ipv6'
}

/**
 * Find the endpoint for an instance, as the AWS CLI does: the given id (in a usable state), else the
 * instance VPC's usable endpoints, preferring one in the instance's own subnet, else the first.
 */
export async function findEndpoint(
  instance: InstanceInfo,
  aws: AwsContext,
  endpointId?: string
): Promise<EndpointInfo> {
  const states: Filter = { Name: 'state', Values: USABLE_ENDPOINT_STATES }
  if (endpointId) {
    const [first] = await listEndpoints(
      aws,
      { InstanceConnectEndpointIds: [endpointId], Filters: [states] },
      endpointId,
      () => false
    )
    if (!first) {
      throw new UserError(
        `EC2 Instance Connect Endpoint ${endpointId} is not available (not found in ${aws.region || 'this region'} or not in state ${USABLE_ENDPOINT_STATES.join('/')}): check 'eice-endpoint-id' and the endpoint's state.`
      )
    }
    return toInfo(first)
  }
  const sameSubnet = (e: InstanceConnectEndpoint) => e.SubnetId === instance.subnetId
  const found = await listEndpoints(
    aws,
    { Filters: [states, { Name: 'vpc-id', Values: [instance.vpcId] }] },
    instance.vpcId,
    sameSubnet
  )
  const chosen = found.find(sameSubnet) ?? found[0]
  if (!chosen) {
    throw new UserError(
      `No usable EC2 Instance Connect Endpoint in ${instance.vpcId} (the VPC of ${instance.instanceId}): create one in that VPC (aws ec2 create-instance-connect-endpoint --subnet-id ${instance.subnetId}), pass 'eice-endpoint-id', or use mode ssm.`
    )
  }
  return toInfo(chosen)
}

/** Page through DescribeInstanceConnectEndpoints, stopping early once `stop` matches an item. */
async function listEndpoints(
  aws: AwsContext,
  input: { InstanceConnectEndpointIds?: string[]; Filters: Filter[] },
  what: string,
  stop: (e: InstanceConnectEndpoint) => boolean
): Promise<InstanceConnectEndpoint[]> {
  const out: InstanceConnectEndpoint[] = []
  let pages = 0
  try {
    for await (const page of paginateDescribeInstanceConnectEndpoints({ client: ec2ClientFor(aws) }, input)) {
      const items = page.InstanceConnectEndpoints ?? []
      out.push(...items)
      if (items.some(stop) || ++pages >= MAX_PAGES) break
    }
  } catch (err) {
    throw mapEndpointError(err, what)
  }
  return out
}

function toInfo(e: InstanceConnectEndpoint): EndpointInfo {
  const fips = /^(1|true)$/i.test(process.env.AWS_USE_FIPS_ENDPOINT ?? '')
  const dnsName = fips ? e.FipsDnsName : e.DnsName
  if (!dnsName) {
    throw new UserError(
      fips
        ? `EC2 Instance Connect Endpoint ${e.InstanceConnectEndpointId} has no FIPS DNS name, but AWS_USE_FIPS_ENDPOINT is set: unset it or use an endpoint in a FIPS Region.`
        : `EC2 Instance Connect Endpoint ${e.InstanceConnectEndpointId} has no DNS name yet: wait until it is create-complete.`
    )
  }
  const type = e.IpAddressType
  return {
    endpointId: e.InstanceConnectEndpointId ?? '',
    arn: e.InstanceConnectEndpointArn,
    dnsName,
    state: e.State ?? '',
    vpcId: e.VpcId ?? '',
    subnetId: e.SubnetId ?? '',
    availabilityZone: e.AvailabilityZone,
    securityGroupIds: e.SecurityGroupIds ?? [],
    // Endpoints created before IPv6 support carry no type: they are IPv4.
    ipAddressType: type === 'dualstack' || type === 'ipv6' ? type : 'ipv4'
  }
}

/**
 * The address the endpoint connects to: private IPv4 first, IPv6 second (as the CLI), restricted to
 * what the endpoint's IP address type can reach.
 */
export function targetAddress(instance: InstanceInfo, endpoint: EndpointInfo): string {
  const v4ok = endpoint.ipAddressType !== 'ipv6'
  const v6ok = endpoint.ipAddressType !== 'ipv4'
  if (v4ok && instance.privateIpAddress) return instance.privateIpAddress
  if (v6ok && instance.ipv6Address) return instance.ipv6Address
  if (!instance.privateIpAddress && !instance.ipv6Address) {
    throw new UserError(
      `Instance ${instance.instanceId} has no private IPv4 or IPv6 address for the EC2 Instance Connect Endpoint to connect to.`
    )
  }
  const has = instance.privateIpAddress ? 'only a private IPv4 address' : 'only an IPv6 address'
  const needs = instance.privateIpAddress ? 'ipv4 or dualstack' : 'ipv6 or dualstack'
  throw new UserError(
    `Instance ${instance.instanceId} has ${has}, but EC2 Instance Connect Endpoint ${endpoint.endpointId} is ${endpoint.ipAddressType}: use an endpoint whose IP address type is ${needs} (aws ec2 modify-instance-connect-endpoint --ip-address-type).`
  )
}

function mapEndpointError(err: unknown, what: string): Error {
  if (err instanceof UserError) return err // e.g. a proxy that refuses: its message names it
  const code = awsErrorCode(err)
  const msg = awsErrorMessage(err)
  switch (code) {
    case 'UnauthorizedOperation':
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new UserError(
        `The AWS credentials may not call ec2:DescribeInstanceConnectEndpoints (${code}): allow "ec2:DescribeInstanceConnectEndpoints" on resource "*" in the role's policy, or pass 'eice-endpoint-id'.`
      )
    case 'InvalidInstanceConnectEndpointId.NotFound':
    case 'InvalidInstanceConnectEndpointId.Malformed':
      return new UserError(
        `EC2 Instance Connect Endpoint ${what} was not found (${code}): check 'eice-endpoint-id' (eice-...) and the region.`
      )
    case 'AuthFailure':
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
      return new UserError(
        `EC2 did not accept the AWS credentials (${code}: ${msg}): check the credentials step.`
      )
    default:
      return new TransientError(
        `ec2:DescribeInstanceConnectEndpoints for ${what} failed${code ? ` (${code})` : ''}: ${msg}`,
        { cause: err }
      )
  }
}
