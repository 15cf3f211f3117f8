// A FIPA-ACL message (shared/spec/messages.md): read from the host's JSON, built by the agent, written back
// as JSON. Optional string fields use "" for "absent", so reading them never needs a null check.
import { ByteWriter } from "./json/byte-writer";
import { JsonParser, KEY_END, KEY_FAILED, KEY_OTHER } from "./json/parse";
import { writeJson } from "./json/stringify";
import { JsonValue } from "./json/value";

export namespace Performative {
  export const ACCEPT_PROPOSAL = "accept-proposal";
  export const AGREE = "agree";
  export const CANCEL = "cancel";
  export const CFP = "cfp";
  export const FAILURE = "failure";
  export const INFORM = "inform";
  export const INFORM_IF = "inform-if";
  export const INFORM_REF = "inform-ref";
  export const NOT_UNDERSTOOD = "not-understood";
  export const PROPOSE = "propose";
  export const QUERY_IF = "query-if";
  export const QUERY_REF = "query-ref";
  export const REFUSE = "refuse";
  export const REJECT_PROPOSAL = "reject-proposal";
  export const REQUEST = "request";
  export const SUBSCRIBE = "subscribe";
}

/** The envelope keys fromBytes reads, in the order of Field. */
const FIELDS: StaticArray<string> = [
  "performative", "sender", "receiver", "content", "language", "ontology", "protocol", "conversation_id",
  "reply_with", "in_reply_to", "reply_by", "message_id", "trace_context",
];
enum Field {
  Performative, Sender, Receiver, Content, Language, Ontology, Protocol, ConversationId, ReplyWith, InReplyTo,
  ReplyBy, MessageId, TraceContext,
}

/** A performative read from a message is one of these strings, not a new one, when it is one of them. */
const PERFORMATIVES: StaticArray<string> = [
  Performative.REQUEST, Performative.INFORM, Performative.QUERY_IF, Performative.QUERY_REF, Performative.AGREE,
  Performative.REFUSE, Performative.FAILURE, Performative.NOT_UNDERSTOOD, Performative.CFP, Performative.PROPOSE,
  Performative.ACCEPT_PROPOSAL, Performative.REJECT_PROPOSAL, Performative.INFORM_IF, Performative.INFORM_REF,
  Performative.SUBSCRIBE, Performative.CANCEL,
];

export class Message {
  performative: string;
  /** Set by the host on delivery; ignored by the host on send. */
  sender: string = "";
  /** Agent names or `capability:<cap>`; one entry is written as a plain string. */
  receivers: Array<string> = new Array<string>();
  /** JSON null when the message has none (see `hasContent`). */
  content: JsonValue = JsonValue.MISSING;
  hasContent: bool = false;
  language: string = "";
  ontology: string = "";
  protocol: string = "";
  conversationId: string = "";
  replyWith: string = "";
  inReplyTo: string = "";
  /** RFC 3339 deadline for replies. */
  replyBy: string = "";
  /** Set by the host; not sent. */
  messageId: string = "";
  /** W3C trace context set by the host; not sent. */
  traceContext: JsonValue = JsonValue.MISSING;

  constructor(performative: string) {
    this.performative = performative;
  }

  /** The first receiver, or "". */
  get receiver(): string {
    return this.receivers.length > 0 ? this.receivers[0] : "";
  }

  /** True for the performatives after which the sender waits for an answer (agent-abi.md). */
  expectsReply(): bool {
    const p = this.performative;
    return p == Performative.REQUEST || p == Performative.QUERY_IF || p == Performative.QUERY_REF
      || p == Performative.CFP || p == Performative.SUBSCRIBE;
  }

  /** Adds a receiver. */
  to(name: string): Message { this.receivers.push(name); return this; }
  withContent(content: JsonValue): Message { this.content = content; this.hasContent = true; return this; }
  /** Content given as JSON text; aborts (traps) on malformed text, a bug in the agent. */
  withContentJson(json: string): Message {
    const bytes = String.UTF8.encode(json);
    const parsed = new JsonParser(changetype<usize>(bytes), <usize>bytes.byteLength).parseDocument();
    if (parsed == null) abort("withContentJson: malformed JSON");
    return this.withContent(parsed!);
  }
  withLanguage(language: string): Message { this.language = language; return this; }
  withOntology(ontology: string): Message { this.ontology = ontology; return this; }
  withProtocol(protocol: string): Message { this.protocol = protocol; return this; }
  withConversationId(id: string): Message { this.conversationId = id; return this; }
  withReplyWith(id: string): Message { this.replyWith = id; return this; }
  withInReplyTo(id: string): Message { this.inReplyTo = id; return this; }
  withReplyBy(rfc3339: string): Message { this.replyBy = rfc3339; return this; }

