import { chooseMode, type AutoModeFacts } from '../../src/aws/auto-mode.js'

const instance = { instanceId: 'i-0123456789abcdef0', vpcId: 'vpc-0aa', subnetId: 'subnet-0bb' }
const online = { managed: true, pingStatus: 'Online' }

function errorOf(facts: AutoModeFacts): string {
  const d = chooseMode(facts)
  if (!('error' in d)) throw new Error(`expected an error, got mode ${d.mode}`)
  expect(d.error).not.toContain('\n')
  return d.error
}

test('host names mean nlb, whatever else is known', () => {
  expect(chooseMode({ isHost: true })).toEqual({ mode: 'nlb', reason: 'the target is a host name' })
  expect(
    chooseMode({ isHost: true, instance, usableEndpoint: true, ssmManagedOnline: online })
  ).toMatchObject({ mode: 'nlb' })
})

test('eice when the VPC has a usable endpoint, even if SSM would also work', () => {
  expect(
    chooseMode({
      isHost: false,
      instance,
      usableEndpoint: true,
      endpointId: 'eice-0cc',
      ssmManagedOnline: online
    })
  ).toEqual({
    mode: 'eice',
    reason: 'endpoint eice-0cc serves vpc-0aa'
  })
})

test('ssm when there is no endpoint and the instance is managed and Online', () => {
  expect(
    chooseMode({ isHost: false, instance, usableEndpoint: false, ssmManagedOnline: online })
  ).toMatchObject({ mode: 'ssm' })
  // The endpoint lookup failing (e.g. no permission) still lets ssm through.
  expect(
    chooseMode({
      isHost: false,
      instance,
      endpointCheckError: 'AccessDenied',
      ssmManagedOnline: { managed: true, pingStatus: 'online' }
    })
  ).toMatchObject({
    mode: 'ssm'
  })
  // Hybrid managed nodes (mi-) have no VPC: only ssm can serve them.
  expect(
    chooseMode({ isHost: false, instance: { instanceId: 'mi-0123456789abcdef0' }, ssmManagedOnline: online })
  ).toMatchObject({ mode: 'ssm' })
})

test('no path: the error lists both checks and what is missing', () => {
  const msg = errorOf({
    isHost: false,
    target: 'tag:Role=web',
    instance,
    usableEndpoint: false,
    ssmManagedOnline: { managed: false }
  })
  expect(msg).toMatch(/^mode: auto found no path to tag:Role=web \(i-0123456789abcdef0\): /)
  expect(msg).toContain(
    'EC2 Instance Connect Endpoint in vpc-0aa: none usable (create one in that VPC, or set eice-endpoint-id)'
  )
  expect(msg).toContain('Systems Manager: not a managed node')
  expect(msg).toContain('AmazonSSMManagedInstanceCore')
  expect(msg).toContain('set mode')
})

test('a managed instance that is not Online says which ping status it has', () => {
  const msg = errorOf({
    isHost: false,
    instance,
    usableEndpoint: false,
    ssmManagedOnline: { managed: true, pingStatus: 'ConnectionLost' }
  })
  expect(msg).toMatch(/^mode: auto found no path to i-0123456789abcdef0: /)
  expect(msg).toContain('managed but its agent is ConnectionLost')
})

test('checks that could not be made, or were not made, say so', () => {
  const msg = errorOf({
    isHost: false,
    instance,
    endpointCheckError: 'AccessDenied on ec2:DescribeInstanceConnectEndpoints',
    ssmCheckError: 'AccessDenied on ssm:DescribeInstanceInformation'
  })
  expect(msg).toContain('could not check (AccessDenied on ec2:DescribeInstanceConnectEndpoints)')
  expect(msg).toContain('could not check (AccessDenied on ssm:DescribeInstanceInformation)')
  const unchecked = errorOf({ isHost: false, instance })
  expect(unchecked).toContain('in vpc-0aa: not checked')
  expect(unchecked).toContain('Systems Manager: not checked')
  // An endpoint without a known VPC cannot be used.
  expect(
    errorOf({ isHost: false, instance: { instanceId: 'mi-0123456789abcdef0' }, usableEndpoint: true })
  ).toContain('not applicable')
})

test('a target that is neither a host nor a found instance is an error', () => {
  expect(errorOf({ isHost: false, target: 'i-0ffffffffffffffff' })).toMatch(
    /cannot choose a path for i-0ffffffffffffffff/
  )
})
