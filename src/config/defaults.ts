// Every default of a Caxton node in one place, each with the reason for its value (after memberlist's
// config.go). Keys are those of caxton.yaml (`section.key`), also settable as CAXTON_<SECTION>_<KEY>.
// Other layers read them from the loaded Config, never from here, so an operator's override always applies.

import { DEFAULT_MAX_MESSAGE_BYTES } from '../messaging/message.ts';
import type { McpServerConfig } from './mcp-servers.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The gossip port when a --join address names none: memberlist's and Serf's default. */
export const DEFAULT_GOSSIP_PORT = 7946;

/** The largest WebAssembly module accepted: the default memory limit (256 pages = 16 MiB) is its natural peer. */
const MAX_MODULE_BYTES = 16 * MiB;

export const DEFAULTS = {
  node: {
    /**
     * Unset: the id stored in the data dir, or on the first start the host name (what Serf and memberlist use),
     * so that a node keeps its identity when a container's host name changes (see state/node-identity.ts).
     */
    id: undefined as string | undefined,
    /** Relative to the working directory: `npm start` in a fresh clone keeps its state next to the code. */
    data_dir: './.caxton',
  },
  api: {
    /**
     * Loopback: a fresh node is not reachable from the network until the operator says so. A host name binds
     * its first address only, so that one server carries every API bound (api/listen-host.ts).
     */
    addr: '127.0.0.1:8080',
    /**
     * A JSON deploy carries the module in base64 (4/3 of 16 MiB = 21.3 MiB) plus the spec: 22 MiB lets the
     * largest accepted module through and refuses anything that could not be one with a 413.
     */
    body_limit_bytes: 22 * MiB,
    /**
     * Bytes of JSON request bodies being read at once, over every connection; a body whose next chunk would pass
     * it is refused (503, connection closed). body_limit_bytes bounds one body, not their sum: 100 connections of
     * a viewer each stopping one byte short of an 8 MiB body held +814 MiB. 256 MiB is eleven of the largest
     * deploys at once, or thousands of ordinary messages, read at once.
     */
    max_body_bytes_in_flight: 256 * MiB,
    /**
     * Longest a request (headers and body) may take to arrive; past it 408 and the connection is closed.
     * Without it a body sent a byte at a time held its connection (and what was read) forever. 60 s lets the
     * largest deploy (22 MiB) through at 4 Mbit/s; raise it for slower links.
     */
    request_timeout_ms: MINUTE,
    /**
     * Longest a new connection may stay open before its first request's headers are in (over TLS, its handshake
     * has as long again); past it the connection is closed. Node bounds a request once begun, and keep-alive
     * idleness after one, but not a connection that never sends a byte: 10,000 such sockets from one source
     * without credentials held every max_connections slot for ever. Clients send a request as soon as they
     * connect; 10 s is far above a slow link's round trips, and keeps such a flood to 10 s per socket.
     */
    first_request_timeout_ms: 10 * SECOND,
    /**
     * Requests per window per principal (an API key, a JWT subject, a client certificate) whose role
     * api.rate_limit_roles does not name: the control plane and dashboards (operator, deployer, viewer).
     * 1,000/s is far above any person, script or dashboard, and keeps one such principal to a fraction of a
     * node (~60k cheap requests/s). Per principal, not per address: one key from many addresses is one budget,
     * and many clients behind one NAT are not one.
     */
    rate_limit_max: 1000,
    /** One second: a burst can spend at most one second's budget, and Retry-After is at most 1 s. */
    rate_limit_window_ms: SECOND,
    /**
     * ROLE=N per window for the roles on the message path. One node serves ~16–20k POST /api/v1/messages per
     * second on 2 cores (measured), more where the API thread has a core of its own: 50,000/s lets one client
     * system use all of it (a messaging server's normal case) and stops only a runaway loop beyond what the node
     * can serve. admin is here because the CLI and scripts use admin.key.
     */
    rate_limit_roles: ['admin=50000', 'sender=50000'] as string[],
    /**
     * Principals and source addresses tracked per window (~100 B each, ~10 MiB at most). Beyond it, new ones
     * share one overflow budget: a flood of new addresses or JWT subjects is limited as one caller.
     */
    rate_limit_keys_max: 100_000,
    /**
     * Failed authentications per source address per auth_failure_window_ms; beyond, that address gets 429
     * before its credentials are even looked at (no key lookup, no JWT check, no audit row of its own). 10 a
     * minute is enough for a person mistyping or a script with a stale key, and makes guessing hopeless.
     * Addresses behind one NAT share it: a client there whose API key was verified before keeps working (a memory
     * lookup); a new key or a JWT from a blocked address waits at most a window.
     */
    auth_failures_max: 10,
    auth_failure_window_ms: MINUTE,
    /**
     * Audit aggregation window: routine message sends are one row per (principal, outcome) per window with
     * their count, and a flood of denials of one (caller, action, reason) one row per window after the first
     * audit_denials_per_window. 10 s: the log stays readable at any rate, and loses at most 10 s of counts
     * on a crash.
     */
    audit_window_ms: 10 * SECOND,
    /** Denials of one (caller, action, reason) written one by one per window: enough to see what was tried. */
    audit_denials_per_window: 10,
    /** Groups counted per audit window (~200 B each); beyond, they share one overflow row. */
    audit_groups_max: 10_000,
    /** `wait_ms` ceiling: proxies and load balancers commonly drop requests idle for 60 s. */
    max_wait_ms: MINUTE,
    /**
     * Open API connections at once; one more is closed as soon as it is accepted (counted in
     * caxton_api_connections_dropped_total). An idle connection costs a socket and a few KB: 10,000 keeps a
     * flood of them to tens of MB and is far above what clients and load balancers keep open.
     */
    max_connections: 10_000,
    /**
     * Of those, open from one source at once (an IPv4 address, an IPv6 /64); one more is closed as soon as it is accepted (counted with the
     * dropped ones). Requests are bounded in time, but one source opening connections faster than they end could
     * hold every slot of max_connections; a tenth leaves the rest to everyone else. Behind a proxy or load
     * balancer every client shares its address: raise this to its connection pool's size.
     */
    max_connections_per_source: 1_000,
    /**
     * Unanswered requests on one connection (HTTP/1.1 pipelining); one more is refused (503, the connection
     * closed after it) before it is authenticated. Browsers, curl and the CLI (fetch) never pipeline (one at a
     * time per connection) and the clients that can, do a few deep: 16 leaves them room and keeps one connection from
     * holding more than 16 waits, streams or MCP calls, so max_connections bounds those too.
     */
    max_requests_per_connection: 16,
    /**
     * Sends with wait_ms waiting for replies at once (REST; /mcp has mcp_max_in_flight); one more is refused
     * (503) before its message is sent. A wait holds its request and response, ~5 KB (measured): 10,000, one
     * per connection max_connections allows, keeps them to ~50 MB.
     */
    max_waits: 10_000,
    /**
     * Of those, one principal's (an API key, a JWT subject, a client certificate); one more is refused (503)
     * before its message is sent. Without it one sender key held all 10,000 and every other caller's wait_ms was
     * refused. 2,500 is far more than a client system keeps waiting (32 connections at 16k sends/s hold ~32), and
     * leaves three quarters of the node to the others.
     */
    max_waits_per_principal: 2_500,
    /**
     * Server-sent event streams open at once (/api/v1/events, agent logs with follow=true, sends with
     * stream=true); one more is refused (503). Each may buffer up to 1 MiB for a slow reader before it is
     * dropped: 256 is far above what consoles, `logs --follow` and a few streaming clients use, and keeps
     * that buffering to 256 MiB at worst.
     */
    max_event_streams: 256,
    /**
     * Of those, held by one principal (an API key, a JWT subject, a client certificate); one more is refused
     * (503). Without it one viewer key holding all 256 refused every other caller's events, log follows and
     * streamed sends. 32 is a console and a few dozen `logs --follow` of one operator; 8 principals fill the node.
     */
    max_event_streams_per_principal: 32,
    /**
     * Stored text one answer of GET /api/v1/conversations/{id} or /api/v1/dead-letters may carry; past it the
     * answer is cut (`truncated: true` and where to continue). Those rows are the clients' own messages, up to
     * messages.max_bytes each: 200 of 1 MiB in one answer took a node from 476 MB to 1.8 GB. 16 MiB still holds
     * 16 messages of the largest size (a page always moves on) and costs a few times itself while it is read,
     * parsed and serialized (one such answer: peak RSS +90 MB, measured), where the page counts alone allowed
     * ~10 GB. Reads at once multiply it: see docs/operations.md.
     */
    max_answer_bytes: 16 * MiB,
    /**
     * Answers of those two reads built or being sent at once; one more is refused (503, Retry-After). One full
     * answer is ~90 MB of peak RSS: 16 at once took a node to 1.4–1.9 GB. 4 keeps it near 360 MB, and these are
     * an operator's inspection reads, not traffic.
     */
    max_answers_in_flight: 4,
    /**
     * Reads waiting for one of those slots, served first come first served; one more is refused (503). A waiting
     * read holds only its request (~5 KB, as a wait does): 1,000 is 5 MB, and a client reading many small
     * conversations at once (a test of ours reads 20) is served rather than refused.
     */
    max_answers_queued: 1_000,
    /**
     * Requests to /mcp (Caxton's MCP server) handled at once; beyond it 503 at once. Each holds a small MCP
     * server object and, for send_message, a wait of up to max_wait_ms: 256 is far above what a few LLM
     * clients use and keeps the memory to a few MB.
     */
    mcp_max_in_flight: 256,
    /**
     * Of those, one principal's; one more is refused (503) at once. Without it one sender key's send_message
     * calls waiting for replies (up to max_wait_ms each) held all 256 and every other MCP client was refused.
     * 64 is far more than an LLM client runs at once, and leaves three quarters of the node to the others.
     */
    mcp_max_in_flight_per_principal: 64,
    /**
     * How long one rendering of GET /metrics is answered again to callers not on loopback (a scraper on the same
     * host gets a fresh one). A rendering costs ~3.6 ms of the API's thread: a viewer key at its 1,000 requests
     * a second asked for 3.6 s of work a second. 1 s is far below any scrape interval (15 s and up), so a
     * scraper sees fresh numbers each time. 0: a rendering per request.
     */
    metrics_cache_ms: SECOND,
    /**
     * Browser origins (scheme://host[:port]) allowed to call /mcp. A request with an Origin header not listed
     * is refused (403), as the MCP spec asks, against DNS rebinding: a page that makes its own name resolve to
     * 127.0.0.1 is same-origin with a local node, and a browser may present a client certificate by itself.
     * MCP clients outside a browser send no Origin. Empty: no browser at all.
     */
    mcp_allowed_origins: [] as string[],
    /**
     * PEM certificate (chain) and private key: set both to serve the API over HTTPS. Unset: plain HTTP, which is
     * what a loopback-only node needs. Both files are watched: a renewed pair applies to new connections
     * without a restart.
     */
    tls_cert: undefined as string | undefined,
    tls_key: undefined as string | undefined,
    /**
     * PEM bundle of the CAs whose client certificates authenticate (the third way, beside API keys and JWTs).
     * A certificate is asked for but not required, so keys and tokens keep working on the same port.
     */
    tls_client_ca: undefined as string | undefined,
    /**
     * Which verified client certificates are principals: `CN=ROLE` (the principal is the subject's CN) or
     * `CN=PRINCIPAL:ROLE`. Empty: none, deny by default; a CN not listed authenticates nothing.
     */
    tls_client_roles: [] as string[],
  },
  auth: {
    /** Off: authentication is on by default (interfaces.md); this only exists for local development. */
    insecure_no_auth: false,
    /**
     * JWT bearer tokens are accepted only once an issuer is set (src/node/jwt-auth.ts): a token must carry this
     * `iss`. Its signature is checked against exactly one of jwt_secret and jwt_jwks_url (start-up refuses
     * both or neither), so an operator never wonders which one applied. API keys keep working beside JWTs.
     */
    jwt_issuer: undefined as string | undefined,
    /** Unset: `aud` is not checked. Set it whenever the issuer also mints tokens for other services. */
    jwt_audience: undefined as string | undefined,
    /** The issuer's public keys (RS/PS/ES/EdDSA), fetched on first use and cached as jose does (10 min). */
    jwt_jwks_url: undefined as string | undefined,
    /** Shared HMAC secret (HS256/384/512), at least 32 characters: RFC 7518 wants a key as long as the hash. */
    jwt_secret: undefined as string | undefined,
    /**
     * The claim holding the caller's role (admin, operator, deployer, sender, viewer). A name of Caxton's own
     * rather than `role`/`roles`, which identity providers already fill with roles of their own meaning; set
     * it to `role` when the issuer is yours. A token without it is refused: deny by default.
     */
    jwt_role_claim: 'caxton_role',
    /**
     * An OpenID provider (OAuth2/OIDC) whose access tokens are accepted: its keys are found through
     * `<issuer>/.well-known/openid-configuration` (whose `issuer` must be exactly this), so key rotation at the
     * provider needs nothing here. Beside auth.jwt_issuer or instead of it; the role comes from the claim named
     * by auth.jwt_role_claim, and `sub` must be a usable name, as for any JWT.
     */
    oidc_issuer: undefined as string | undefined,
    /**
     * Required with oidc_issuer: a provider mints tokens for many services, and one meant for another must not
     * open this one.
     */
    oidc_audience: undefined as string | undefined,
    /**
     * A token whose `exp` is further ahead than this is refused: client-credentials tokens live minutes to an
     * hour, so one valid for days was minted by mistake and would be a password nobody can revoke. 24 h.
     */
    oidc_max_token_lifetime_ms: 24 * HOUR,
    /**
     * After a failed fetch of the issuer's key set (JWKS or OpenID discovery document), JWTs are refused (503)
     * without fetching again for this long: otherwise, while the issuer is down, anyone could make the node
     * fetch (and log a warning) once per request sent with any JWT-shaped token. 5 s: an issuer back up is
     * used again within seconds.
     */
    jwks_retry_ms: 5 * SECOND,
  },
  cluster: {
    /** memberlist's port; loopback so that a fresh node does not gossip with the network by accident. */
    bind_addr: `127.0.0.1:${DEFAULT_GOSSIP_PORT}`,
    /** Unset: peers are told bind_addr. Set it behind NAT or when binding 0.0.0.0. */
    advertise_addr: undefined as string | undefined,
    /** Peers to join on start; empty = start alone (or wait to be joined). */
    join: [] as string[],
    /** Start a new cluster rather than wait to be joined. */
    bootstrap: false,
    /** Expected cluster size for the quorum rule (cluster.md); 0 = the largest number of alive members seen. */
    bootstrap_expect: 0,
    /** Base64 gossip key of 16, 24 or 32 bytes (AES-128/192/256-GCM, as `serf agent -encrypt`); unset = clear text. */
    encrypt: undefined as string | undefined,
    /**
     * Name of the cluster to find on the local network by mDNS (`--cluster NAME`), as `serf agent -discover`
     * does, under the same service name (`_serf_<name>._tcp.local`): Caxton and Serf agents of one name find
     * each other. Unset = no multicast at all: a node only joins the addresses it is given.
     */
    discover: undefined as string | undefined,
    /**
     * Steady-state interval between mDNS queries once discovery has settled: Serf's 60 s. A node queries at
     * start, then after 1 s, doubling to this (RFC 6762 §5.2), so a new cluster forms within seconds while a
     * quiet network carries one small query per node per minute; a node that starts later announces itself.
     */
    discover_interval_ms: MINUTE,
    /**
     * Join token from `caxton cluster token` (on a node holding the cluster CA): with --join, this node gets
     * its routing certificate from the node it joins through. Used once, when the data dir has no TLS material.
     */
    token: undefined as string | undefined,
    /**
     * After a drain (`caxton node drain`, `cluster leave`, SIGTERM) has handed its agents over, the node keeps
     * forwarding what still reaches it for them this long before it reports done (and, leaving, stops): the
     * registry's convergence goal is 2 s, after which peers send to the new owners directly, and replies to
     * clients relayed through this node get home. 0 skips it (a message still on its way is then answered
     * `failure`).
     */
    drain_linger_ms: 3000,
    /**
     * Agents handed over at once by a drain: each is one request to its new owner (a deploy there). 32 keeps
     * a 1,000-agent drain to seconds without queueing hundreds of deploys on one peer.
     */
    drain_concurrency: 32,
  },
  routing: {
    /**
     * Directory with ca.pem, node.pem, node.key (an operator's own PKI: `caxton security init-ca`/`gen-cert`).
     * Unset: <data_dir>/tls, created on the first start (bootstrap or lone node) or filled by a join token.
     */
    tls_dir: undefined as string | undefined,
    /** Largest frame between nodes: a module fetched by sha256 (agents.max_module_bytes, 16 MiB) plus headroom. */
    max_frame_bytes: 20 * MiB,
    /**
     * Messages held per peer (queued, or sent and not yet acknowledged) before senders get `failure`: ~30 ms of
     * traffic at 330k msg/s, enough for a burst or a GC pause of the peer; a dead peer holds no more than this.
     */
    queue_max_messages: 10_000,
    /** Encoded bytes held per peer, same rule: 10 peers stay under 160 MiB even with large messages. */
    queue_max_bytes: 16 * MiB,
    /** Deflate frames above compress_threshold_bytes: off, as on a LAN it costs more CPU than it saves (docs/operations.md); on for WAN links. */
    compress: false,
    /** Below ~1 KiB deflate saves little and its per-call cost dominates. */
    compress_threshold_bytes: 1 * KiB,
    /** A dial (TCP, TLS, hello) slower than this fails and its messages get `failure`: LAN handshakes take ~3 ms. */
    connect_timeout_ms: 5 * SECOND,
    /**
     * Messages written to a peer and not acknowledged this long close the link, and their senders get
     * `failure` LINK_LOST: a peer that never reads (or never acknowledges) held up to queue_max_messages in
     * silence for as long as its connection stayed open. Far above a GC pause, and above queue_max_bytes
     * draining over a 10 Mbit/s link (~13 s); gossip declares a stalled peer dead well before.
     */
    ack_timeout_ms: 30 * SECOND,
    /** How often node.pem/node.key/ca.pem are checked for a change (one stat each): renewal needs no restart. */
    tls_reload_interval_ms: 10 * SECOND,
    /** A join token is accepted this long after `caxton cluster token` made it: a join is a deliberate, near act. */
    join_token_ttl_ms: 24 * HOUR,
  },
  gossip: {
    // memberlist's LAN timings tuned to cluster.md's rule: a crashed node declared dead by every other within
    // 5 s at up to 10 nodes (median < 3 s) with zero false positives, and a node paused for 2 s never declared
    // dead. LAN defaults (1 s probes, suspicion 4 × log10(n) s up to 6×) take 5–25 s. These are the membership core's fastDetect profile
    // (src/cluster/membership/config.ts, where the budget is worked out); a stock `serf agent` still
    // interoperates, since timings are local to each node. Detection ≈ probe round + suspicion, where the
    // suspicion timeout is suspicion_mult × max(1, log10(n)) × probe_interval, shrinking from
    // suspicion_max_timeout_mult times that toward it with independent confirmations (Lifeguard).
    /** Each node probes one peer per interval (2.5× memberlist's rate): a crash is first probed within ~0.4 s. */
    probe_interval_ms: 400,
    /** Time to wait for an ack before indirect probes: still ~100× a LAN round trip, and above GC pauses. */
    probe_timeout_ms: 200,
    /** Peers asked to probe indirectly when a direct probe fails: a lost packet is not a dead node. */
    indirect_checks: 3,
    /** Gossip fan-out per round. */
    gossip_nodes: 3,
    /** Rounds are frequent and small: a death reaches 10 nodes in a few 100 ms rounds. */
    gossip_interval_ms: 100,
    /** Full state sync over TCP, repairing whatever gossip missed; rare because it is costly at size. */
    push_pull_interval_ms: 15 * SECOND,
    /** Suspicion timeout multiplier: 5 × 0.4 s = 2 s at ≤ 10 nodes, time enough for a node paused 2 s to refute. */
    suspicion_mult: 5,
    /** Lifeguard: an unconfirmed (lone) accusation waits at most 3 × 2 s = 6 s. */
    suspicion_max_timeout_mult: 3,
    /** A broadcast is retransmitted retransmit_mult × max(2, ⌈log10(n + 1)⌉) times (src/cluster/membership/timing.ts). */
    retransmit_mult: 4,
    /** Lifeguard local health: probe intervals stretch up to this factor while the node itself is unhealthy. */
    awareness_max_multiplier: 8,
    /** TCP connect/read timeout for push-pull and streams. */
    tcp_timeout_ms: 10 * SECOND,
    /** Dead nodes still receive gossip this long, so they can learn they were declared dead and refute it. */
    gossip_to_the_dead_time_ms: 15 * SECOND,
    /** Largest UDP payload: fits a 1500-byte Ethernet MTU with IP/UDP headers to spare. */
    udp_buffer_size: 1400,
    // Bounds of the gossip TCP port, which anyone who reaches it can use before any key is checked (issue 10):
    // together they cap what hostile connections can make a node buffer at ~64 MiB + 64 × 64 KiB.
    /** Incoming TCP connections at once: push-pulls last milliseconds, so even 100 nodes rarely hold 10; a refused one retries. */
    tcp_max_connections: 64,
    /** Largest stream message (push-pull, user message), as received. Push-pull user state will carry the agent
     * registry (~150 B per agent: 50,000 agents ≈ 7.5 MiB); 16 MiB leaves twice that (memberlist's own limit: 20 MiB). */
    tcp_max_stream_bytes: 16 * 1024 * 1024,
    /** Bytes all incoming streams may buffer together beyond 64 KiB each: four full-size push-pulls at once. */
    tcp_stream_budget_bytes: 64 * 1024 * 1024,
    /** The first bytes of an incoming stream must arrive within this: peers write a message at once; a slowloris is cut 5× sooner than tcp_timeout_ms. */
    tcp_header_timeout_ms: 2 * SECOND,
    /**
     * Delegate protocol versions presented in alive messages: `serf` (2..5, speaking 4) lets stock Serf agents
     * join; `memberlist` (0/0/0) lets plain memberlist nodes (no delegate versions) join instead. memberlist's
     * version rule refuses a cluster holding both, so one cluster picks one.
     */
    delegate_versions: 'serf' as 'serf' | 'memberlist',
    // Bounds of what peers make a node hold, which anyone who reaches an unencrypted gossip port can fill.
    /**
     * Members held, dead and left ones included; alive news about a new name is ignored at the cap (logged).
     * 5× the 1,000 nodes the simulator runs (Caxton is sized for hundreds); at most ~2.5 KiB a member
     * (512-character name, 512 bytes of meta): ~12 MiB, and a push-pull of ~6 MiB, within tcp_max_stream_bytes.
     * Also caps the dead members kept for reconnecting and the departed ones `cluster members` lists.
     */
    max_members: 5000,
    /**
     * Gossip messages waiting to be sent; past it the most transmitted is dropped first (memberlist's
     * Prune). One per member (5,000) plus the registry's 4,096 updates and 1,024 stamps fit; each is at most
     * one 1.4 KB packet, so ~14 MiB at worst.
     */
    max_queued_broadcasts: 10_240,
  },
  registry: {
    /**
     * Entries of the cluster-wide agent registry a node holds, tombstones included. 150,000 covers the
     * 100,000 agents measured on one node (performance-facts) plus their deletions; at ~80 bytes per entry
     * on the wire (bench/registry-convergence.ts) the whole registry fits one push-pull (16 MiB budget), and
     * it holds ~80 MB of heap per 100,000 entries (measured).
     * Beyond it, new names from peers are refused (counted) and a local deploy cannot be published.
     */
    max_records: 150_000,
    /**
     * A deleted agent's tombstone is kept this long, so a node that missed the deletion (partitioned, or
     * down) cannot bring the agent back through push-pull; Serf keeps left members' tombstones as long (24 h).
     */
    tombstone_ttl_ms: 24 * HOUR,
  },
  failover: {
    /**
     * Ownership is checked again this often even when nothing changed (a take-over whose module fetch failed,
     * a record that arrived by push-pull): the spec's 5 s budget from a death to the agent answering holds
     * with room, and a check is one pass over the registry (~10 ms per 100,000 records).
     */
    check_interval_ms: 1 * SECOND,
    /**
     * Bytes of other nodes' modules held in memory, ready for a take-over: a dead node's modules are gone
     * with it, so the node that would take over an agent fetches its module while the owner is alive.
     * Modules are shared by sha256 (ten thousand agents of one module hold it once); 256 MiB is 16 modules
     * of the largest size (agents.max_module_bytes). Beyond it the earliest fetched go first, and those
     * agents' take-over fetches the module from any live node that has it, or waits.
     */
    standby_module_bytes: 256 * MiB,
    /** Agents started at once by a take-over: each start instruments or reuses a module; 8 keeps the event loop answering. */
    take_over_concurrency: 8,
    /** A module fetch from a peer (one round trip of up to agents.max_module_bytes on a LAN) slower than this is tried elsewhere. */
    module_fetch_timeout_ms: 10 * SECOND,
  },
  agents: {
    /** 256 × 64 KiB = 16 MiB (agent-abi.md): room for real agents, 10,000 of them still fit in RAM when idle. */
    memory_pages: 256,
    /** Per invocation (agent-abi.md): ~10 ms of work, stops an infinite loop long before anyone notices. */
    fuel: 10_000_000,
    /**
     * Messages waiting per agent before senders get MAILBOX_FULL. 1024 absorbs the bursts protocols make (a cfp
     * answered by 100 participants, ten conversations at once) while a stalled agent pushes back within ~3 ms
     * at 340k msg/s instead of hiding overload. Memory is bounded per agent (~1 MiB at 1 KiB messages): lower it
     * on nodes packed with thousands of agents.
     */
    mailbox: 1024,
    /** A module above this is refused at deploy (see MAX_MODULE_BYTES). */
    max_module_bytes: MAX_MODULE_BYTES,
    // Structure limits checked at deploy, before anything is compiled: each bounds the compile time and
    // memory one deploy can cost the node. Real agents are far below them (an AssemblyScript agent has ~100
    // functions, a Rust one with its std a few thousand).
    /** Defined functions: 10× a large Rust agent; V8 itself stops at 1,000,000. */
    max_functions: 50_000,
    /** Imports: the ABI offers 8 `caxton` functions and ~45 WASI ones; anything near this is not an agent. */
    max_imports: 1_000,
    /** Exports: the ABI needs 3 to 7; generous for toolchains that export every symbol. */
    max_exports: 10_000,
    /** Tables: one is what every toolchain emits; a few more with reference types. */
    max_tables: 10,
    /** Data segments: a linker emits one per section or per static object; V8 stops at 100,000. */
    max_data_segments: 10_000,
    /** Globals: a stack pointer and a few statics; V8 stops at 1,000,000. */
    max_globals: 10_000,
    /**
     * Entries of a module's tables together, declared or grown to (table.grow is one instruction, and tables are
     * memory that memory_pages does not count: ~30 B an entry, so ~3 MB per instance at this bound). Toolchains
     * emit one table of a few thousand function pointers; ten tables of 10,000,000 killed the process.
     */
    max_table_elements: 100_000,
    /**
     * Live instances before the oldest idle ones are shut down (their agents restart on the next message).
     * V8 reserves ~10 GiB of address space per wasm memory and a process fails near 13,000 of them
     * (docs/operations.md, Limits); 10,000 leaves margin. Raise it only with --disable-wasm-trap-handler.
     */
    max_live_instances: 10_000,
    /** agent-abi.md: 5 traps within 60 s and the agent becomes `failed`. */
    max_traps: 5,
    trap_window_ms: MINUTE,
    /**
     * Ceiling on the `fuel` a deployer may ask for. Agents run on the node's main thread, so one invocation's
     * fuel is time the node answers nothing: the tightest loop measured here burns ~0.35 ns per unit, so 10^9
     * is ~0.35 s of it, under max_invocation_ms (2×10^10 froze /health for 7 s). 100× the default fuel.
     */
    max_fuel: 1_000_000_000,
    /**
     * Ceiling on `memory_pages` a deployer may ask for: 1024 pages = 64 MiB, 4× the default. One agent at the
     * wasm32 maximum (65,536 pages) reached 1 GiB RSS in 16 messages; raise it on nodes sized for such agents.
     */
    max_memory_pages: 1024,
    /**
     * Wall-clock bound of one invocation (init, message, timer, shutdown), checked each time ~1M fuel is used
     * (metering/fuel-meter.ts): stops code that is slow per unit of fuel (large memory.fill/copy, host calls)
     * before it freezes the node. Reported as trap reason `wall_clock_exceeded`. Accurate to about one slice (~1 ms).
     */
    max_invocation_ms: SECOND,
    /**
     * Messages per second one agent may send (token bucket; beyond it send_message returns -3). Above what one
     * agent reaches in a ping-pong chain here (~330k/s unloaded, bench/pingpong.ts: at 200k/s the benchmark's
     * agents, which drop a refused send, lost every message), below a self-sending loop (~350–650k/s measured,
     * unchecked for ever before), which now gets -3. Lower it on nodes shared by tenants who must not flood.
     */
    send_rate: 500_000,
    /** Sends an agent may make at once above send_rate: 50 full invocations' outboxes (maxOutboxPerInvocation 1000). */
    send_burst: 50_000,
    /**
     * Log lines per second one agent may write (token bucket); lines past it are dropped, and the next line kept
     * says how many. Every line of an agent on a worker is posted to the main thread: one agent logging from a
     * timer loop pushed 223,000 lines/s there for a ring that keeps 500. Two rings a second.
     */
    log_rate: 1_000,
    /** Lines an agent may log at once above log_rate: four rings' worth. */
    log_burst: 2_000,
    /**
     * Worker threads that run the agents (docs/architecture.md, Threads), or `auto`: the cores the process may
     * use (os.availableParallelism) minus one for the main thread, at least 1. `auto` by default: an agent
     * that spins on its fuel then delays only its worker's agents, never `/health`, gossip acks or routing
     * (issue 14), and the whole suite runs green at it. 0 runs agents on the main thread beside the API and the
     * gossip, as before the pool existed (still supported; CI runs the agent tests at 0 and at 4 too).
     */
    workers: 'auto' as number | 'auto',
    /**
     * A worker inside one invocation for longer than this is terminated and replaced: its agents start again,
     * the messages it held are answered WORKER_RESTARTED. 5× max_invocation_ms: the fuel meter's wall-clock
     * check ends a slow invocation first, so only code it cannot stop (a host call that never returns) gets here.
     */
    worker_stall_ms: 5 * SECOND,
  },
  messages: {
    /** messages.md: default size limit of a whole message. */
    max_bytes: DEFAULT_MAX_MESSAGE_BYTES,
    /**
     * A tracked conversation with no message for this long is forgotten (its history stays in SQLite); the
     * initiator gets a TIMEOUT (reason "idle") for each answer still owed.
     */
    conversation_idle_ms: 30 * MINUTE,
    /** Tracked conversations held in memory (~300 B each for a request, ~1.4 KB for a 10-way contract net). */
    conversations_max: 100_000,
    /**
     * An ended conversation is held this long, so a late or duplicate reply is refused as "has ended" rather
     * than taken for a new conversation, then forgotten. Such replies come out of the same round of handling
     * (an invocation's sends, a hop to another node: milliseconds); 1 s covers that 100× over, yet at ~32k
     * conversations/s holds ~32k ended ones, a third of conversations_max (held until idle, they filled it in 3 s).
     */
    conversation_ended_grace_ms: SECOND,
    /**
     * Messages this node's agents sent to agents on other nodes and still await an answer to (a request, a
     * query, a cfp, a subscribe), held so their senders get `failure` NODE_FAILED if that node dies (~300 B
     * each plus the message: ~50 MB at 100,000 small ones). Past it the oldest are forgotten, and their
     * senders are not told of such a death (their protocol's reply_by still bounds the wait).
     */
    remote_awaits_max: 100_000,
    /** An awaited message unanswered this long is forgotten (as conversation_idle_ms forgets a conversation). */
    remote_awaits_ttl_ms: 30 * MINUTE,
  },
  events: {
    /**
     * Message events on GET /api/v1/events per second, the first ones of each second (agent state and
     * conversation changes are always sent). A quiet node shows every message, which is what someone watching
     * wants; a busy one (340k msg/s) would otherwise send each listener ~80 MB/s of events and be dropped as a
     * slow client. 100/s is ~25 KB/s, readable. 0 = no message events.
     */
    messages_per_second: 100,
  },
  state: {
    /** Dead letters kept (oldest dropped): enough to diagnose an incident, ~10 MiB at 1 KiB each. */
    dead_letters_max: 10_000,
    /**
     * Dead letters kept per sender: past it a sender's own oldest go first, so one agent flooding a full mailbox
     * (1.28 M MAILBOX_FULL in 8 s, measured) cannot evict the dead letters of every other sender. A tenth of
     * dead_letters_max: the dead letters of at least ten senders survive any one flood.
     */
    dead_letters_per_sender: 1_000,
    /**
     * Bytes of dead-letter message text kept (oldest dropped); one address may hold the share of it that
     * dead_letters_per_sender is of dead_letters_max (~102 MiB: a hundred messages of the largest size). The row
     * bounds alone let 1 MiB messages take 10 GB of disk (1 GB per flooding sender); typical dead letters
     * (~1 KiB) fill the rows long before this.
     */
    dead_letters_max_bytes: 1024 * 1024 * 1024,
    /**
     * Audit rows of ordinary requests kept (oldest dropped): months of API use for a small team, ~30 MiB. Denials
     * and security events have budgets of their own (below), so no category can push another out.
     */
    audit_max_rows: 100_000,
    /** Denial rows kept (401/403/429; floods are aggregated, see api.audit_window_ms). */
    audit_denial_max_rows: 100_000,
    /** Security rows kept (API keys created and revoked, keyring changes): rare, and what an incident review needs. */
    audit_security_max_rows: 100_000,
    /** Request and denial rows older than this go: 90 days covers a quarterly review. */
    audit_max_age_ms: 90 * 24 * HOUR,
    /** Security rows older than this go: about two years, since who had access matters long after the fact. */
    audit_security_max_age_ms: 730 * 24 * HOUR,
    /** Conversation messages kept, and for how long: one second at full load, a day of a quiet system. */
    conversation_max_messages: 100_000,
    /**
     * Bytes of conversation history kept (oldest segments dropped): messages may be 1 MiB each, and 100,000 of
     * them took 100 GB of disk under the message count alone (one client sending 1 MiB messages grew
     * conversations.db by ~20 MB/s here). 1 GiB holds the default count of 10 KiB messages.
     */
    conversation_max_bytes: 1024 * 1024 * 1024,
    conversation_max_age_ms: 24 * HOUR,
    /**
     * Group commit of the append-only logs: a commit costs 15–30 µs, a 100-row batch about as much as three
     * single commits; 5 ms bounds what a crash can lose and keeps GET /conversations nearly live.
     */
    flush_interval_ms: 5,
    /** A burst flushes at this many rows without waiting for the timer: bounds memory and batch latency. */
    flush_max_rows: 1000,
    /**
     * Which conversations the history keeps. `tracked`: those a client opened or that name a `protocol` —
     * what an operator inspects — every message of them. `all` adds agent-to-agent chatter without a protocol,
     * which costs ~3 µs per message (about 30% of a core at 100k msg/s, measured). `off` keeps none.
     */
    conversation_log: 'tracked' as 'all' | 'tracked' | 'off',
    /**
     * Where the state tool keeps agents' values. `sqlite`: the node's own database, fastest (~µs) but local to
     * the node, so an agent moved to another node starts with empty state. `postgres`: one database shared by
     * the cluster (state.postgres_url), so an agent's state is the same whichever node runs it.
     */
    backend: 'sqlite' as 'sqlite' | 'postgres',
    /** postgres://user:password@host:port/db of the shared state database; required with backend postgres. Secret. */
    postgres_url: undefined as string | undefined,
    /**
     * Connections one node holds to PostgreSQL: calls beyond it wait for a free one. 10 is pg's default and,
     * over 10 nodes, 100 connections (PostgreSQL's default max_connections); raise it with the server's limit.
     */
    postgres_pool_max: 10,
    /** A connection attempt to PostgreSQL slower than this fails the call (UNAVAILABLE) instead of hanging it. */
    postgres_connect_timeout_ms: 5 * SECOND,
    /**
     * Keys one agent may keep in the state tool (either backend); a store or batch_store that would add more is
     * refused (QUOTA_EXCEEDED) and writes nothing. 100,000 is 100 full `list` pages: far above what an agent
     * keeps as business state, and it bounds the per-row overhead that max_bytes_per_agent does not count
     * (~40-100 bytes a row in the index and table, ~10 MB). 0 = no limit.
     */
    max_keys_per_agent: 100_000,
    /**
     * UTF-8 bytes of key + value JSON text one agent may keep, summed over its keys. One agent looping
     * batch_store grew caxton.db by 67 MB/s with nothing refusing it, filling the disk the whole node needs;
     * 256 MiB is 256 values at the 1 MiB maximum, about four seconds of that loop, and 100 agents at their
     * quota (25 GiB) still fit a modest disk. Raise it for agents known to keep more. 0 = no limit.
     */
    max_bytes_per_agent: 256 * MiB,
  },
  mcp: {
    /**
     * The MCP servers this node's agents may be granted (src/config/mcp-servers.ts): none by default, since
     * a server is a program or a URL the operator chooses. Started on first call, shared by the node's agents.
     */
    servers: {} as Record<string, McpServerConfig>,
    /**
     * A tool call's deadline (a server entry's `timeout_ms` overrides it): 30 s, the MCP SDK's own default,
     * leaves a slow search or fetch time to finish and still frees the agent's call slot when a server hangs.
     */
    call_timeout_ms: 30 * SECOND,
    /**
     * The largest CallToolResult passed to an agent, as JSON bytes. It arrives as the content of a message, so
     * the message limit (1 MiB) is its natural size; a larger answer fails TOO_LARGE. A stdio line or an HTTP
     * response beyond it (plus framing) closes that connection rather than being buffered whole.
     */
    max_result_bytes: DEFAULT_MAX_MESSAGE_BYTES,
    /**
     * Calls in flight to one server: a stdio server is one process reading one pipe, so more only queue
     * inside it; 64 keeps a slow server from holding unbounded requests. Beyond it a call fails QUOTA_EXCEEDED.
     */
    max_calls_per_server: 64,
    /**
     * Calls in flight per agent across all servers: 16 lets an agent fan out, and keeps one agent from taking
     * every slot of a shared server from the others. Beyond it a call fails QUOTA_EXCEEDED.
     */
    max_calls_per_agent: 16,
    /** Starting a server (spawn + MCP initialize + tools/list): npx may download a package on first run. */
    start_timeout_ms: 30 * SECOND,
    /**
     * Wait before starting a server again after it exited or failed to start, doubled per consecutive failure
     * up to restart_backoff_max_ms: a crashing server costs at most a start every 30 s, not a fork loop.
     */
    restart_backoff_ms: 250,
    restart_backoff_max_ms: 30 * SECOND,
  },
  backup: {
    /**
     * Scheduled backups of the database (an online copy, as `caxton backup create` takes): 0 = none. Off by
     * default because each copy is the size of the database and where to keep it is the operator's choice;
     * 3,600,000 (hourly) is a common setting.
     */
    interval_ms: 0,
    /** Scheduled backups kept in backup.dir, the oldest deleted past it: a day of hourly backups. */
    keep: 24,
    /**
     * Unset: <data_dir>/backups. A directory on another disk survives the loss of the data dir's, which a
     * backup is for.
     */
    dir: undefined as string | undefined,
  },
  log: {
    /** info: start-up, membership and lifecycle events; nothing per message. */
    level: 'info' as 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent',
    /**
     * auto: one readable line per event (time, level, message, fields) when stdout is a terminal, JSON lines
     * otherwise, which is what log shippers, `jq` and the tests read. json and pretty force one or the other.
     */
    format: 'auto' as 'auto' | 'json' | 'pretty',
  },
  metrics: {
    /** Process metrics (CPU, memory, event-loop lag, GC) next to Caxton's: what an operator checks first. */
    process_metrics: true,
  },
  telemetry: {
    /**
     * Where OpenTelemetry spans are sent (OTLP/HTTP, JSON), e.g. http://127.0.0.1:4318/v1/traces; a URL without
     * a path gets /v1/traces. Unset: no tracing at all, and no cost beyond one test per message.
     */
    otlp_endpoint: undefined as string | undefined,
    /**
     * Share of new traces recorded (0..1). A trace a client starts with a sampled `traceparent` is always
     * recorded. 0.01: at 100k msg/s every span would cost more than routing (a sampled span ~4 µs, see
     * docs/operations.md) and flood the collector; one trace in a hundred still shows every path.
     */
    sampling_ratio: 0.01 as number,
    /** The `service.name` of the spans: one name for every node of a cluster, told apart by service.instance.id. */
    service_name: 'caxton',
    /**
     * Finished spans waiting for export; past it new spans are dropped, never memory grown. 2,048 is the
     * OpenTelemetry default: ~2 MB, a few seconds of sampled traffic while a collector is slow.
     */
    max_queued_spans: 2048,
    /** How often a batch of spans is sent: 1 s keeps traces nearly live at one request per second. */
    export_interval_ms: 1000,
  },
};

export type ConfigDefaults = typeof DEFAULTS;