  /** The message read from JSON; null when it is not an object with a string `performative`. */
  static fromJson(json: JsonValue): Message | null {
    if (!json.isObject()) return null;
    const performative = json.get("performative");
    if (!performative.isString()) return null;
    const msg = new Message(performative.asString());
    msg.sender = json.get("sender").asString();
    const receiver = json.get("receiver");
    if (receiver.isString()) {
      msg.receivers.push(receiver.asString());
    } else {
      for (let i = 0, n = receiver.length; i < n; i++) msg.receivers.push(receiver.at(i).asString());
    }
    if (json.has("content")) msg.withContent(json.get("content"));
    msg.language = json.get("language").asString();
    msg.ontology = json.get("ontology").asString();
    msg.protocol = json.get("protocol").asString();
    msg.conversationId = json.get("conversation_id").asString();
    msg.replyWith = json.get("reply_with").asString();
    msg.inReplyTo = json.get("in_reply_to").asString();
    msg.replyBy = json.get("reply_by").asString();
    msg.messageId = json.get("message_id").asString();
    msg.traceContext = json.get("trace_context");
    return msg;
  }

  /**
   * The message read from `len` UTF-8 JSON bytes at `ptr`; null when malformed. Reads as fromJson does (a
   * repeated key: the last one counts), but field by field, without building the object: allocations are
   * most of what an invocation of a small agent costs. Content stays unparsed until the agent reads it.
   */
  static fromBytes(ptr: usize, len: i32): Message | null {
    const p = new JsonParser(ptr, <usize>len);
    if (!p.beginObject()) return null;
    const msg = new Message("");
    let performative: string | null = null;
    while (true) {
      const field = p.nextKey(FIELDS);
      if (field == KEY_END) break;
      if (field == KEY_FAILED) return null;
      if (field == Field.Performative) {
        const known = p.atString() ? p.matchString(PERFORMATIVES) : KEY_OTHER;
        performative = known >= 0 ? unchecked(PERFORMATIVES[known]) : p.stringValue();
      } else if (field == Field.Receiver) {
        readReceivers(p, msg.receivers);
      } else if (field == Field.Content) {
        msg.content = p.unparsedValue();
        msg.hasContent = true;
      } else if (field == Field.TraceContext) {
        msg.traceContext = p.anyValue();
      } else if (field == KEY_OTHER) {
        p.anyValue();
      } else {
        const value = p.stringValue();
        const text = value != null ? value : "";
        if (field == Field.Sender) msg.sender = text;
        else if (field == Field.Language) msg.language = text;
        else if (field == Field.Ontology) msg.ontology = text;
        else if (field == Field.Protocol) msg.protocol = text;
        else if (field == Field.ConversationId) msg.conversationId = text;
        else if (field == Field.ReplyWith) msg.replyWith = text;
        else if (field == Field.InReplyTo) msg.inReplyTo = text;
        else if (field == Field.ReplyBy) msg.replyBy = text;
        else if (field == Field.MessageId) msg.messageId = text;
      }
      if (p.failed) return null;
    }
    if (!p.endDocument() || performative == null) return null;
    msg.performative = performative;
    return msg;
  }

  /**
   * Writes the fields an agent may send. `sender`, `message_id` and `trace_context` are the host's to set,
   * so they are left out.
   */
  writeTo(w: ByteWriter): void {
    w.ascii("{\"performative\":");
    w.jsonString(this.performative);
    w.ascii(",\"receiver\":");
    const receivers = this.receivers;
    if (receivers.length == 1) {
      w.jsonString(receivers[0]);
    } else {
      w.byte(0x5B);
      for (let i = 0; i < receivers.length; i++) {
        if (i > 0) w.byte(0x2C);
        w.jsonString(receivers[i]);
      }
      w.byte(0x5D);
    }
    if (this.hasContent) {
      w.ascii(",\"content\":");
      writeJson(w, this.content);
    }
    writeOptional(w, ",\"language\":", this.language);
    writeOptional(w, ",\"ontology\":", this.ontology);
    writeOptional(w, ",\"protocol\":", this.protocol);
    writeOptional(w, ",\"conversation_id\":", this.conversationId);
    writeOptional(w, ",\"reply_with\":", this.replyWith);
    writeOptional(w, ",\"in_reply_to\":", this.inReplyTo);
    writeOptional(w, ",\"reply_by\":", this.replyBy);
    w.byte(0x7D);
  }

  /** The JSON this message is sent as. */
  toString(): string {
    const w = new ByteWriter();
    this.writeTo(w);
    const text = w.toString();
    w.release();
    return text;
  }
}

/** Sets `receivers` to those of the `receiver` value at the parser: a string is one; else as fromJson reads it. */
function readReceivers(p: JsonParser, receivers: Array<string>): void {
  receivers.length = 0;
  if (p.atString()) {
    receivers.push(p.stringValue()!);
    return;
  }
  const many = p.anyValue();
  for (let i = 0, n = many.length; i < n; i++) receivers.push(many.at(i).asString());
}

function writeOptional(w: ByteWriter, key: string, value: string): void {
  if (value.length == 0) return;
  w.ascii(key);
  w.jsonString(value);
}
