/** The middle value (the upper middle of an even count, as bench/ssm.ts and bench/eice.ts take it). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
}
