import type { IpPermission } from '@aws-sdk/client-ec2'

/**
 * Does a set of security-group rules let TCP `port` through to/from the given peer groups?
 * 'yes' when a rule names a peer group (or allows all traffic from one); 'maybe' when only CIDR or
 * prefix-list rules cover the port (whether they include the endpoint's address cannot be told from
 * here); 'no' when nothing covers the port at all.
 */
export interface PortVerdict {
  verdict: 'yes' | 'maybe' | 'no'
  /** The rule that decided, e.g. `tcp 22 from sg-0123` or `all traffic from 10.0.0.0/16`. */
  via?: string
}

function coversPort(r: IpPermission, port: number): boolean {
  const proto = (r.IpProtocol ?? '').toLowerCase()
  if (proto === '-1' || proto === 'all') return true
  if (proto !== 'tcp' && proto !== '6') return false
  const from = r.FromPort ?? -1
  const to = r.ToPort ?? -1
  return (from === -1 && to === -1) || (from <= port && port <= to)
}

function describeRule(r: IpPermission, peer: string, direction: 'from' | 'to'): string {
  const proto = (r.IpProtocol ?? '').toLowerCase()
  const what =
    proto === '-1' || proto === 'all'
      ? 'all traffic'
      : r.FromPort === r.ToPort
        ? `tcp ${r.FromPort}`
        : `tcp ${r.FromPort}-${r.ToPort}`
  return `${what} ${direction} ${peer}`
}

export function portAllowed(
  rules: readonly IpPermission[],
  port: number,
  peerGroupIds: readonly string[],
  direction: 'from' | 'to'
): PortVerdict {
  let maybe: string | undefined
  for (const r of rules) {
    if (!coversPort(r, port)) continue
    const group = (r.UserIdGroupPairs ?? []).find(p => p.GroupId && peerGroupIds.includes(p.GroupId))
    if (group) return { verdict: 'yes', via: describeRule(r, group.GroupId!, direction) }
    const cidr =
      r.IpRanges?.[0]?.CidrIp ??
      r.Ipv6Ranges?.[0]?.CidrIpv6 ??
      r.PrefixListIds?.[0]?.PrefixListId ??
      undefined
    if (cidr && !maybe) maybe = describeRule(r, cidr, direction)
  }
  return maybe ? { verdict: 'maybe', via: maybe } : { verdict: 'no' }
}
