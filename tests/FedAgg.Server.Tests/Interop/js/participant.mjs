// A FedAgg participant on js-libp2p 3.x (TCP + Noise + Yamux), written from docs/PROTOCOL.md, the independent
// implementation the server's end-to-end tests use beside the C# participant. It dials the server, and for each round
// fetches the current model (/fedagg/model/1.0.0), checks its SHA-256, builds a float32 delta, signs the update preimage
// with its Ed25519 key, submits it (/fedagg/submit/1.0.0) and verifies the signed receipt.
//
//   node participant.mjs --server <multiaddr …/p2p/<id>> --task <id> [options]
//
// Options:
//   --key-seed HEX       32-byte Ed25519 seed (64 hex digits, optional 0x): a fixed identity; default a fresh key.
//   --rounds N           rounds to take part in (default 1). After each accepted update it polls the model protocol
//                        every --poll-ms until the server's model has changed and a newer round is open.
//   --elements N         the update's element count; default the model's numElements (a different count tests
//                        the server's shape check).
//   --delta-scale X      the delta's values lie in [-X, X) (default 0.01).
//   --seed S             u64 (decimal) the deltas derive from: element values come from
//                        SHA-256("FEDAGG-JSP-DELTA" ‖ u64 seed ‖ u64 round ‖ u64 block) in counter mode, four bytes
//                        (u32 LE) per element; default a random seed (reported in the ready event).
//   --num-samples N      the preimage's numSamples (default 10).
//   --tamper KIND        none (default) | signature (flip a bit of the signature → 2) | stale-base (baseModelHash of
//                        zeros → 6) | wrong-round (openRound + 1 → 3) | payload-hash (payloadSha256 of other bytes,
//                        signed → 9). A tampered run reports the receipt and exits 0 whatever its status.
//   --bind-address 0x…   sign the address binding ("FEDAGG-BIND-V1" ‖ u64 chainId ‖ ledger ‖ address, chain and ledger
//                        from the first model answer), send it on /fedagg/bind/1.0.0 (BindRequest { uint64 chainId = 1;
//                        bytes ledger = 2; bytes address = 3; bytes signature = 4 } → BindResponse { uint32 status = 1;
//                        string reason = 2 }) when the server speaks that protocol, and report it in a binding event
//                        ("sent": false when the server does not; a refusal fails the run).
//   --timeout-ms T       the bound on each wait: dial, a model fetch, a submission, the wait for the next round
//                        (default 60000). The whole run is also bounded (a watchdog of T × (3 × rounds + 2)).
//   --poll-ms T          how often to ask for the model while waiting for a round (default 200).
//
// Output: one JSON object per line on stdout:
//   {"event":"ready","peerId","server","seed"}                       after the dial
//   {"event":"model","round","openRound","openRoundDeadlineUnixMs","modelHash","payloadSha256","payloadBytes",
//    "codec","numElements","chainId","ledger","hashMatches":true}   per fetched model used for a round
//   {"event":"binding","address","chainId","ledger","signature","publicKey","sent","status","reason"} with --bind-address
//   {"event":"receipt","round","tamper","status","statusName","reason","updateId","expectedUpdateId","updateIdMatches",
//    "sequence","receivedUnixMs","signatureValid","serverPeerId","receipt","preimage","signature","publicKey",
//    "payloadSha256","numElements"}                                 per submission (byte strings as 0x-hex)
//   {"event":"done"}                                                  then exit 0
//   {"event":"error","message"}                                       on any failure, then exit 1
// Log lines (never key material) go to stderr.
import '../../../FedAgg.Libp2p.Tests/Interop/js/polyfill.mjs'
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import {
  BIND_PROTOCOL, FramedStream, MAX_BIND_RESPONSE_FRAME, MAX_MODEL_RESPONSE_FRAME, MAX_RECEIPT_FRAME, MODEL_PROTOCOL,
  STATUS_NAMES, SUBMIT_PROTOCOL, WireError, bindingSignedBytes, decodeBindResponse, decodeModelResponse, encodeBindRequest, decodeReceipt, ed25519PublicKeyProtobuf, elementSize, encodeModelRequest,
  encodePreimage, encodeSubmitRequest, fromHex, parseEd25519PublicKeyProtobuf, receiptSignedBytes, sha256, toHex, u64Json
} from './wire.mjs'

const TAMPERS = ['none', 'signature', 'stale-base', 'wrong-round', 'payload-hash']
const WRITE_CHUNK = 64 * 1024
const MAX_MODEL_BYTES = 1024 * 1024 * 1024

