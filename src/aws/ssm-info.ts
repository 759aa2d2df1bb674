import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm'
import type { AwsContext } from './credentials.js'
import { awsErrorCode, awsErrorMessage } from './ec2.js'
import { sdkProxyConfig } from '../net/proxy-agent.js'

export interface SsmManagedStatus {
  managed: boolean
  pingStatus?: string
  agentVersion?: string
}

/** Is the instance a Session Manager managed node, and is its agent Online? (DescribeInstanceInformation) */
export async function ssmManagedStatus(instanceId: string, aws: AwsContext): Promise<SsmManagedStatus> {
  const client = new SSMClient({ region: aws.region, credentials: aws.credentials, ...sdkProxyConfig() })
  try {
    const out = await client.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] })
    )
    const info = out.InstanceInformationList?.find(i => i.InstanceId === instanceId)
    if (!info) return { managed: false }
    return { managed: true, pingStatus: info.PingStatus, agentVersion: info.AgentVersion }
  } catch (err) {
    const code = awsErrorCode(err)
    throw new Error(
      code === 'AccessDeniedException'
        ? 'AccessDenied on ssm:DescribeInstanceInformation'
        : `${code || 'error'}: ${awsErrorMessage(err)}`
    )
  } finally {
    client.destroy()
  }
}
