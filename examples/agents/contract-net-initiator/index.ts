// A contract-net initiator (fipa-contract-net), run on behalf of a client.
//
//   request {"task": T, "capability": "x", "deadline_ms": N, "max_price"?: P}
//     → cfp {"task", "max_price"?} to capability:x, reply_by = now + N
//     … proposals gathered until reply_by (a timer), then accept-proposal to the lowest price and
//       reject-proposal to every other bidder …
//     → inform {"winner", "price", "result", "proposals": [{"bidder", "price"}], "refusals": [...],
//               "timeouts": [...], "conversation_id"} to the client once the winner informs;
//       failure {"error": {"code": NO_PROPOSALS | WINNER_FAILED | NO_PARTICIPANTS | ...}, ...} otherwise.
//
// Participants that never answer are named by the router's TIMEOUT failures ("timeouts"). The router refuses
// an accept-proposal while a participant may still answer, so the decision waits until just after reply_by,
// and is simply retried a moment later if the router's clock has not reached reply_by yet.
import {
  Json, JsonValue, Message, Performative, dispatch, dispatchTimer, errorContent, logWarn, nowMillis,
  randomBytes, reply, send, setTimer,
} from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

const PROTOCOL = "fipa-contract-net";
/** Used when the request names no deadline_ms: long enough for a handful of local agents. */
const DEFAULT_DEADLINE_MS: i64 = 1000;
/** The decision runs this long after reply_by, so the router (its own clock) sees the deadline passed too. */
const DECISION_MARGIN_MS: i32 = 2;
/** If the router still refused the decision as early, it is tried again after this, up to MAX_RETRIES times. */
const RETRY_MS: i32 = 5;
const MAX_RETRIES: i32 = 5;

const COLLECTING: i32 = 0;
const AWAITING_RESULT: i32 = 1;

class Proposal {
  constructor(public bidder: string, public price: f64, public priceJson: JsonValue) {}
}

class Round {
  phase: i32 = COLLECTING;
  retries: i32 = 0;
  winner: string = "";
  winnerPrice: JsonValue = Json.nul();
  proposals: Array<Proposal> = new Array<Proposal>();
  refusals: Array<string> = new Array<string>();
  timeouts: Array<string> = new Array<string>();
  failures: Array<string> = new Array<string>();
  constructor(public client: Message, public conversationId: string, public deadlineMs: i64) {}
}

/** Rounds in progress by the contract net's conversation_id, and the decision timers that belong to them. */
const rounds = new Map<string, Round>();
const roundOfTimer = new Map<i32, string>();

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

export function handle_timer(id: i32): void {
  dispatchTimer(id, onTimer);
}

function hex(bytes: Uint8Array): string {
  const digits = "0123456789abcdef";
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    out += digits.charAt(bytes[i] >> 4) + digits.charAt(bytes[i] & 15);
  }
  return out;
}

function names(list: Array<string>): JsonValue {
  const out = Json.arr();
  for (let i = 0; i < list.length; i++) out.push(Json.str(list[i]));
  return out;
}

/** What every report to the client carries, whatever the outcome. */
function summary(round: Round): JsonValue {
  const proposals = Json.arr();
  for (let i = 0; i < round.proposals.length; i++) {
    const p = round.proposals[i];
    proposals.push(Json.obj().setString("bidder", p.bidder).set("price", p.priceJson));
  }
  return Json.obj()
    .setString("conversation_id", round.conversationId)
    .set("proposals", proposals)
    .set("refusals", names(round.refusals))
    .set("timeouts", names(round.timeouts))
    .set("failures", names(round.failures));
}

function finish(round: Round, performative: string, content: JsonValue): void {
  reply(round.client, performative, content);
  rounds.delete(round.conversationId);
}

function fail(round: Round, code: string, message: string): void {
  const content = summary(round);
  content.set("error", Json.obj().setString("code", code).setString("message", message));
  if (round.winner.length > 0) content.setString("winner", round.winner).set("price", round.winnerPrice);
  finish(round, Performative.FAILURE, content);
}

function start(request: Message): void {
  const capability = request.content.get("capability").asString();
  if (capability.length == 0) {
    reply(request, Performative.REFUSE, errorContent("INVALID_ARGUMENT", "content.capability: the capability to call for"));
    return;
  }
  const deadlineJson = request.content.get("deadline_ms");
  const deadline: i64 = deadlineJson.isNumber() ? deadlineJson.asInt() : DEFAULT_DEADLINE_MS;
  if (deadline < 1 || deadline > 3600000) {
    reply(request, Performative.REFUSE, errorContent("INVALID_ARGUMENT", "content.deadline_ms: 1 to 3600000"));
    return;
  }
  const conversationId = "cnet-" + hex(randomBytes(8));
  const task = Json.obj().set("task", request.content.get("task"));
  if (request.content.has("max_price")) task.set("max_price", request.content.get("max_price"));
  const cfp = new Message(Performative.CFP).to("capability:" + capability)
    .withProtocol(PROTOCOL).withConversationId(conversationId).withReplyWith("cfp")
    .withReplyBy(new Date(nowMillis() + deadline).toISOString()).withContent(task);
  const round = new Round(request, conversationId, deadline);
  const sent = send(cfp);
  if (sent < 0) {
    reply(request, Performative.FAILURE, errorContent("SEND_FAILED", "the cfp was not accepted: " + sent.toString()));
    return;
  }
  rounds.set(conversationId, round);
  armDecision(round, <i32>deadline + DECISION_MARGIN_MS);
}