const print = (value) => process.stdout.write(JSON.stringify(value) + '\n')
const started = performance.now()
const log = (message) => process.stderr.write(`participant.mjs +${Math.round(performance.now() - started)} ms: ${message}\n`)

function usage (message) {
  throw new Error(`${message}\nusage: node participant.mjs --server <multiaddr/p2p/id> --task <id> [--key-seed HEX] [--rounds N] [--elements N] [--delta-scale X] [--seed S] [--num-samples N] [--tamper ${TAMPERS.join('|')}] [--bind-address 0x…] [--timeout-ms T] [--poll-ms T]`)
}

function parseArgs (argv) {
  const options = { rounds: 1, deltaScale: 0.01, numSamples: 10n, tamper: 'none', timeoutMs: 60_000, pollMs: 200 }
  const integer = (text, name, min, max) => {
    if (!/^\d+$/.test(text ?? '')) usage(`${name} takes a whole number`)
    const value = Number(text)
    if (value < min || value > max) usage(`${name} must be in ${min}..${max}`)
    return value
  }
  const u64 = (text, name) => {
    if (!/^\d{1,20}$/.test(text ?? '') || BigInt(text) > (1n << 64n) - 1n) usage(`${name} takes a u64 in decimal`)
    return BigInt(text)
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`)
      return argv[++i]
    }
    switch (arg) {
      case '--server': options.server = next(); break
      case '--task': options.task = next(); break
      case '--key-seed': {
        const text = next().replace(/^0x/, '')
        if (!/^[0-9a-fA-F]{64}$/.test(text)) usage('--key-seed takes 64 hex digits')
        options.keySeed = Buffer.from(text, 'hex')
        break
      }
      case '--rounds': options.rounds = integer(next(), arg, 1, 1000); break
      case '--elements': options.elements = integer(next(), arg, 0, 2 ** 31); break
      case '--delta-scale': {
        options.deltaScale = Number(next())
        if (!Number.isFinite(options.deltaScale) || options.deltaScale < 0) usage('--delta-scale takes a finite number ≥ 0')
        break
      }
      case '--seed': options.seed = u64(next(), arg); break
      case '--num-samples': options.numSamples = u64(next(), arg); break
      case '--tamper': {
        options.tamper = next()
        if (!TAMPERS.includes(options.tamper)) usage(`--tamper takes one of ${TAMPERS.join(', ')}`)
        break
      }
      case '--bind-address': options.bindAddress = fromHex(next(), 20, '--bind-address'); break
      case '--timeout-ms': options.timeoutMs = integer(next(), arg, 100, 3_600_000); break
      case '--poll-ms': options.pollMs = integer(next(), arg, 10, 60_000); break
      default: usage(`unknown option ${arg}`)
    }
  }
  if (options.server == null) usage('--server is required')
  if (options.task == null || options.task.length === 0) usage('--task is required')
  const serverPeer = multiaddr(options.server).getComponents().find(c => c.name === 'p2p')?.value
  if (serverPeer == null) usage('--server must end in /p2p/<peer id>')
  options.serverPeer = peerIdFromString(serverPeer)
  options.seed ??= randomBytes(8).readBigUInt64BE()
  return options
}

const signal = (timeoutMs) => AbortSignal.timeout(timeoutMs)

/** Fetches the task's current model: the decoded response and, for status 0, the payload's SHA-256 and length. */
async function fetchModel (connection, taskId, timeoutMs) {
  const abort = signal(timeoutMs)
  const stream = await connection.newStream(MODEL_PROTOCOL, { signal: abort })
  try {
    const framed = new FramedStream(stream, MAX_MODEL_RESPONSE_FRAME + 16 * 1024 * 1024)
    await framed.writeMessage(encodeModelRequest(taskId), abort)
    await stream.close({ signal: abort })
    const frame = await framed.readMessage(MAX_MODEL_RESPONSE_FRAME, abort)
    if (frame == null) throw new WireError('the model stream ended without a response')
    const response = decodeModelResponse(frame)
    if (response.status !== 0n) {
      // No payload follows a refusal; the stream should end here.
      return { response, payloadSha256: null, payloadBytes: 0 }
    }
    const size = elementSize(response.codec)
    if (size == null) throw new WireError(`the model response names codec ${response.codec}, which is not 0, 1 or 2`)
    const expected = response.numElements * BigInt(size)
    if (expected > BigInt(MAX_MODEL_BYTES)) throw new WireError(`the model is ${expected} bytes, more than this participant takes (${MAX_MODEL_BYTES})`)
    const hash = createHash('sha256')
    let received = 0
    for (;;) {
      const chunk = await framed.readChunk(abort)
      if (chunk == null) break
      received += chunk.length
      if (received > Number(expected)) throw new WireError(`the model payload runs past its ${expected} bytes`)
      hash.update(chunk)
    }
    if (received !== Number(expected)) throw new WireError(`the model stream ended after ${received} of ${expected} payload bytes`)
    return { response, payloadSha256: hash.digest(), payloadBytes: received }
  } catch (err) {
    stream.abort(err)
    throw err
  }
}

/** The deterministic float32 LE delta of `count` elements for (seed, round), values in [-scale, scale). */
export function makeDelta (seed, round, count, scale) {
  const payload = Buffer.alloc(count * 4)
  const header = Buffer.alloc(16 + 8 + 8 + 8)
  Buffer.from('FEDAGG-JSP-DELTA', 'ascii').copy(header, 0)
  header.writeBigUInt64BE(seed, 16)
  header.writeBigUInt64BE(BigInt(round), 24)
  let block = 0n
  let bytes = Buffer.alloc(0)
  let used = 0
  for (let i = 0; i < count; i++) {
    if (used + 4 > bytes.length) {
      header.writeBigUInt64BE(block++, 32)
      bytes = sha256(header)
      used = 0
    }
    const unit = bytes.readUInt32LE(used) / 2 ** 32 // [0, 1)
    used += 4
    payload.writeFloatLE((unit * 2 - 1) * scale, i * 4)
  }
  return payload
}

/** Sends the request frame and the payload while reading the receipt (the server may answer early and stop reading). */
async function submit (connection, frame, payload, timeoutMs) {
  const abort = signal(timeoutMs)
  const stream = await connection.newStream(SUBMIT_PROTOCOL, { signal: abort })
  const framed = new FramedStream(stream)
  const receiving = framed.readMessage(MAX_RECEIPT_FRAME, abort)
  const sending = (async () => {
    await framed.writeMessage(frame, abort)
    for (let offset = 0; offset < payload.length; offset += WRITE_CHUNK) {
      await framed.write(payload.subarray(offset, offset + WRITE_CHUNK), abort)
    }
    await stream.close({ signal: abort })
  })().then(() => null, (err) => err)
  try {
    const raw = await receiving
    if (raw == null) throw new WireError('the server closed the submit stream without a receipt')
    // After an early answer the server stops reading, so the writes may fail or never drain: that is not an error.
    const sendError = await Promise.race([sending, new Promise(resolve => setTimeout(resolve, 2_000, 'pending'))])
    if (sendError != null) {
      log(`submit: the payload was not fully sent (${sendError === 'pending' ? 'still blocked' : sendError.message}); the receipt answers it`)
      stream.abort(new Error('the server answered before taking the whole payload'))
    }
    return Buffer.from(raw)
  } catch (err) {
    stream.abort(err)
    throw err
  }
}

/** Sends a signed binding on /fedagg/bind/1.0.0: { sent: false } when the server does not speak it, else its answer. */
async function bind (connection, chainId, ledger, address, signature, timeoutMs) {
  const abort = signal(timeoutMs)
  let stream
  try {
    stream = await connection.newStream(BIND_PROTOCOL, { signal: abort })
  } catch (err) {
    if (err?.name === 'UnsupportedProtocolError') return { sent: false, status: null, reason: '' }
    throw err
  }
  try {
    const framed = new FramedStream(stream)
    await framed.writeMessage(encodeBindRequest(chainId, ledger, address, signature), abort)
    await stream.close({ signal: abort })
    const frame = await framed.readMessage(MAX_BIND_RESPONSE_FRAME, abort)
    if (frame == null) throw new WireError('the bind stream ended without a response')
    const response = decodeBindResponse(frame)
    return { sent: true, status: Number(response.status), reason: response.reason }
  } catch (err) {
    stream.abort(err)
    throw err
  }
}

/** Checks a receipt: update id, the server key's peer id against the dialled one, and the server's signature. */
export async function checkReceipt (receipt, updateId, serverPeer) {
  const updateIdMatches = receipt.updateId.length === 0 || receipt.updateId.equals(updateId)
  const stored = receipt.status === 0n || receipt.status === 1n
  if (!stored) return { updateIdMatches, signatureValid: false, serverPeerId: null, problem: null }
  if (receipt.updateId.length !== 32) return { updateIdMatches: false, signatureValid: false, serverPeerId: null, problem: 'a stored receipt without an update id' }
  let raw
  try {
    raw = parseEd25519PublicKeyProtobuf(receipt.serverPublicKey)
  } catch (err) {
    return { updateIdMatches, signatureValid: false, serverPeerId: null, problem: `the receipt's server key: ${err.message}` }
  }
  const key = publicKeyFromRaw(raw)
  const serverPeerId = peerIdFromPublicKey(key).toString()
  if (serverPeerId !== serverPeer.toString()) {
    return { updateIdMatches, signatureValid: false, serverPeerId, problem: `the receipt is signed by ${serverPeerId}, not the dialled ${serverPeer}` }
  }
  const signed = receiptSignedBytes(receipt.updateId, receipt.sequence, receipt.receivedUnixMs)
  const signatureValid = (await key.verify(signed, receipt.serverSignature)) === true
  return { updateIdMatches, signatureValid, serverPeerId, problem: signatureValid ? null : 'the server signature does not verify' }
}

