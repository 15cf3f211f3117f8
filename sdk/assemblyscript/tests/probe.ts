// A test agent exercising the SDK from inside wasm (test/sdk/*.test.ts drive it). A request's content
// {"op": ...} picks what to do; the answer is an inform whose content the tests check.
import {
  Json, JsonKind, JsonValue, LogLevel, Message, Performative, agentName, callTool, callToolWith, cancelTimer,
  dispatch, dispatchTimer, fail, isToolResult, log, now, randomBytes, reply, replyTo, send, setTimer, toolCallId,
} from "..";
export { agent_alloc } from "..";

let initialized = false;
let handled: i32 = 0;

export function agent_init(): i32 {
  initialized = true;
  log(LogLevel.INFO, "probe ready");
  return 0;
}

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

export function handle_timer(timerId: i32): void {
  dispatchTimer(timerId, onTimer);
}

function onTimer(timerId: i32): void {
  send(new Message(Performative.INFORM).to("timer-watcher").withContent(Json.obj().setInt("timer", timerId)));
}

function kindName(kind: JsonKind): string {
  switch (kind) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return "bool";
    case JsonKind.Number: return "number";
    case JsonKind.String: return "string";
    case JsonKind.Array: return "array";
    default: return "object";
  }
}

function inspect(v: JsonValue): JsonValue {
  const keys = Json.arr();
  for (let i = 0; i < v.length; i++) keys.push(Json.str(v.keyAt(i)));
  return Json.obj()
    .setString("kind", kindName(v.kind))
    .setString("string", v.asString())
    .set("number", Json.num(v.asNumber()))
    .setInt("int", v.asInt())
    .setBool("bool", v.asBool())
    .setInt("length", v.length)
    .set("keys", keys)
    .set("first", v.at(0))
    .setBool("missingIsNull", v.get("no such key").isNull() && v.at(1000000).isNull());
}

function build(): JsonValue {
  const o = Json.obj()
    .setString("text", "quote \" backslash \\ slash / newline \n tab \t cr \r nul \u0000 bell \u0007")
    .setString("unicode", "é ü 中文 😀")
    .setString("lone", String.fromCharCode(0xD800) + "x")
    .setInt("big", 1152921504606846976)
    .setInt("negative", -42)
    .setNumber("float", 0.1)
    .setNumber("tiny", 5e-324)
    .setNumber("huge", 1e300)
    .setNumber("nan", NaN)
    .setBool("yes", true)
    .set("nothing", Json.nul())
    .set("list", Json.arr().push(Json.int(1)).push(Json.str("two")).push(Json.arr()).push(Json.obj()))
    .setString("replaced", "old");
  o.setString("replaced", "new");
  o.setString("removed", "gone");
  o.remove("removed");
  return o;
}

function services(msg: Message): JsonValue {
  const timer = setTimer(250);
  const out = Json.obj()
    .setString("name", agentName())
    .setString("nameAgain", agentName())
    .setInt("now", now())
    .setInt("randomLength", randomBytes(16).length)
    .setInt("timer", timer)
    .setInt("cancel", cancelTimer(timer))
    .setInt("cancelUnknown", cancelTimer(999))
    .setInt("timer2", setTimer(10))
    .setInt("tool", callTool("state", "get", "{\"key\":\"a\",\"n\":[1,2]}"))
    .setInt("toolWith", callToolWith("state", "put", Json.obj().setString("key", "b")))
    .setInt("toolBad", callTool("state", "get", "{nope"))
    .setBool("initialized", initialized)
    .setInt("handled", handled)
    .setInt("random", <i64>(Math.random() * 1000000.0));
  log(LogLevel.WARN, "services called by " + msg.sender);
  return out;
}

function onMessage(msg: Message): void {
  handled++;
  if (isToolResult(msg)) {
    reply(msg, Performative.INFORM, Json.obj().setInt("toolCallId", toolCallId(msg)).set("result", msg.content));
    return;
  }
  const c = msg.content;
  const op = c.get("op").asString();
  if (op == "roundtrip") {
    const parsed = Json.parse(c.get("text").asString());
    const out = Json.obj().setBool("ok", parsed != null);
    if (parsed != null) out.setString("out", parsed.toString());
    reply(msg, Performative.INFORM, out);
  } else if (op == "format") {
    const numbers = c.get("numbers");
    const out = Json.arr();
    for (let i = 0; i < numbers.length; i++) out.push(Json.str(Json.num(numbers.at(i).asNumber()).toString()));
    reply(msg, Performative.INFORM, out);
  } else if (op == "bits") {
    // The exact doubles the parser read, as 16 hex digits each.
    const numbers = c.get("numbers");
    const out = Json.arr();
    for (let i = 0; i < numbers.length; i++) {
      out.push(Json.str(reinterpret<u64>(numbers.at(i).asNumber()).toString(16).padStart(16, "0")));
    }
    reply(msg, Performative.INFORM, out);
  } else if (op == "inspect") {
    reply(msg, Performative.INFORM, inspect(c.get("value")));
  } else if (op == "build") {
    reply(msg, Performative.INFORM, Json.obj().set("value", build()).setString("text", Json.stringify(build())));
  } else if (op == "fields") {
    const seen = Json.obj()
      .setString("performative", msg.performative).setString("sender", msg.sender)
      .setString("receiver", msg.receiver).setInt("receivers", msg.receivers.length)
      .setBool("hasContent", msg.hasContent).setString("language", msg.language)
      .setString("ontology", msg.ontology).setString("protocol", msg.protocol)
      .setString("conversationId", msg.conversationId).setString("replyWith", msg.replyWith)
      .setString("inReplyTo", msg.inReplyTo).setString("replyBy", msg.replyBy)
      .setString("messageId", msg.messageId).set("traceContext", msg.traceContext)
      .setBool("expectsReply", msg.expectsReply());
    reply(msg, Performative.INFORM, seen);
  } else if (op == "send-full") {
    const rc = send(new Message(Performative.CFP).to("alice").to("capability:pricing")
      .withContentJson("{\"task\":\"paint\",\"max\":12.5}").withLanguage("json").withOntology("shop")
      .withProtocol("fipa-contract-net").withConversationId("conv-1").withReplyWith("rw-1")
      .withInReplyTo("irt-1").withReplyBy("2030-01-01T00:00:00Z"));
    const custom = replyTo(msg, Performative.AGREE).withContent(Json.int(rc));
    send(custom);
  } else if (op == "services") {
    reply(msg, Performative.INFORM, services(msg));
  } else if (op == "fail") {
    fail(<i32>c.get("code").asInt());
  } else if (op == "abort") {
    assert(false, "probe asked to abort");
  } else if (op == "grow") {
    // Garbage: a large tree per message, dropped at once; memory must stay flat across many of them.
    const junk = Json.arr();
    for (let i = 0; i < 2000; i++) junk.push(Json.obj().setString("k", "value number " + i.toString()));
    reply(msg, Performative.INFORM, Json.obj().setInt("size", junk.length));
  } else if (op == "trace") {
    trace("traced", 2, 1.5, 2.0);
    reply(msg, Performative.INFORM, Json.nul());
  } else {
    reply(msg, Performative.NOT_UNDERSTOOD, Json.obj().setString("op", op));
  }
}
