import type { IncomingMessage } from 'node:http'
import { TransientError, UserError } from '../../errors.js'

/** What an error message needs to know about the tunnel being opened. */
export interface TunnelFacts {
  instanceId: string
  endpointId: string
  endpointArn?: string
  endpointSecurityGroups: string[]
  dnsName: string
  address: string
  port: number
  maxTunnelDuration: number
}

const where = (f: TunnelFacts) => `EC2 Instance Connect Endpoint ${f.endpointId}`

/** Read a rejected upgrade's body (bounded in size and time). */
export function readBody(res: IncomingMessage, limit = 16 * 1024, timeoutMs = 5000): Promise<string> {
  return new Promise(resolve => {
    const parts: Buffer[] = []
    let size = 0
    const done = () => {
      clearTimeout(timer)
      res.destroy()
      resolve(Buffer.concat(parts).toString('utf8'))
    }
    const timer = setTimeout(done, timeoutMs)
    res.on('data', (d: Buffer) => {
      if (size < limit) parts.push(d.subarray(0, limit - size))
      size += d.length
    })
    res.once('end', done)
    res.once('error', done)
  })
}

/** A rejected upgrade (`{"ErrorCode","Message"}` with a non-101 status) as a one-line error. */
export function upgradeRejected(
  f: TunnelFacts,
  status: number,
  body: string,
  requestId: string | undefined
): Error {
  let code = ''
  let message = ''
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>
    code = String(parsed.ErrorCode ?? parsed.__type ?? parsed.code ?? '')
    message = String(parsed.Message ?? parsed.message ?? '')
  } catch {
    message = body.slice(0, 300)
  }
  message = message.replace(/\s+/g, ' ').trim()
  const detail = `HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}${requestId ? `; request id ${requestId}` : ''}`
  const head = `${where(f)} refused the tunnel to ${f.instanceId} (${detail})`
  if (code === 'AccessDeniedException' || (!code && status === 403)) {
    const clock = /expired|not yet current|signature/i.test(message)
      ? " If the message is about the signature's time, fix the runner's clock (NTP)."
      : ''
    const resource = f.endpointArn ?? `arn:aws:ec2:REGION:ACCOUNT:instance-connect-endpoint/${f.endpointId}`
    return new UserError(
      `${head}: the credentials need ec2-instance-connect:OpenTunnel on ${resource}, and any policy conditions must allow remotePort ${f.port}, privateIpAddress ${f.address} and maxTunnelDuration ${f.maxTunnelDuration}.${clock}`
    )
  }
  if (code === 'InvalidParameter' && (/remoteport/i.test(message) || (f.port !== 22 && f.port !== 3389))) {
    return new UserError(
      `${head}: EICE only tunnels to port 22 or 3389; set 'port' to 22 and have sshd listen on it.`
    )
  }
  if (code === 'ThrottlingException' || status === 429) {
    return new TransientError(
      `${head}: the endpoint is at its limit of 20 open connections (shared by everyone using it); retrying later.`
    )
  }
  if (status >= 500) return new TransientError(`${head}: a service-side failure; retrying.`)
  return new UserError(`${head}.`)
}

/** The tunnel closed with a code other than 1000: "Unable to connect to target" names the missing rule. */
export function tunnelClosed(f: TunnelFacts, code: number, reason: string): Error {
  if (/unable to connect to target/i.test(reason)) {
    const groups = f.endpointSecurityGroups.length
      ? f.endpointSecurityGroups.join(', ')
      : "the endpoint's security group"
    return new TransientError(
      `${where(f)} could not reach ${f.instanceId} at ${f.address}:${f.port} ("${reason}", close code ${code}): the instance's security group must allow inbound TCP ${f.port} from ${groups}, that group must allow outbound TCP ${f.port} to the instance, and sshd must be running.`
    )
  }
  return new TransientError(
    `${where(f)} closed the tunnel to ${f.instanceId} (close code ${code}${reason ? `: ${reason}` : ''}).`
  )
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID'
])

/** A failure before any HTTP answer (DNS, TCP, TLS, handshake timeout). */
export function connectFailed(f: TunnelFacts, err: Error & { code?: string }): Error {
  const head = `Cannot reach ${where(f)} at ${f.dnsName}`
  if (err.code && TLS_TRUST_CODES.has(err.code)) {
    return new UserError(
      `${head}: its TLS certificate is not trusted (${err.code}); behind a TLS-inspecting proxy, point NODE_EXTRA_CA_CERTS at the proxy's CA file.`
    )
  }
  return new TransientError(
    `${head}: ${err.message}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}`,
    { cause: err }
  )
}
