// A budget for log lines a peer can cause at will: `burst` at once, then `perSecond`, and a count of the lines
// held back, reported on the next line written. The bucket is the agents' send-rate bucket.
import { SendBucket } from '../agents/send-bucket.ts';

export class LogBudget {
  private readonly bucket: SendBucket;
  private held = 0;

  constructor(burst: number, perSecond: number, now: () => number) {
    this.bucket = new SendBucket(perSecond, burst, now);
  }

  /** undefined: hold this line back; else the lines held back since the last one written. */
  take(): number | undefined {
    if (!this.bucket.take()) {
      this.held += 1;
      return undefined;
    }
    const held = this.held;
    this.held = 0;
    return held;
  }
}
