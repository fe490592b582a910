// A js-libp2p 3.x peer for the C# interop tests (TCP + Noise + Yamux + Identify + Ping), the independent implementation
// FedAgg.Libp2p is checked against.
//
//   node peer.mjs listen [--key HEX] [--port P] [--agent NAME]
//       Listens on 127.0.0.1, prints one JSON line {"event":"listening","peerId":…,"addrs":[…]} and then answers
//       commands, one JSON object per stdin line ({"id":1,"cmd":"ping","addr":"…"}), with one JSON line each
//       ({"id":1,"ok":true,…} or {"id":1,"ok":false,"error":{"name":…,"message":…}}). Exits when stdin ends.
//   node peer.mjs dial <multiaddr> [--key HEX] [--cases identify,ping,echo,echo16m,echo100,halfclose,reset]
//       Dials, runs the named cases in order and prints one JSON line per case ({"case":…,"ok":…,…}); exit code 0
//       when every case succeeded, 1 otherwise.
//
// Commands (listen mode; `addr` is a multiaddr ending in /p2p/<id>, an open connection to that peer is reused):
//   dial {addr} · connections {peer?} · hangup {peer} · identify {addr} (the remote's identify answer on that
//   connection) · peerstore {peer, protocol?} (what js stored, waiting until it lists `protocol`) · ping {addr, count}
//   · echo {addr, size, streams} (concurrent echo streams checked by SHA-256) · rawecho {addr, size, chunks} ·
//   halfclose {addr, sizes} (FIN while echoes are in flight) · reset {addr, announced, partial} (abort mid-message) ·
//   events {protocol?, outcome?, count?} (inbound stream outcomes, waiting until `count` match) · clearevents · quit.
//   Every command may carry timeoutMs (default 60000).
//
// --key takes a 32-byte Ed25519 seed in hex, so a test can predict the peer id; without it a fresh key is generated.
// Served protocols besides identify and ping:
//   /fedagg/test/echo/1.0.0    uvarint length-prefixed messages, each echoed back, until the remote closes its
//                              write side; then this side closes too.
//   /fedagg/test/rawecho/1.0.0 raw bytes echoed until the remote closes its write side.
//   /fedagg/test/source/1.0.0  reads one length-prefixed JSON request {"bytes":N,"end":"close"|"reset"}, writes N
//                              bytes (byte i = i % 251) and then closes (FIN) or aborts (reset) the stream.
// Every inbound stream's outcome is recorded and returned by the "events" command.
import './polyfill.mjs'
import { createHash, randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { byteStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

export const ECHO = '/fedagg/test/echo/1.0.0'
export const RAWECHO = '/fedagg/test/rawecho/1.0.0'
export const SOURCE = '/fedagg/test/source/1.0.0'
const MAX_MESSAGE = 32 * 1024 * 1024
const MAX_BUFFER = 64 * 1024 * 1024
const STREAM_LIMIT = 512
const DEFAULT_TIMEOUT_MS = 20_000

const sha256 = (data) => createHash('sha256').update(data).digest('hex')

function encodeVarint (value) {
  const out = []
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
  return Uint8Array.from(out)
}

/** Length-prefixed messages over a byte stream; readMessage returns null at a clean end of stream. */
class MessageReader {
  constructor (stream) {
    this.bytes = byteStream(stream, { maxBufferSize: MAX_BUFFER })
    this.chunks = []
    this.length = 0
  }

  async more () {
    const chunk = await this.bytes.read()
    if (chunk == null) return false
    const data = chunk.subarray()
    this.chunks.push(data)
    this.length += data.byteLength
    return true
  }

  take (n) {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
    const result = joined.subarray(0, n)
    const rest = joined.subarray(n)
    this.chunks = rest.byteLength > 0 ? [rest] : []
    this.length = rest.byteLength
    return result
  }

  /** Raw bytes as they arrive; null at the end of the stream. */
  async readChunk () {
    if (this.length > 0) return this.take(this.length)
    return (await this.more()) ? this.take(this.length) : null
  }

  async readMessage (max = MAX_MESSAGE) {
    for (;;) {
      const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
      this.chunks = joined.byteLength > 0 ? [joined] : []
      let value = 0
      let shift = 1
      let i = 0
      let complete = false
      for (; i < joined.byteLength && i < 5; i++) {
        value += (joined[i] & 0x7f) * shift
        shift *= 128
        if ((joined[i] & 0x80) === 0) { complete = true; i++; break }
      }
      if (!complete && i >= 5) throw new Error('message length varint too long')
      if (complete) {
        if (value > max) throw new Error(`message length ${value} exceeds ${max}`)
        if (joined.byteLength >= i + value) {
          this.take(i)
          return this.take(value)
        }
      }
      if (!(await this.more())) {
        if (this.length === 0) return null
        throw new Error(`stream ended inside a message (${this.length} bytes buffered)`)
      }
    }
  }

  async write (data) {
    await this.bytes.write(data)
  }

  async writeMessage (data) {
    await this.bytes.write(Buffer.concat([encodeVarint(data.byteLength), data]))
  }
}

function errorJson (err) {
  return { name: err?.name ?? 'Error', message: String(err?.message ?? err), code: err?.code }
}

function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not finish within ${ms} ms`), { name: 'TimeoutError' })), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export async function createPeer ({ keyHex, port = 0, agent, listen = true }) {
  const privateKey = keyHex != null
    ? await generateKeyPairFromSeed('Ed25519', Buffer.from(keyHex, 'hex'))
    : await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: listen ? [`/ip4/127.0.0.1/tcp/${port}`] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({
      maxInboundStreams: STREAM_LIMIT,
      maxOutboundStreams: STREAM_LIMIT,
      streamOptions: { maxReadBufferLength: MAX_BUFFER }
    })],
    connectionManager: { maxConnections: 64 },
    nodeInfo: agent != null ? { userAgent: agent } : undefined,
    services: {
      identify: identify({ timeout: DEFAULT_TIMEOUT_MS }),
      ping: ping({ timeout: DEFAULT_TIMEOUT_MS })
    }
  })
  const events = []
  // js runs identify by itself on every new connection, and a second, concurrent identify stream to the same peer is
  // refused by the remote's stream limit, so the identify command reports the automatic exchange's result.
  const identified = new Map()
  node.addEventListener('peer:identify', (evt) => identified.set(evt.detail.connection.id, evt.detail))
  const handlerOptions = { maxInboundStreams: STREAM_LIMIT, maxOutboundStreams: STREAM_LIMIT }
  await node.handle(ECHO, async (stream, connection) => {
    const reader = new MessageReader(stream)
    let messages = 0
    let bytes = 0
    try {
      for (;;) {
        const message = await reader.readMessage()
        if (message == null) break
        messages++
        bytes += message.byteLength
        await reader.writeMessage(message)
      }
      if (wasReset(stream)) throw new Error('stream reset')
      await stream.close()
      events.push({ protocol: ECHO, remotePeer: connection.remotePeer.toString(), outcome: 'end', messages, bytes })
    } catch (err) {
      events.push({ protocol: ECHO, remotePeer: connection.remotePeer.toString(), outcome: wasReset(stream) ? 'reset' : 'error', messages, bytes, error: errorJson(err), status: stream.status })
      stream.abort(err)
    }
  }, handlerOptions)
  await node.handle(RAWECHO, async (stream, connection) => {
    const reader = new MessageReader(stream)
    let bytes = 0
    const hash = createHash('sha256')
    try {
      for (;;) {
        const chunk = await reader.readChunk()
        if (chunk == null) break
        bytes += chunk.byteLength
        hash.update(chunk)
        await reader.write(chunk)
      }
      if (wasReset(stream)) throw new Error('stream reset')
      await stream.close()
      events.push({ protocol: RAWECHO, remotePeer: connection.remotePeer.toString(), outcome: 'end', bytes, sha256: hash.digest('hex') })
    } catch (err) {
      events.push({ protocol: RAWECHO, remotePeer: connection.remotePeer.toString(), outcome: wasReset(stream) ? 'reset' : 'error', bytes, error: errorJson(err), status: stream.status })
      stream.abort(err)
    }
  }, handlerOptions)
  await node.handle(SOURCE, async (stream, connection) => {
    const reader = new MessageReader(stream)
    try {
      const request = JSON.parse(Buffer.from(await reader.readMessage(4096)).toString('utf8'))
      const data = patternBytes(request.bytes)
      await reader.write(data)
      if (request.end === 'reset') {
        // Let the data leave before the reset, so the remote sees the reset mid-transfer rather than instead of it.
        if (stream.writeBufferLength > 0) await stream.onDrain()
        stream.abort(new Error('source: reset requested'))
      } else {
        await stream.close()
      }
      events.push({ protocol: SOURCE, remotePeer: connection.remotePeer.toString(), outcome: request.end === 'reset' ? 'reset-sent' : 'end', bytes: request.bytes })
    } catch (err) {
      events.push({ protocol: SOURCE, remotePeer: connection.remotePeer.toString(), outcome: 'error', error: errorJson(err) })
      stream.abort(err)
    }
  }, handlerOptions)
  await node.start()
  return { node, events, identified }
}

const wasReset = (stream) => stream.status === 'reset' || stream.status === 'aborted'

function patternBytes (n) {
  const data = Buffer.alloc(n)
  for (let i = 0; i < n; i++) data[i] = i % 251
  return data
}

function connectionJson (c) {
  return {
    id: c.id,
    remotePeer: c.remotePeer.toString(),
    remoteAddr: c.remoteAddr.toString(),
    direction: c.direction,
    status: c.status,
    multiplexer: c.multiplexer,
    encryption: c.encryption,
    streams: c.streams.map(s => ({ protocol: s.protocol, direction: s.direction, status: s.status }))
  }
}

async function connectionTo (node, target) {
  const ma = multiaddr(target)
  const peer = ma.getComponents().find(c => c.name === 'p2p')?.value
  if (peer != null) {
    const existing = node.getConnections(peerIdFromString(peer)).find(c => c.status === 'open')
    if (existing != null) return existing
  }
  return node.dial(ma, { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) })
}

async function openStream (connection, protocol) {
  return connection.newStream(protocol, { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS), maxOutboundStreams: STREAM_LIMIT })
}

/** One echo stream: one message of `size` random bytes, its echo checked by hash, then a clean end both ways. */
async function echoOnce (connection, size) {
  const stream = await openStream(connection, ECHO)
  const reader = new MessageReader(stream)
  const data = randomBytes(size)
  const sent = sha256(data)
  const started = performance.now()
  await reader.writeMessage(data)
  await stream.close()
  const echoed = await reader.readMessage()
  const after = await reader.readMessage()
  return {
    size,
    sent,
    received: echoed == null ? null : sha256(echoed),
    receivedBytes: echoed?.byteLength ?? 0,
    endedCleanly: after === null,
    ms: Math.round(performance.now() - started)
  }
}

export const commands = {
  async dial (ctx, { addr }) {
    const connection = await connectionTo(ctx.node, addr)
    return { connection: connectionJson(connection) }
  },

  async connections (ctx, { peer }) {
    const list = peer != null ? ctx.node.getConnections(peerIdFromString(peer)) : ctx.node.getConnections()
    return { connections: list.map(connectionJson) }
  },

  async hangup (ctx, { peer }) {
    await ctx.node.hangUp(peerIdFromString(peer))
    return {}
  },

  /**
   * The remote's identify answer on the connection to `addr`: the exchange js ran by itself on connecting, or, when
   * that has not produced a result within `waitMs`, an explicit identify (whose error is then the answer).
   */
  async identify (ctx, { addr, waitMs = 5_000 }) {
    const connection = await connectionTo(ctx.node, addr)
    const deadline = Date.now() + waitMs
    while (!ctx.identified.has(connection.id) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    const automatic = ctx.identified.get(connection.id)
    const result = automatic ?? await ctx.node.services.identify.identify(connection, { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) })
    return {
      automatic: automatic != null,
      peerId: result.peerId.toString(),
      agentVersion: result.agentVersion,
      protocolVersion: result.protocolVersion,
      protocols: result.protocols,
      listenAddrs: result.listenAddrs.map(a => a.toString()),
      observedAddr: result.observedAddr?.toString()
    }
  },

  /** What js's peer store learnt about `peer` (waits up to timeoutMs until it lists `protocol`, when given). */
  async peerstore (ctx, { peer, protocol, timeoutMs = DEFAULT_TIMEOUT_MS }) {
    const id = peerIdFromString(peer)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const stored = await ctx.node.peerStore.get(id).catch(() => null)
      if (stored != null && (protocol == null || stored.protocols.includes(protocol))) {
        const agent = stored.metadata.get('AgentVersion')
        return {
          protocols: stored.protocols,
          agentVersion: agent != null ? Buffer.from(agent).toString('utf8') : null,
          addresses: stored.addresses.map(a => a.multiaddr.toString())
        }
      }
      if (Date.now() > deadline) {
        throw Object.assign(new Error(`peer store has no ${protocol ?? 'record'} for ${peer} after ${timeoutMs} ms`), { name: 'TimeoutError' })
      }
      await new Promise(resolve => setTimeout(resolve, 25))
    }
  },

  async ping (ctx, { addr, count = 1 }) {
    const connection = await connectionTo(ctx.node, addr)
    const rtts = []
    for (let i = 0; i < count; i++) {
      rtts.push(await ctx.node.services.ping.ping(connection.remoteAddr.encapsulate(`/p2p/${connection.remotePeer}`), { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) }))
    }
    return { rtts }
  },

  /** `streams` concurrent echo streams of `size` bytes each. */
  async echo (ctx, { addr, size, streams = 1 }) {
    const connection = await connectionTo(ctx.node, addr)
    const started = performance.now()
    const results = await Promise.all(Array.from({ length: streams }, () => echoOnce(connection, size)))
    const ok = results.every(r => r.sent === r.received && r.endedCleanly)
    return { ok, ms: Math.round(performance.now() - started), results, connectionId: connection.id }
  },

  /** Raw bytes in `chunks` writes, then FIN; checks that exactly the same bytes come back, then the end. */
  async rawecho (ctx, { addr, size, chunks = 4 }) {
    const connection = await connectionTo(ctx.node, addr)
    const stream = await openStream(connection, RAWECHO)
    const reader = new MessageReader(stream)
    const data = randomBytes(size)
    const step = Math.ceil(size / chunks)
    const receiving = (async () => {
      const parts = []
      for (;;) {
        const chunk = await reader.readChunk()
        if (chunk == null) return Buffer.concat(parts)
        parts.push(Buffer.from(chunk))
      }
    })()
    for (let offset = 0; offset < size; offset += step) await reader.write(data.subarray(offset, offset + step))
    await stream.close()
    const back = await receiving
    return { sent: sha256(data), received: sha256(back), receivedBytes: back.byteLength, connectionId: connection.id }
  },

  /**
   * Half-close mid-transfer: writes message 1 and waits for its echo, writes the rest without waiting, closes the
   * write side (FIN) while those echoes are still on their way, then reads them all and the end of the stream.
   */
  async halfclose (ctx, { addr, sizes = [65536, 262144, 1048576] }) {
    const connection = await connectionTo(ctx.node, addr)
    const stream = await openStream(connection, ECHO)
    const reader = new MessageReader(stream)
    const data = sizes.map(size => randomBytes(size))
    await reader.writeMessage(data[0])
    const echoes = [await reader.readMessage()]
    for (const message of data.slice(1)) await reader.writeMessage(message)
    await stream.close()
    for (let i = 1; i < data.length; i++) echoes.push(await reader.readMessage())
    const after = await reader.readMessage()
    return {
      sent: data.map(sha256),
      received: echoes.map(e => (e == null ? null : sha256(e))),
      endedCleanly: after === null,
      connectionId: connection.id
    }
  },

  /**
   * Reset mid-transfer: one full message and its echo, then the length prefix of `announced` bytes and only `partial`
   * of them, then abort (Yamux RST) while the remote waits for the rest.
   */
  async reset (ctx, { addr, announced = 1048576, partial = 65536 }) {
    const connection = await connectionTo(ctx.node, addr)
    const stream = await openStream(connection, ECHO)
    const reader = new MessageReader(stream)
    const first = randomBytes(1024)
    await reader.writeMessage(first)
    const echo = await reader.readMessage()
    await reader.write(Buffer.concat([encodeVarint(announced), randomBytes(partial)]))
    if (stream.writeBufferLength > 0) await stream.onDrain({ signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) })
    stream.abort(new Error('interop test: reset mid-transfer'))
    return { firstSent: sha256(first), firstEchoed: echo != null && sha256(echo) === sha256(first), status: stream.status, connectionId: connection.id }
  },

  /** The inbound stream outcomes recorded so far (of `protocol`, with `outcome`), waiting until there are `count`. */
  async events (ctx, { protocol, outcome, count = 0, timeoutMs = DEFAULT_TIMEOUT_MS }) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const matching = ctx.events.filter(e => (protocol == null || e.protocol === protocol) && (outcome == null || e.outcome === outcome))
      if (matching.length >= count) return { events: matching }
      if (Date.now() > deadline) {
        throw Object.assign(new Error(`only ${matching.length} of ${count} ${protocol ?? ''} stream events after ${timeoutMs} ms: ${JSON.stringify(matching)}`), { name: 'TimeoutError' })
      }
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  },

  async clearevents (ctx) {
    ctx.events.length = 0
    return {}
  }
}

function parseArgs (argv) {
  const options = { positional: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--key') options.keyHex = argv[++i]
    else if (arg === '--port') options.port = Number(argv[++i])
    else if (arg === '--agent') options.agent = argv[++i]
    else if (arg === '--cases') options.cases = argv[++i].split(',')
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`)
    else options.positional.push(arg)
  }
  return options
}

