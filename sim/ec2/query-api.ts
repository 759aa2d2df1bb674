import type { AwsSimServer, SimRequest, SimResponse } from '../aws/server.js'
import { verifyAuthorizationHeader, type SecretTable, type VerifyFailure } from '../sigv4-verify.js'
import {
  INSTANCE_STATE_CODES,
  type Ec2Inventory,
  type SimEndpoint,
  type SimInstance,
  type SimSecurityGroup,
  type SimSgRule
} from './inventory.js'
import { el, esc, list, tagSet, xmlError, xmlOk } from './xml.js'

/**
 * The EC2 query API (form-encoded POST, XML answers) for the calls the action makes:
 * DescribeInstances and DescribeInstanceConnectEndpoints, with id lists, filters and paging, plus
 * DescribeSecurityGroups (for ec2-push doctor). `DryRun=true` answers DryRunOperation when allowed.
 */

export interface Ec2ApiOptions {
  inventory: Ec2Inventory
  /** Keys whose signatures are accepted (when the shared server has no authenticator of its own). */
  secrets: SecretTable
  /** Actions answered with UnauthorizedOperation (an IAM policy without them). */
  denyActions?: Set<string>
  /** Page size for DescribeInstanceConnectEndpoints when the caller sends no MaxResults. */
  endpointPageSize?: number
  now?: () => number
}

export const EC2_ACTIONS = ['DescribeInstances', 'DescribeInstanceConnectEndpoints', 'DescribeSecurityGroups']

const AUTH_ERRORS: Record<VerifyFailure, [number, string]> = {
  missing: [401, 'AuthFailure'],
  malformed: [400, 'IncompleteSignature'],
  'unknown-key': [401, 'AuthFailure'],
  'bad-scope': [400, 'SignatureDoesNotMatch'],
  'bad-token': [401, 'AuthFailure'],
  'expired-token': [400, 'RequestExpired'],
  mismatch: [403, 'SignatureDoesNotMatch'],
  expired: [400, 'RequestExpired'],
  future: [400, 'RequestExpired']
}

export function registerEc2Api(server: AwsSimServer, opts: Ec2ApiOptions): void {
  server.addQueryActions(EC2_ACTIONS, req => handle(req, opts))
}

