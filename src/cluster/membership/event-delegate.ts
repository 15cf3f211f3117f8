// How the layer above hears about membership changes (memberlist event_delegate.go). Called synchronously
// from the core: keep handlers short, never throw (a throw is caught and logged).
import type { Member } from './member.ts';
import type { NodeState } from './messages.ts';

export interface EventDelegate {
  /** A member became alive (new, or back from dead/left). */
  onJoin?(member: Member): void;
  /** A member was declared dead or left on purpose (member.state tells which). */
  onLeave?(member: Member): void;
  /** An alive member changed its meta. */
  onUpdate?(member: Member): void;
  /** Any state change, suspect included (the three above are special cases). */
  onStateChange?(member: Member, previous: NodeState | undefined): void;
}