function armDecision(round: Round, delayMs: i32): void {
  const timer = setTimer(delayMs);
  if (timer > 0) roundOfTimer.set(timer, round.conversationId);
  else fail(round, "TIMER_FAILED", "could not set the decision timer: " + timer.toString());
}

/** Accept the lowest price (the first one received among equals), reject every other proposal. */
function decide(round: Round): void {
  if (round.proposals.length == 0) {
    fail(round, "NO_PROPOSALS", "no participant proposed by reply_by");
    return;
  }
  let best = 0;
  for (let i = 1; i < round.proposals.length; i++) {
    if (round.proposals[i].price < round.proposals[best].price) best = i;
  }
  const winner = round.proposals[best];
  round.winner = winner.bidder;
  round.winnerPrice = winner.priceJson;
  round.phase = AWAITING_RESULT;
  send(new Message(Performative.ACCEPT_PROPOSAL).to(winner.bidder)
    .withProtocol(PROTOCOL).withConversationId(round.conversationId).withReplyWith("accept")
    .withReplyBy(new Date(nowMillis() + round.deadlineMs).toISOString())
    .withContent(Json.obj().set("task", round.client.content.get("task")).set("price", winner.priceJson)));
  if (round.proposals.length > 1) {
    const reject = new Message(Performative.REJECT_PROPOSAL)
      .withProtocol(PROTOCOL).withConversationId(round.conversationId).withReplyWith("reject")
      .withContent(Json.obj().setString("winner", winner.bidder).set("price", winner.priceJson));
    for (let i = 0; i < round.proposals.length; i++) if (i != best) reject.to(round.proposals[i].bidder);
    send(reject);
  }
}

function errorCode(msg: Message): string {
  return msg.content.get("error").get("code").asString();
}

/** The router refused the accept-proposal or reject-proposal (not-understood PROTOCOL_VIOLATION answers it). */
function onDecisionRefused(round: Round, msg: Message): void {
  if (msg.inReplyTo != "accept" || round.phase != AWAITING_RESULT) return; // a refused reject follows its accept
  if (round.retries < MAX_RETRIES) {
    // Judged before the router's clock reached reply_by: decide again in a moment.
    round.retries++;
    round.phase = COLLECTING;
    round.winner = "";
    armDecision(round, RETRY_MS);
  } else {
    fail(round, "PROTOCOL_VIOLATION", "the router refused the accept-proposal: " + msg.content.get("error").get("message").asString());
  }
}

function onReply(round: Round, msg: Message): void {
  const p = msg.performative;
  const code = errorCode(msg);
  if (p == Performative.NOT_UNDERSTOOD && code == "PROTOCOL_VIOLATION" && (msg.inReplyTo == "accept" || msg.inReplyTo == "reject")) {
    onDecisionRefused(round, msg);
    return;
  }
  if (round.phase == AWAITING_RESULT) {
    if (msg.sender != round.winner) {
      if (code == "TIMEOUT") round.timeouts.push(msg.content.get("error").get("details").get("participant").asString());
      return;
    }
    if (p == Performative.INFORM) {
      const content = summary(round);
      content.setString("winner", round.winner).set("price", round.winnerPrice).set("result", msg.content);
      finish(round, Performative.INFORM, content);
    } else if (p == Performative.FAILURE || p == Performative.NOT_UNDERSTOOD) {
      if (code == "TIMEOUT") round.timeouts.push(round.winner);
      fail(round, "WINNER_FAILED", "the accepted participant did not deliver: " + (code.length > 0 ? code : p));
    }
    return;
  }
  if (p == Performative.PROPOSE) {
    const price = msg.content.get("price");
    if (price.isNumber()) round.proposals.push(new Proposal(msg.sender, price.asNumber(), price));
    else round.failures.push(msg.sender);
  } else if (p == Performative.REFUSE) {
    round.refusals.push(msg.sender);
  } else if (code == "TIMEOUT") {
    round.timeouts.push(msg.content.get("error").get("details").get("participant").asString());
  } else if (code == "AGENT_NOT_FOUND") {
    fail(round, "NO_PARTICIPANTS", "no agent advertises the capability");
  } else if (p == Performative.FAILURE || p == Performative.NOT_UNDERSTOOD) {
    round.failures.push(msg.sender);
  }
}

function onMessage(msg: Message): void {
  const round = rounds.has(msg.conversationId) ? rounds.get(msg.conversationId) : null;
  if (round != null) {
    onReply(round, msg);
  } else if (msg.performative == Performative.REQUEST) {
    start(msg);
  } else if (msg.expectsReply()) {
    reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "send a request {task, capability, deadline_ms}"));
  } else if (msg.conversationId.startsWith("cnet-")) {
    logWarn(msg.performative + " from " + msg.sender + " after its contract net ended");
  }
}

function onTimer(id: i32): void {
  if (!roundOfTimer.has(id)) return;
  const conversationId = roundOfTimer.get(id);
  roundOfTimer.delete(id);
  if (!rounds.has(conversationId)) return;
  const round = rounds.get(conversationId);
  if (round.phase == COLLECTING) decide(round);
}