async function sign (privateKey, data) {
  return Buffer.from(await privateKey.sign(data))
}

/** One round: build, sign, submit, check. Returns the receipt's status. */
async function takePart (ctx, model, round) {
  const { options, privateKey, connection } = ctx
  const response = model.response
  const count = options.elements ?? Number(response.numElements)
  if (response.codec !== 0n) throw new Error(`the task's codec is ${response.codec}; this participant sends float32 (0) only`)
  const payload = makeDelta(options.seed, round, count, options.deltaScale)
  const payloadSha256 = sha256(payload)
  const fields = {
    chainId: response.chainId,
    ledger: response.ledger,
    taskId: options.task,
    round: response.openRound,
    baseModelHash: response.modelHash,
    codec: 0,
    numElements: BigInt(count),
    payloadSha256,
    numSamples: options.numSamples,
    nonce: randomBytes(16),
    expiresUnixMs: BigInt(Date.now() + 3_600_000)
  }
  if (options.tamper === 'stale-base') fields.baseModelHash = Buffer.alloc(32)
  if (options.tamper === 'wrong-round') fields.round = response.openRound + 1n
  if (options.tamper === 'payload-hash') {
    const other = Buffer.from(payload)
    other[0] ^= 0x01
    fields.payloadSha256 = sha256(other)
  }
  const preimage = encodePreimage(fields)
  const updateId = sha256(preimage)
  const signature = await sign(privateKey, preimage)
  if (options.tamper === 'signature') signature[10] ^= 0x01
  const publicKey = ed25519PublicKeyProtobuf(privateKey.publicKey.raw)
  log(`round ${fields.round}: submitting ${toHex(updateId)} (${payload.length} bytes, tamper ${options.tamper})`)
  const raw = await submit(connection, encodeSubmitRequest(preimage, signature, publicKey), payload, options.timeoutMs)
  const receipt = decodeReceipt(raw)
  log(`round ${fields.round}: receipt status ${receipt.status} ${receipt.reason}`)
  const check = await checkReceipt(receipt, updateId, options.serverPeer)
  print({
    event: 'receipt',
    round: u64Json(fields.round),
    tamper: options.tamper,
    status: Number(receipt.status),
    statusName: STATUS_NAMES[Number(receipt.status)] ?? 'unknown',
    reason: receipt.reason,
    updateId: receipt.updateId.length > 0 ? toHex(receipt.updateId) : '',
    expectedUpdateId: toHex(updateId),
    updateIdMatches: check.updateIdMatches,
    sequence: u64Json(receipt.sequence),
    receivedUnixMs: u64Json(receipt.receivedUnixMs),
    signatureValid: check.signatureValid,
    serverPeerId: check.serverPeerId,
    receipt: toHex(raw),
    preimage: toHex(preimage),
    signature: toHex(signature),
    publicKey: toHex(publicKey),
    payloadSha256: toHex(payloadSha256),
    numElements: count
  })
  if (!check.updateIdMatches) throw new Error(`the receipt names update ${toHex(receipt.updateId)}, not ${toHex(updateId)}`)
  if (check.problem != null) throw new Error(check.problem)
  if (options.tamper === 'none' && receipt.status !== 0n) {
    throw new Error(`the server refused the update: status ${receipt.status} (${STATUS_NAMES[Number(receipt.status)] ?? 'unknown'}): ${receipt.reason}`)
  }
  return receipt.status
}

