/** At most `max` of the functions given to `run` are running at any time; the rest wait their turn, in order. */
export class Limit {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running >= this.max) await new Promise<void>(resolve => this.waiting.push(resolve))
    this.running++
    try {
      return await fn()
    } finally {
      this.running--
      this.waiting.shift()?.()
    }
  }
}
