// The last state of members, so the departed stay listed after the membership core reaps them. Names come
// from peers, so the cap is what bounds it: at most `max` entries, the longest unchanged forgotten first (a
// live member's entry is never needed: the core lists it), and none older than `forgetAfterMs`. Kept in an
// AgeOrderedMap: a flood of new names trims the oldest on every note, which a plain Map does in O(n) once
// many entries were deleted (see age-ordered-map.ts).
import { AgeOrderedMap } from '../messaging/age-ordered-map.ts';
import type { Member } from './membership/member.ts';

export class LastSeen {
  /** In order of last change: the oldest entry is the one to forget. */
  private readonly seen = new AgeOrderedMap<string, { member: Member; at: number }>();

  constructor(
    private readonly max: number,
    private readonly forgetAfterMs: number,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  note(member: Member, now: number): void {
    this.seen.set(member.name, { member, at: now });
    if (this.seen.size > this.max) this.seen.shift();
  }

  /** The members remembered, forgetting the expired ones on the way. */
  list(now: number): Member[] {
    const out: Member[] = [];
    for (const [name, seen] of this.seen) {
      if (now - seen.at > this.forgetAfterMs) this.seen.delete(name);
      else out.push(seen.member);
    }
    return out;
  }
}
