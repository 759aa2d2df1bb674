import { DUMMY_LONG_TERM_KEY } from '../../sim/aws/credential-store.js'
import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { simEndpointId } from '../../sim/ec2/inventory.js'
import { startEiceSim, type EiceSim } from '../../sim/eice/eice-sim.js'
import type { AwsContext } from '../../src/aws/credentials.js'
import { describeTargets } from '../../src/aws/instances.js'
import type { TargetSpec } from '../../src/config.js'
import { parseTarget } from '../../src/config.js'
import { UserError } from '../../src/errors.js'
import { findEndpoint, targetAddress } from '../../src/tunnel/eice/endpoint.js'

// The real @aws-sdk/client-ec2 against the EC2 query-API simulator (XML, SigV4-checked).
let aws: AwsSimServer
let sim: EiceSim
let ctx: AwsContext
const saved = process.env.AWS_ENDPOINT_URL_EC2

beforeAll(async () => {
  aws = await startAwsSimServer()
  sim = await startEiceSim({ sshHost: '127.0.0.1', sshPort: 1, awsServer: aws, endpointPageSize: 1 })
  process.env.AWS_ENDPOINT_URL_EC2 = aws.url
  ctx = { region: sim.region, credentials: async () => ({ ...DUMMY_LONG_TERM_KEY }) }
})
afterAll(async () => {
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EC2
  else process.env.AWS_ENDPOINT_URL_EC2 = saved
  await sim?.stop()
  await aws?.close()
})

const specs = (...items: string[]): TargetSpec[] => items.map(parseTarget)

async function userError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(UserError)
  const message = (err as Error).message
  expect(message).not.toContain('\n')
  return message
}

