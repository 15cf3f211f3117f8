// A contract-net participant (fipa-contract-net). On cfp it proposes a price derived from its own name and the
// task, or refuses when that price is above the initiator's {"max_price"}. On accept-proposal it does the work
// and informs {"done": true}; on reject-proposal it does nothing.
import {
  Json, Message, Performative, agentName, dispatch, errorContent, reply,
} from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
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

function onMessage(msg: Message): void {
  const p = msg.performative;
  if (p == Performative.CFP) {
    const task = msg.content.get("task").toString();
    const price = priceFor(task);
    const max = msg.content.get("max_price");
    if (max.isNumber() && <f64>price > max.asNumber()) {
      reply(msg, Performative.REFUSE, Json.obj().setString("reason", "price above max_price").setInt("price", price));
    } else {
      reply(msg, Performative.PROPOSE, Json.obj().setInt("price", price).setString("bidder", agentName()));
    }
  } else if (p == Performative.ACCEPT_PROPOSAL) {
    reply(msg, Performative.INFORM, Json.obj().setBool("done", true));
  } else if (p == Performative.REJECT_PROPOSAL) {
    // Nothing to do: the initiator chose someone else.
  } else if (msg.expectsReply()) {
    reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "this agent answers cfp only"));
  }
}