const print = (value) => process.stdout.write(JSON.stringify(value) + '\n')

async function runCommand (ctx, request) {
  const handler = commands[request.cmd]
  if (handler == null) throw new Error(`unknown command ${request.cmd}`)
  return withTimeout(handler(ctx, request), request.timeoutMs ?? 60_000, request.cmd)
}

async function listen (options) {
  const ctx = await createPeer(options)
  print({ event: 'listening', peerId: ctx.node.peerId.toString(), addrs: ctx.node.getMultiaddrs().map(a => a.toString()), agentVersion: options.agent })
  ctx.node.addEventListener('connection:open', (evt) => console.error(`js: connection open ${evt.detail.remotePeer} ${evt.detail.remoteAddr}`))
  ctx.node.addEventListener('connection:close', (evt) => console.error(`js: connection closed ${evt.detail.remotePeer}`))
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  const pending = new Set()
  for await (const line of lines) {
    if (line.trim().length === 0) continue
    let request
    try {
      request = JSON.parse(line)
    } catch (err) {
      print({ ok: false, error: errorJson(err) })
      continue
    }
    if (request.cmd === 'quit') break
    // Commands run concurrently; each answer carries the request's id.
    const task = runCommand(ctx, request)
      .then(result => print({ id: request.id, ok: true, ...result }))
      .catch(err => print({ id: request.id, ok: false, error: errorJson(err) }))
    pending.add(task)
    task.finally(() => pending.delete(task))
  }
  await Promise.allSettled([...pending])
  await ctx.node.stop()
}