describe('describeTargets', () => {
  test('an instance id returns its addresses, network and Name tag', async () => {
    const [web1] = await describeTargets(specs(sim.instanceIds.web1), ctx)
    expect(web1).toEqual({
      instanceId: sim.instanceIds.web1,
      state: 'running',
      privateIpAddress: '10.0.1.10',
      ipv6Address: undefined,
      vpcId: 'vpc-0e1ce000000000001',
      subnetId: 'subnet-0e1ce00000000000a',
      securityGroupIds: ['sg-0e1ce000000000001'],
      name: 'web-1',
      availabilityZone: 'us-east-1a',
      target: sim.instanceIds.web1
    })
    const signed = aws.calls.filter(c => c.operation === 'DescribeInstances')
    expect(signed.length).toBeGreaterThan(0)
    expect(String(signed[0].headers.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/ec2\/aws4_request/
    )
  })

  test('a tag expands to every running match; ids and tags are merged without duplicates', async () => {
    const found = await describeTargets(specs(sim.instanceIds.web2, 'tag:Role=web'), ctx)
    expect(found.map(i => i.instanceId)).toEqual([sim.instanceIds.web2, sim.instanceIds.web1])
    expect(found[0]).toMatchObject({ ipv6Address: '2600:1f10:4f8e:db02::20', target: sim.instanceIds.web2 })
    expect(found[1].target).toBe('tag:Role=web')
  })

  test('a tag that matches nothing, or only stopped instances, is a one-line error', async () => {
    expect(await userError(describeTargets(specs('tag:Role=nothing'), ctx))).toMatch(
      /No instance in us-east-1 has the tag Role=nothing/
    )
    sim.inventory.instances.push({
      ...sim.inventory.instances[2],
      instanceId: 'i-0e1ce0000000000ff',
      tags: { Role: 'batch' }
    })
    try {
      expect(await userError(describeTargets(specs('tag:Role=batch'), ctx))).toMatch(
        /No running instance has the tag Role=batch .*i-0e1ce0000000000ff is stopped/
      )
    } finally {
      sim.inventory.instances.pop()
    }
  })

  test('stopped and missing instances say so and what to do', async () => {
    expect(await userError(describeTargets(specs(sim.instanceIds.stopped), ctx))).toMatch(
      /is stopped: start it \(aws ec2 start-instances/
    )
    expect(await userError(describeTargets(specs('i-0123456789abcdef0'), ctx))).toBe(
      'Instance i-0123456789abcdef0 does not exist in us-east-1 for these credentials: check the instance id, the region (aws-region; instances are regional) and the AWS account the credentials belong to.'
    )
  })

  test('a hybrid (mi-) node is not looked up in EC2', async () => {
    expect(await userError(describeTargets(specs('mi-0123456789abcdef0'), ctx))).toMatch(
      /^mi-0123456789abcdef0 is a Systems Manager hybrid node \(mi-\), not an EC2 instance/
    )
  })

  test('a missing permission names ec2:DescribeInstances', async () => {
    sim.denyEc2Actions.add('DescribeInstances')
    try {
      expect(await userError(describeTargets(specs(sim.instanceIds.web1), ctx))).toMatch(
        /may not call ec2:DescribeInstances \(UnauthorizedOperation\)/
      )
    } finally {
      sim.denyEc2Actions.clear()
    }
  })

  test('the simulator refuses unsigned requests and wrong secrets with EC2 error XML', async () => {
    const unsigned = await fetch(aws.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeInstances&Version=2016-11-15'
    })
    expect(unsigned.status).toBe(401)
    expect(await unsigned.text()).toMatch(/<Response><Errors><Error><Code>AuthFailure<\/Code>.*<RequestID>/)
    const wrong: AwsContext = {
      region: sim.region,
      credentials: async () => ({
        accessKeyId: DUMMY_LONG_TERM_KEY.accessKeyId,
        secretAccessKey: 'not-the-secret'
      })
    }
    expect(await userError(describeTargets(specs(sim.instanceIds.web1), wrong))).toMatch(
      /EC2 did not accept the AWS credentials \(SignatureDoesNotMatch/
    )
  })
})

describe('findEndpoint', () => {
  const web = () => describeTargets(specs(sim.instanceIds.web2), ctx).then(r => r[0])

  test('picks the VPC endpoint and signs-ready DNS name; IPv4 first', async () => {
    const instance = await web()
    const e = await findEndpoint(instance, ctx)
    expect(e).toMatchObject({
      endpointId: sim.endpointId,
      dnsName: sim.dnsName,
      ipAddressType: 'ipv4',
      securityGroupIds: ['sg-0e1ce0000000000e1']
    })
    expect(targetAddress(instance, e)).toBe('10.0.2.20')
  })

  test('prefers an endpoint in the instance subnet, across pages (page size 1), in any usable state', async () => {
    const instance = await web()
    const extra = {
      ...sim.inventory.endpoints[0],
      endpointId: simEndpointId(2),
      subnetId: instance.subnetId,
      state: 'update-failed' as const
    }
    const deleted = { ...extra, endpointId: simEndpointId(3), state: 'delete-in-progress' as const }
    sim.inventory.endpoints.push(deleted, extra)
    try {
      expect((await findEndpoint(instance, ctx)).endpointId).toBe(extra.endpointId)
      expect((await findEndpoint(instance, ctx, sim.endpointId)).endpointId).toBe(sim.endpointId)
      expect(await userError(findEndpoint(instance, ctx, deleted.endpointId))).toMatch(/is not available/)
    } finally {
      sim.inventory.endpoints.splice(1)
    }
  })

  test('a VPC without an endpoint, and an IP type that does not fit, are one-line errors', async () => {
    const [lonely] = await describeTargets(specs(sim.instanceIds.noEndpoint), ctx)
    expect(await userError(findEndpoint(lonely, ctx))).toMatch(
      /^No usable EC2 Instance Connect Endpoint in vpc-0e1ce000000000002/
    )
    const [v6] = await describeTargets(specs(sim.instanceIds.ipv6Only), ctx)
    const e = await findEndpoint(v6, ctx)
    expect(() => targetAddress(v6, e)).toThrow(
      /has only an IPv6 address, but EC2 Instance Connect Endpoint .* is ipv4/
    )
    expect(targetAddress(v6, { ...e, ipAddressType: 'dualstack' })).toBe('2600:1f10:4f8e:db01::40')
  })

  test('an unknown endpoint id and a missing permission are one-line errors', async () => {
    const instance = await web()
    expect(await userError(findEndpoint(instance, ctx, simEndpointId(99)))).toMatch(
      /was not found \(InvalidInstanceConnectEndpointId.NotFound\)/
    )
    sim.denyEc2Actions.add('DescribeInstanceConnectEndpoints')
    try {
      expect(await userError(findEndpoint(instance, ctx))).toMatch(
        /may not call ec2:DescribeInstanceConnectEndpoints/
      )
    } finally {
      sim.denyEc2Actions.clear()
    }
  })
})