/** Fetches the model and reports it (its hash checked); with `after`, polls until a newer model and a newer round are out. */
async function modelForRound (ctx, after) {
  const { options, connection } = ctx
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const remaining = Math.max(1, deadline - Date.now())
    const model = await fetchModel(connection, options.task, Math.min(options.timeoutMs, remaining))
    const r = model.response
    const ready = r.status === 0n && r.openRound !== 0n &&
      (after == null || (!r.modelHash.equals(after.modelHash) && r.openRound > after.openRound))
    if (r.status !== 0n && r.status !== 11n) {
      throw new Error(`the model request was refused: status ${r.status} (${STATUS_NAMES[Number(r.status)] ?? 'unknown'}): ${r.reason}`)
    }
    if (ready) {
      log(`model ${toHex(r.modelHash)} (round ${r.round}), round ${r.openRound} open`)
      const hashMatches = model.payloadSha256.equals(r.modelHash)
      print({
        event: 'model',
        round: u64Json(r.round),
        openRound: u64Json(r.openRound),
        openRoundDeadlineUnixMs: u64Json(r.openRoundDeadlineUnixMs),
        modelHash: toHex(r.modelHash),
        payloadSha256: toHex(model.payloadSha256),
        payloadBytes: model.payloadBytes,
        codec: Number(r.codec),
        numElements: u64Json(r.numElements),
        chainId: u64Json(r.chainId),
        ledger: toHex(r.ledger),
        hashMatches
      })
      if (!hashMatches) throw new Error(`the model's payload hashes to ${toHex(model.payloadSha256)}, not the announced ${toHex(r.modelHash)}`)
      return r
    }
    if (Date.now() + options.pollMs > deadline) {
      throw new Error(after == null
        ? `no round of task ${options.task} opened within ${options.timeoutMs} ms`
        : `the server's model did not move past ${toHex(after.modelHash)} (round ${after.openRound}) within ${options.timeoutMs} ms`)
    }
    await new Promise(resolve => setTimeout(resolve, options.pollMs))
  }
}

