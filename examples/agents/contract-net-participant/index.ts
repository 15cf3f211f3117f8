// A contract-net participant (fipa-contract-net). On cfp it proposes a price derived from its own name and the
// task, or refuses when that price is above the initiator's {"max_price"}. On accept-proposal it does the work
// and informs {"done": true}; on reject-proposal it does nothing.
//
// Its name sets how it behaves, so a test (or a demo) can stage a contract net with deploys alone:
//   a name containing "silent" never answers a cfp (the router then tells the initiator TIMEOUT);
//   a name containing "late" answers LATE_BY_MS after the cfp's reply_by, with a timer (the router refuses
//   that proposal with DEADLINE_PASSED).
import {
  Json, Message, Performative, agentName, dispatch, dispatchTimer, errorContent, nowMillis, reply, setTimer,
} from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

/** How far past reply_by a "late" participant answers: well clear of the router's deadline check. */
const LATE_BY_MS: i64 = 50;

/** cfps a "late" participant has yet to answer, by the timer that will answer each. */
const lateAnswers = new Map<i32, Message>();

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

export function handle_timer(id: i32): void {
  dispatchTimer(id, onTimer);
}

/** FNV-1a of the agent's name and the task: each participant bids differently, but always the same way. */
function priceFor(task: string): i64 {
  const key = agentName() + "|" + task;
  let hash: u32 = 2166136261;
  for (let i = 0; i < key.length; i++) {
    hash ^= <u32>key.charCodeAt(i);
    hash *= 16777619;
  }
  return 10 + <i64>(hash % 90);
}

function answerCfp(msg: Message): void {
  const task = msg.content.get("task").toString();
  const price = priceFor(task);
  const max = msg.content.get("max_price");
  if (max.isNumber() && <f64>price > max.asNumber()) {
    reply(msg, Performative.REFUSE, Json.obj().setString("reason", "price above max_price").setInt("price", price));
  } else {
    reply(msg, Performative.PROPOSE, Json.obj().setInt("price", price).setString("bidder", agentName()));
  }
}

/** Milliseconds from now until LATE_BY_MS past the cfp's reply_by (LATE_BY_MS when it has none). */
function lateDelay(msg: Message): i32 {
  if (msg.replyBy.length == 0) return <i32>LATE_BY_MS;
  const deadline = Date.fromString(msg.replyBy).getTime();
  const delay = deadline - nowMillis() + LATE_BY_MS;
  return delay < LATE_BY_MS ? <i32>LATE_BY_MS : <i32>min<i64>(delay, i32.MAX_VALUE);
}

function onMessage(msg: Message): void {
  const p = msg.performative;
  const name = agentName();
  if (p == Performative.CFP) {
    if (name.includes("silent")) return;
    if (name.includes("late")) {
      const timer = setTimer(lateDelay(msg));
      if (timer > 0) lateAnswers.set(timer, msg);
      return;
    }
    answerCfp(msg);
  } else if (p == Performative.ACCEPT_PROPOSAL) {
    reply(msg, Performative.INFORM, Json.obj().setBool("done", true));
  } else if (p == Performative.REJECT_PROPOSAL || p == Performative.FAILURE || p == Performative.NOT_UNDERSTOOD) {
    // Nothing to do: the initiator chose someone else, or the router refused a (late) answer.
  } else if (msg.expectsReply()) {
    reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "this agent answers cfp only"));
  }
}

function onTimer(id: i32): void {
  if (!lateAnswers.has(id)) return;
  const cfp = lateAnswers.get(id);
  lateAnswers.delete(id);
  answerCfp(cfp);
}
