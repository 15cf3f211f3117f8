// What a client that streams the answers to its message (POST /api/v1/messages?wait_ms=N&stream=true) asks of
// the node beyond a plain send: to hear of the stamped ids before any reply, and of each reply as it arrives.
import type { ExpectOptions } from '../messaging/client-inbox.ts';
import type { SendOptions } from './services.ts';

export interface SentIds {
  message_id: string;
  conversation_id: string;
}

export interface StreamingSendOptions extends SendOptions, ExpectOptions {
  /** Called once the message is stamped, before it is routed: so before any reply, even one made at once. */
  onSent?: (ids: SentIds) => void;
}