function handle(req: SimRequest, opts: Ec2ApiOptions): SimResponse {
  // The shared server's authenticator (when installed) has already checked and named the key.
  if (!req.accessKeyId) {
    const v = verifyAuthorizationHeader({
      method: req.method,
      pathAndQuery: req.path,
      headers: req.headers,
      body: req.body,
      service: 'ec2',
      region: opts.inventory.region,
      secrets: opts.secrets,
      now: (opts.now ?? Date.now)()
    })
    if (!v.ok) {
      const [status, code] = AUTH_ERRORS[v.failure]
      const message =
        v.failure === 'missing' || v.failure === 'unknown-key'
          ? 'AWS was not able to validate the provided access credentials'
          : v.message
      return xmlError(status, code, message)
    }
  }
  const form = req.form ?? new URLSearchParams()
  if (opts.denyActions?.has(req.operation)) {
    return xmlError(
      403,
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. User: arn:aws:iam::${opts.inventory.accountId}:user/sandbox is not authorized to perform: ec2:${req.operation} because no identity-based policy allows the ec2:${req.operation} action`
    )
  }
  // As EC2: a permitted dry run fails with DryRunOperation (412), a forbidden one as above.
  if (form.get('DryRun') === 'true') {
    return xmlError(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.')
  }
  try {
    if (req.operation === 'DescribeInstances') return describeInstances(form, opts)
    if (req.operation === 'DescribeSecurityGroups') return describeSecurityGroups(form, opts)
    return describeEndpoints(form, opts)
  } catch (err) {
    if (err instanceof Ec2Error) return xmlError(400, err.code, err.message)
    throw err
  }
}

class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

/** `Prefix.1`, `Prefix.2`, ... in order. */
function indexed(form: URLSearchParams, prefix: string): string[] {
  const out: string[] = []
  for (let i = 1; form.has(`${prefix}.${i}`); i++) out.push(form.get(`${prefix}.${i}`)!)
  return out
}

interface Filter {
  name: string
  values: string[]
}

function filters(form: URLSearchParams): Filter[] {
  const out: Filter[] = []
  for (let i = 1; form.has(`Filter.${i}.Name`); i++)
    out.push({ name: form.get(`Filter.${i}.Name`)!, values: indexed(form, `Filter.${i}.Value`) })
  return out
}

/** EC2 filter values accept `*` and `?` wildcards. */
function matches(value: string | undefined, patterns: string[]): boolean {
  if (value === undefined) return false
  return patterns.some(p =>
    new RegExp(
      '^' +
        p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.') +
        '$'
    ).test(value)
  )
}

function tagFilter(f: Filter, tags: Record<string, string>): boolean | undefined {
  if (f.name.startsWith('tag:')) return matches(tags[f.name.slice(4)], f.values)
  if (f.name === 'tag-key') return Object.keys(tags).some(k => matches(k, f.values))
  if (f.name === 'tag-value') return Object.values(tags).some(v => matches(v, f.values))
  return undefined
}

/** The fields each Describe* call filters on (anything else is refused, as EC2 refuses it). */
type FilterFields<T> = Record<string, (item: T) => string | undefined>

const INSTANCE_FILTERS: FilterFields<SimInstance> = {
  'instance-id': i => i.instanceId,
  'instance-state-name': i => i.state,
  'instance-state-code': i => String(INSTANCE_STATE_CODES[i.state]),
  'vpc-id': i => i.vpcId,
  'subnet-id': i => i.subnetId,
  'private-ip-address': i => i.privateIpAddress,
  'availability-zone': i => i.availabilityZone
}

const ENDPOINT_FILTERS: FilterFields<SimEndpoint> = {
  'instance-connect-endpoint-id': e => e.endpointId,
  state: e => e.state,
  'vpc-id': e => e.vpcId,
  'subnet-id': e => e.subnetId
}

const SECURITY_GROUP_FILTERS: FilterFields<SimSecurityGroup> = {
  'group-id': g => g.groupId,
  'group-name': g => g.groupName,
  'vpc-id': g => g.vpcId
}

/** Does `item` pass filter `f`? Tag filters apply where the item has tags. */
function passes<T>(f: Filter, item: T, fields: FilterFields<T>, tags?: Record<string, string>): boolean {
  const byTag = tags ? tagFilter(f, tags) : undefined
  if (byTag !== undefined) return byTag
  const field = Object.hasOwn(fields, f.name) ? fields[f.name] : undefined
  if (!field) throw new Ec2Error('InvalidParameterValue', `The filter '${f.name}' is invalid`)
  return matches(field(item), f.values)
}

function page<T>(
  items: T[],
  form: URLSearchParams,
  dflt: number,
  min: number,
  max: number
): { items: T[]; next?: string } {
  const raw = form.get('MaxResults')
  const size = raw === null ? dflt : Number(raw)
  if (!Number.isInteger(size) || size < min || size > max) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value ( ${raw} ) for parameter maxResults is invalid. Expecting a value between ${min} and ${max}.`
    )
  }
  const token = form.get('NextToken')
  let start = 0
  if (token) {
    const m = /^sim-(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'))
    if (!m) throw new Ec2Error('InvalidPaginationToken', `The pagination token is invalid`)
    start = Number(m[1])
  }
  const end = start + size
  return {
    items: items.slice(start, end),
    next: end < items.length ? Buffer.from(`sim-${end}`).toString('base64') : undefined
  }
}

function describeInstances(form: URLSearchParams, opts: Ec2ApiOptions): SimResponse {
  const ids = indexed(form, 'InstanceId')
  if (ids.length && form.has('MaxResults')) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults'
    )
  }
  const malformed = ids.filter(id => !/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id))
  if (malformed.length) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed[0]}"`)
  const all = opts.inventory.instances
  const missing = ids.filter(id => !all.some(i => i.instanceId === id))
  if (missing.length === 1)
    throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`)
  if (missing.length > 1)
    throw new Ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`)
  const fs = filters(form)
  const selected = all.filter(
    i => (!ids.length || ids.includes(i.instanceId)) && fs.every(f => passes(f, i, INSTANCE_FILTERS, i.tags))
  )
  const { items, next } = ids.length
    ? { items: selected, next: undefined }
    : page(selected, form, 1000, 5, 1000)
  const reservations = items.map(
    i =>
      el('reservationId', 'r-' + i.instanceId.slice(2)) +
      el('ownerId', opts.inventory.accountId) +
      '<groupSet/>' +
      list('instancesSet', [instanceXml(i)])
  )
  return xmlOk('DescribeInstances', list('reservationSet', reservations) + el('nextToken', next))
}

function instanceXml(i: SimInstance): string {
  return (
    el('instanceId', i.instanceId) +
    el('imageId', 'ami-0e1ce000000000001') +
    `<instanceState>${el('code', INSTANCE_STATE_CODES[i.state])}${el('name', i.state)}</instanceState>` +
    el(
      'privateDnsName',
      i.privateIpAddress
        ? `ip-${i.privateIpAddress.replace(/\./g, '-')}.${regionOf(i)}.compute.internal`
        : undefined
    ) +
    el('instanceType', 't3.micro') +
    `<placement>${el('availabilityZone', i.availabilityZone)}${el('tenancy', 'default')}</placement>` +
    el('subnetId', i.subnetId) +
    el('vpcId', i.vpcId) +
    el('privateIpAddress', i.privateIpAddress) +
    el('ipv6Address', i.ipv6Address) +
    list(
      'groupSet',
      i.securityGroupIds.map(
        g => el('groupId', g) + el('groupName', g === i.securityGroupIds[0] ? 'instances' : g)
      )
    ) +
    tagSet(i.tags)
  )
}