async function dial (options) {
  const [addr] = options.positional
  if (addr == null) throw new Error('usage: peer.mjs dial <multiaddr> [--cases …]')
  const ctx = await createPeer({ ...options, listen: false })
  const cases = options.cases ?? ['identify', 'ping', 'echo']
  let allOk = true
  const cased = {
    identify: () => commands.identify(ctx, { addr }),
    ping: () => commands.ping(ctx, { addr, count: 3 }),
    echo: () => commands.echo(ctx, { addr, size: 1024, streams: 1 }),
    echo16m: () => commands.echo(ctx, { addr, size: 16 * 1024 * 1024, streams: 1 }),
    echo100: () => commands.echo(ctx, { addr, size: 64 * 1024, streams: 100 }),
    halfclose: () => commands.halfclose(ctx, { addr }),
    reset: () => commands.reset(ctx, { addr })
  }
  print({ event: 'started', peerId: ctx.node.peerId.toString() })
  for (const name of cases) {
    const run = cased[name]
    try {
      if (run == null) throw new Error(`unknown case ${name}`)
      const result = await withTimeout(run(), 60_000, name)
      const ok = result.ok !== false
      allOk &&= ok
      print({ case: name, ...result, ok })
    } catch (err) {
      allOk = false
      print({ case: name, ok: false, error: errorJson(err) })
    }
  }
  await ctx.node.stop()
  return allOk ? 0 : 1
}

const isMain = process.argv[1] != null && import.meta.url === new URL(`file://${process.argv[1]}`).href
if (isMain) {
  const [mode, ...rest] = process.argv.slice(2)
  try {
    const options = parseArgs(rest)
    if (mode === 'listen') {
      await listen(options)
      process.exit(0)
    } else if (mode === 'dial') {
      process.exit(await dial(options))
    } else {
      console.error('usage: peer.mjs listen [--key HEX] [--port P] [--agent NAME] | dial <multiaddr> [--key HEX] [--cases a,b,…]')
      process.exit(2)
    }
  } catch (err) {
    console.error(`peer.mjs: ${err?.stack ?? err}`)
    process.exit(1)
  }
}