async function run (options) {
  const privateKey = options.keySeed != null
    ? await generateKeyPairFromSeed('Ed25519', options.keySeed)
    : await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify({ timeout: options.timeoutMs }) }
  })
  await node.start()
  try {
    const connection = await node.dial(multiaddr(options.server), { signal: signal(options.timeoutMs) })
    if (!connection.remotePeer.equals(options.serverPeer)) throw new Error(`dialled ${options.serverPeer} but reached ${connection.remotePeer}`)
    log(`connected to ${connection.remotePeer} at ${connection.remoteAddr}`)
    print({ event: 'ready', peerId: node.peerId.toString(), server: options.serverPeer.toString(), seed: options.seed.toString() })
    const ctx = { options, privateKey, connection }
    let previous = null
    for (let i = 0; i < options.rounds; i++) {
      const model = await modelForRound(ctx, previous)
      if (i === 0 && options.bindAddress != null) {
        const signature = await sign(privateKey, bindingSignedBytes(model.chainId, model.ledger, options.bindAddress))
        const answer = await bind(connection, model.chainId, model.ledger, options.bindAddress, signature, options.timeoutMs)
        log(answer.sent ? `bind: status ${answer.status} ${answer.reason}` : `bind: the server does not speak ${BIND_PROTOCOL}`)
        print({
          event: 'binding',
          address: toHex(options.bindAddress),
          chainId: u64Json(model.chainId),
          ledger: toHex(model.ledger),
          signature: toHex(signature),
          publicKey: toHex(privateKey.publicKey.raw),
          ...answer
        })
        if (answer.sent && answer.status !== 0) throw new Error(`the server refused the binding: status ${answer.status}: ${answer.reason}`)
      }
      await takePart(ctx, { response: model }, Number(model.openRound))
      previous = model
    }
    print({ event: 'done' })
  } finally {
    log('stopping')
    await Promise.race([node.stop(), new Promise(resolve => setTimeout(resolve, 5_000))])
  }
}

const isMain = process.argv[1] != null && import.meta.url === new URL(`file://${process.argv[1]}`).href
if (isMain) {
  let watchdog
  try {
    const options = parseArgs(process.argv.slice(2))
    const limit = options.timeoutMs * (3 * options.rounds + 2)
    watchdog = setTimeout(() => {
      print({ event: 'error', message: `the run did not finish within ${limit} ms` })
      process.exit(1)
    }, limit)
    await run(options)
    log('stopped')
    clearTimeout(watchdog)
    process.exit(0)
  } catch (err) {
    clearTimeout(watchdog)
    print({ event: 'error', message: String(err?.message ?? err) })
    log(err?.stack ?? String(err))
    process.exit(1)
  }
}
