// A member as the layers above see it (a snapshot; changing it changes nothing).
import type { NodeState, Vsn } from './messages.ts';

export interface Member {
  name: string;
  address: string;
  port: number;
  meta: Uint8Array;
  state: NodeState;
  incarnation: number;
  vsn: Vsn;
}
