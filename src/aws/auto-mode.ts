/**
 * `mode: auto` for one target, as a pure decision over facts the caller gathered:
 * host names mean nlb; else eice when the instance's VPC has a usable EC2 Instance Connect Endpoint;
 * else ssm when DescribeInstanceInformation says the instance is managed and Online; else a one-line
 * error listing what was checked and what is missing.
 */

export type ResolvedMode = 'nlb' | 'eice' | 'ssm'

export interface AutoModeFacts {
  /** The target is a host name or address (`host[:port]`), not an instance. */
  isHost: boolean
  /** How the user wrote the target (for messages); defaults to the instance id. */
  target?: string
  /** From DescribeInstances; absent for hosts, and for `mi-` managed nodes that are not EC2 instances. */
  instance?: { instanceId: string; vpcId?: string; subnetId?: string }
  /** DescribeInstanceConnectEndpoints found a usable endpoint for the VPC (undefined: not checked). */
  usableEndpoint?: boolean
  /** The endpoint found, for the reason text. */
  endpointId?: string
  /** Why the endpoint lookup could not be done (e.g. AccessDenied on ec2:DescribeInstanceConnectEndpoints). */
  endpointCheckError?: string
  /** From ssm:DescribeInstanceInformation (undefined: not checked). */
  ssmManagedOnline?: { managed: boolean; pingStatus?: string }
  /** Why the Systems Manager lookup could not be done. */
  ssmCheckError?: string
}

export type AutoModeDecision = { mode: ResolvedMode; reason: string } | { error: string }

function endpointFinding(f: AutoModeFacts, vpc: string | undefined): string {
  if (!vpc) return 'EC2 Instance Connect Endpoint: not applicable (no VPC known for it)'
  if (f.endpointCheckError)
    return `EC2 Instance Connect Endpoint in ${vpc}: could not check (${f.endpointCheckError})`
  if (f.usableEndpoint === undefined) return `EC2 Instance Connect Endpoint in ${vpc}: not checked`
  return `EC2 Instance Connect Endpoint in ${vpc}: none usable (create one in that VPC, or set eice-endpoint-id)`
}

function ssmFinding(f: AutoModeFacts): string {
  if (f.ssmCheckError) return `Systems Manager: could not check (${f.ssmCheckError})`
  const s = f.ssmManagedOnline
  if (!s) return 'Systems Manager: not checked'
  if (!s.managed) {
    return 'Systems Manager: not a managed node (run the SSM agent and give the instance a role with AmazonSSMManagedInstanceCore)'
  }
  return `Systems Manager: managed but its agent is ${s.pingStatus || 'not Online'} (start the SSM agent; it must reach the SSM endpoints)`
}

export function chooseMode(facts: AutoModeFacts): AutoModeDecision {
  if (facts.isHost) return { mode: 'nlb', reason: 'the target is a host name' }
  const id = facts.instance?.instanceId
  const label = facts.target ?? id ?? '(unknown target)'
  if (!id) {
    return {
      error: `mode: auto cannot choose a path for ${label}: it is neither a host name nor an instance that was found; check the target`
    }
  }
  const vpc = facts.instance?.vpcId
  if (vpc && facts.usableEndpoint === true) {
    return {
      mode: 'eice',
      reason: `${facts.endpointId ? `endpoint ${facts.endpointId}` : 'an EC2 Instance Connect Endpoint'} serves ${vpc}`
    }
  }
  const ssm = facts.ssmManagedOnline
  if (ssm?.managed && (ssm.pingStatus ?? '').toLowerCase() === 'online') {
    return { mode: 'ssm', reason: `${id} is managed by Systems Manager and Online` }
  }
  return {
    error:
      `mode: auto found no path to ${label === id ? id : `${label} (${id})`}: checked ${endpointFinding(facts, vpc)}; ` +
      `checked ${ssmFinding(facts)}; fix one of these, or set mode (and for nlb give a host name as the target)`
  }
}
