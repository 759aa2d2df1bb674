import { UserError } from '../../errors.js'
import { awsErrorCode, awsErrorMessage } from '../../aws/ec2.js'

/** S3's refusals as one line each: what was refused, why, and what the runner's role needs. */
export function s3Failure(err: unknown, operation: string, bucket: string, key: string): Error {
  const code = awsErrorCode(err)
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  if (code === 'NoSuchBucket' || (operation === 'HeadObject' && status === 404))
    return new UserError(
      `S3 bucket '${bucket}' does not exist (or is in another region): create it, or fix 's3-bucket' and 'aws-region'.`
    )
  if (code === 'AccessDenied' || code === 'Forbidden' || status === 403)
    return new UserError(
      `S3 refused ${operation} on s3://${bucket}/${key} (AccessDenied): the runner's role needs s3:PutObject, s3:GetObject and s3:ListBucket on that prefix (see the README's IAM policy).`
    )
  if (code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId')
    return new UserError(
      `S3 refused the runner's credentials (${code}): check the AWS credentials this step uses.`
    )
  if (code === 'BadDigest')
    return new Error(
      `S3 refused s3://${bucket}/${key}: the bytes it received do not match their SHA-256 (BadDigest); the file changed while it was read, or the network corrupted it.`
    )
  return new Error(
    `S3 ${operation} s3://${bucket}/${key} failed: ${code ? code + ': ' : ''}${awsErrorMessage(err)}`
  )
}
