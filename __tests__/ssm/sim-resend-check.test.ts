import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { encodeMessage, MessageType, PayloadType } from '../../src/tunnel/ssm/message.js'
import { startDataChannelServer, type DataChannelServer } from '../../sim/ssm/data-channel-server.js'

/**
 * The simulated service checks a resent sequence number against what was first sent under it, as a
 * strict peer would: the same MessageId and payload pass, anything else is a violation.
 */

let server: DataChannelServer
beforeAll(async () => {
  server = await startDataChannelServer()
})
afterAll(() => server.close())

it('flags a sequence number resent with another payload or MessageId, not a faithful resend', async () => {
  const session = server.createSession({
    sessionId: 's-resend',
    instanceId: 'i-0123456789abcdef0',
    document: 'AWS-StartSSHSession',
    properties: { portNumber: '22' }
  })
  const ws = new WebSocket(`${server.url}/v1/data-channel/s-resend?role=publish_subscribe`)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const heard = new Promise(resolve => ws.once('message', resolve))
  ws.send(
    JSON.stringify({
      MessageSchemaVersion: '1.0',
      RequestId: randomUUID(),
      TokenValue: session.currentToken,
      ClientId: randomUUID(),
      ClientVersion: '1.0.0.0'
    })
  )
  await heard // the agent's HandshakeRequest: the socket is attached
  const frame = (seq: number, payload: string, messageId: string) =>
    encodeMessage({
      messageType: MessageType.InputStreamData,
      sequenceNumber: seq,
      payloadType: PayloadType.Output,
      payload: Buffer.from(payload),
      messageId
    })
  const first = randomUUID()
  const second = randomUUID()
  for (const f of [
    frame(0, 'abc', first),
    frame(1, 'def', second),
    frame(0, 'abc', first), // a faithful resend
    frame(0, 'abd', first), // same id, other payload
    frame(1, 'def', randomUUID()) // same payload, other id
  ])
    ws.send(f)
  const resends = () => session.record.violations.filter(v => v.includes('resent'))
  for (let i = 0; i < 100 && resends().length < 2; i++) await new Promise(r => setTimeout(r, 20))
  expect(resends()).toEqual([
    'seq 0 resent with a different MessageId or payload',
    'seq 1 resent with a different MessageId or payload'
  ])
  ws.terminate()
})