function regionOf(i: SimInstance): string {
  return i.availabilityZone.replace(/[a-z]$/, '')
}

const ENDPOINT_ID = /^eice-[0-9a-f]{17}$/

function describeEndpoints(form: URLSearchParams, opts: Ec2ApiOptions): SimResponse {
  const ids = indexed(form, 'InstanceConnectEndpointId')
  const malformed = ids.filter(id => !ENDPOINT_ID.test(id))
  if (malformed.length)
    throw new Ec2Error('InvalidInstanceConnectEndpointId.Malformed', `Invalid id: "${malformed[0]}"`)
  const all = opts.inventory.endpoints
  const missing = ids.filter(id => !all.some(e => e.endpointId === id))
  if (missing.length)
    throw new Ec2Error(
      'InvalidInstanceConnectEndpointId.NotFound',
      `The instanceConnectEndpoint ID '${missing[0]}' does not exist`
    )
  const fs = filters(form)
  const selected = all.filter(
    e => (!ids.length || ids.includes(e.endpointId)) && fs.every(f => passes(f, e, ENDPOINT_FILTERS, e.tags))
  )
  const { items, next } = page(selected, form, opts.endpointPageSize ?? 50, 1, 50)
  const a = opts.inventory
  const xml = items.map(
    e =>
      el('ownerId', a.accountId) +
      el('instanceConnectEndpointId', e.endpointId) +
      el(
        'instanceConnectEndpointArn',
        `arn:aws:ec2:${a.region}:${a.accountId}:instance-connect-endpoint/${e.endpointId}`
      ) +
      el('state', e.state) +
      el('stateMessage', '') +
      el('dnsName', e.dnsName) +
      el('fipsDnsName', e.fipsDnsName) +
      list('networkInterfaceIdSet', ['eni-' + e.endpointId.slice(5)]) +
      el('vpcId', e.vpcId) +
      el('availabilityZone', e.availabilityZone) +
      el('createdAt', '2026-01-01T00:00:00.000Z') +
      el('subnetId', e.subnetId) +
      el('preserveClientIp', e.preserveClientIp) +
      list('securityGroupIdSet', e.securityGroupIds.map(esc)) +
      el('ipAddressType', e.ipAddressType) +
      tagSet(e.tags)
  )
  return xmlOk(
    'DescribeInstanceConnectEndpoints',
    list('instanceConnectEndpointSet', xml) + el('nextToken', next)
  )
}

function describeSecurityGroups(form: URLSearchParams, opts: Ec2ApiOptions): SimResponse {
  const ids = indexed(form, 'GroupId')
  const malformed = ids.filter(id => !/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id))
  if (malformed.length) throw new Ec2Error('InvalidGroupId.Malformed', `Invalid id: "${malformed[0]}"`)
  const all = opts.inventory.securityGroups ?? []
  const missing = ids.find(id => !all.some(g => g.groupId === id))
  if (missing) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${missing}' does not exist`)
  const fs = filters(form)
  const selected = all.filter(
    g => (!ids.length || ids.includes(g.groupId)) && fs.every(f => passes(f, g, SECURITY_GROUP_FILTERS))
  )
  const a = opts.inventory
  const xml = selected.map(
    g =>
      el('ownerId', a.accountId) +
      el('groupId', g.groupId) +
      el('groupName', g.groupName) +
      el('groupDescription', g.description) +
      el('vpcId', g.vpcId) +
      list(
        'ipPermissions',
        g.ingress.map(r => ruleXml(r, a.accountId))
      ) +
      list(
        'ipPermissionsEgress',
        g.egress.map(r => ruleXml(r, a.accountId))
      ) +
      tagSet({})
  )
  return xmlOk('DescribeSecurityGroups', list('securityGroupInfo', xml))
}

function ruleXml(r: SimSgRule, accountId: string): string {
  return (
    el('ipProtocol', r.protocol) +
    el('fromPort', r.protocol === '-1' ? undefined : r.fromPort) +
    el('toPort', r.protocol === '-1' ? undefined : r.toPort) +
    list(
      'groups',
      (r.groupIds ?? []).map(g => el('userId', accountId) + el('groupId', g))
    ) +
    list(
      'ipRanges',
      (r.cidrs ?? []).map(c => el('cidrIp', c))
    ) +
    list(
      'ipv6Ranges',
      (r.ipv6Cidrs ?? []).map(c => el('cidrIpv6', c))
    ) +
    '<prefixListIds/>'
  )
}
