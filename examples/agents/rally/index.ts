// Rally: plays a long exchange with another agent (an echo) and reports how it went: a tool for testing and
// measuring the path between two agents, on one node or across nodes.
//
//   request {"with": "echo", "rounds": N}
//     → request {"n": 1} to `with`; each inform {"n": k} back is checked to be the next one in order and
//       answered with request {"n": k + 1}, until k = N
//     → inform {"rounds": N, "received": R, "out_of_order": O, "failures": F} to the client.
//   A failure from the partner (a dropped or refused message) is counted and ends the rally early.
// One rally at a time; a second request while one runs is refused.
import { Json, Message, Performative, dispatch, errorContent, reply, send } from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

const MAX_ROUNDS: i64 = 10_000_000;

let client: Message | null = null;
let partner = "";
let rounds: i64 = 0;
let expected: i64 = 0;
let received: i64 = 0;
let outOfOrder: i64 = 0;
let failures: i64 = 0;

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

function onMessage(msg: Message): void {
  const p = msg.performative;
  if (p == Performative.REQUEST && msg.sender.startsWith("client:")) start(msg);
  else if (p == Performative.INFORM && client != null && msg.sender == partner) onBall(msg);
  else if (p == Performative.FAILURE && client != null && msg.sender == partner) {
    failures++;
    finish();
  } else if (msg.expectsReply()) {
    reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "send a request {\"with\", \"rounds\"}"));
  }
}

function start(msg: Message): void {
  if (client != null) {
    reply(msg, Performative.REFUSE, errorContent("BUSY", "a rally is under way"));
    return;
  }
  const n = msg.content.get("rounds");
  const w = msg.content.get("with").asString();
  if (!n.isNumber() || n.asInt() < 1 || n.asInt() > MAX_ROUNDS || w.length == 0) {
    reply(msg, Performative.REFUSE, errorContent("INVALID_ARGUMENT", "content: {\"with\": agent, \"rounds\": 1..10000000}"));
    return;
  }
  client = msg;
  partner = w;
  rounds = n.asInt();
  expected = 1;
  received = 0;
  outOfOrder = 0;
  failures = 0;
  serve(1);
}

function serve(n: i64): void {
  const sent = send(new Message(Performative.REQUEST).to(partner).withContent(Json.obj().setInt("n", n)));
  if (sent < 0) {
    failures++;
    finish();
  }
}

function onBall(msg: Message): void {
  const k = msg.content.get("n").asInt();
  received++;
  if (k != expected) outOfOrder++;
  expected = k + 1;
  if (k >= rounds) finish();
  else serve(k + 1);
}

function finish(): void {
  const c = client;
  if (c == null) return;
  reply(c, Performative.INFORM, Json.obj()
    .setInt("rounds", rounds).setInt("received", received)
    .setInt("out_of_order", outOfOrder).setInt("failures", failures));
  client = null;
}
