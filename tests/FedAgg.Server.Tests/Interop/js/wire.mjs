// FedAgg wire formats in plain JavaScript, written from docs/PROTOCOL.md (version 1.4) alone, so the js participant is
// an implementation independent of the C# one: unsigned varints, a tiny protobuf encoder and a strict decoder, the
// signed update preimage, the receipt and address-binding signed bytes, the libp2p PublicKey protobuf, and framed reads
// over a js-libp2p stream. Every length is bounded before anything is buffered; decoders throw WireError on garbage.
import { createHash } from 'node:crypto'
import { byteStream } from '@libp2p/utils'

export const MODEL_PROTOCOL = '/fedagg/model/1.0.0'
export const SUBMIT_PROTOCOL = '/fedagg/submit/1.0.0'
export const BIND_PROTOCOL = '/fedagg/bind/1.0.0'

export const UPDATE_MAGIC = Buffer.from('FEDAGG-UPDATE-V1', 'ascii') // 16 bytes
export const RECEIPT_MAGIC = Buffer.from('FEDAGG-RECEIPT-V1', 'ascii') // 17 bytes
export const BIND_MAGIC = Buffer.from('FEDAGG-BIND-V1', 'ascii') // 14 bytes
export const PREIMAGE_FIXED_LENGTH = 159
export const MAX_TASK_ID_BYTES = 128

// Limits (PROTOCOL.md "Limits" and the message definitions).
export const MAX_RECEIPT_FRAME = 3584
export const MAX_REASON_BYTES = 1024
export const MAX_PUBLIC_KEY_PROTOBUF = 2048
export const MAX_MANIFEST_JSON = 64 * 1024 * 1024
export const MAX_MODEL_RESPONSE_FRAME = MAX_MANIFEST_JSON + 4096
export const MAX_BIND_RESPONSE_FRAME = 16 + MAX_REASON_BYTES
const MAX_FRAME_VARINT_BYTES = 9

export const STATUS_NAMES = Object.freeze({
  0: 'accepted', 1: 'duplicate', 2: 'bad signature', 3: 'round not open', 4: 'not admitted', 5: 'malformed',
  6: 'stale base model', 7: 'expired', 8: 'too large', 9: 'payload hash mismatch', 10: 'rate limited',
  11: 'unavailable', 12: 'copied payload', 13: 'unknown task', 14: 'already submitted', 15: 'peer mismatch',
  16: 'wrong chain', 17: 'shape mismatch', 18: 'unknown model'
})

/** Peer garbage or a broken promise of the protocol. */
export class WireError extends Error {
  constructor (message) {
    super(message)
    this.name = 'WireError'
  }
}

const U64_MAX = (1n << 64n) - 1n

export const sha256 = (...parts) => {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

export const toHex = (bytes) => '0x' + Buffer.from(bytes).toString('hex')

/** Decodes `0x` + exactly `length` bytes of lowercase or uppercase hex; throws otherwise. */
export function fromHex (text, length, what) {
  const match = /^0x([0-9a-fA-F]*)$/.exec(text ?? '')
  if (match == null || match[1].length !== length * 2) throw new Error(`${what} must be 0x followed by ${length * 2} hex digits`)
  return Buffer.from(match[1], 'hex')
}

/** A u64 as a JSON value: a number when it is exactly representable, a decimal string otherwise. */
export const u64Json = (value) => (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString())

function u64BigEndian (value) {
  const big = BigInt(value)
  if (big < 0n || big > U64_MAX) throw new RangeError(`${value} is not a u64`)
  const out = Buffer.alloc(8)
  out.writeBigUInt64BE(big)
  return out
}

function u16BigEndian (value) {
  const out = Buffer.alloc(2)
  out.writeUInt16BE(value)
  return out
}

/** Multiformats unsigned varint (also protobuf's base-128 varint), minimal, of a u64. */
export function encodeVarint (value) {
  let big = BigInt(value)
  if (big < 0n || big > U64_MAX) throw new RangeError(`${value} is not a u64`)
  const out = []
  while (big >= 0x80n) {
    out.push(Number(big & 0x7fn) | 0x80)
    big >>= 7n
  }
  out.push(Number(big))
  return Buffer.from(out)
}

/** Reads a protobuf varint (at most 10 bytes, at most 2^64 − 1) at `offset`: { value: bigint, next }. */
function readProtoVarint (bytes, offset) {
  let value = 0n
  for (let i = 0; i < 10; i++) {
    if (offset + i >= bytes.length) throw new WireError('truncated varint')
    const byte = bytes[offset + i]
    value |= BigInt(byte & 0x7f) << BigInt(7 * i)
    if ((byte & 0x80) === 0) {
      if (value > U64_MAX) throw new WireError('varint over 64 bits')
      return { value, next: offset + i + 1 }
    }
  }
  throw new WireError('varint longer than 10 bytes')
}

// ---- protobuf --------------------------------------------------------------------------------------------------------

/**
 * Encodes a message from [fieldNumber, 'varint' | 'bytes', value] triples, in the order given. Like proto3, zero
 * varints and empty byte strings are left out.
 */
export function encodeProtobuf (fields) {
  const parts = []
  for (const [number, type, value] of fields) {
    if (type === 'varint') {
      if (BigInt(value) === 0n) continue
      parts.push(encodeVarint(BigInt(number) << 3n), encodeVarint(value))
    } else if (type === 'bytes') {
      const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)
      if (data.length === 0) continue
      parts.push(encodeVarint((BigInt(number) << 3n) | 2n), encodeVarint(data.length), data)
    } else {
      throw new Error(`unknown field type ${type}`)
    }
  }
  return Buffer.concat(parts)
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes a message by `schema`: { fieldNumber: { name, type: 'varint' | 'bytes' | 'string', max? } }. Unknown fields
 * are skipped (varint, 64-bit, length-delimited, 32-bit); a repeated known field, a known field of the wrong wire
 * type, a byte string over its `max`, invalid UTF-8 in a string, a varint over `max`, or truncation is a WireError.
 * Absent fields are 0n, an empty Buffer or ''.
 */
export function decodeProtobuf (bytes, schema, what) {
  const result = {}
  const seen = new Set()
  for (const field of Object.values(schema)) {
    result[field.name] = field.type === 'varint' ? 0n : field.type === 'string' ? '' : Buffer.alloc(0)
  }
  let offset = 0
  while (offset < bytes.length) {
    const tag = readProtoVarint(bytes, offset)
    offset = tag.next
    const number = Number(tag.value >> 3n)
    const wireType = Number(tag.value & 7n)
    if (number === 0) throw new WireError(`${what}: field number 0`)
    const field = schema[number]
    if (field != null) {
      if (seen.has(number)) throw new WireError(`${what}: field ${number} (${field.name}) is repeated`)
      seen.add(number)
    }
    if (wireType === 0) {
      const v = readProtoVarint(bytes, offset)
      offset = v.next
      if (field != null) {
        if (field.type !== 'varint') throw new WireError(`${what}: field ${number} (${field.name}) has the wrong wire type`)
        if (field.max != null && v.value > BigInt(field.max)) throw new WireError(`${what}: ${field.name} ${v.value} is over ${field.max}`)
        result[field.name] = v.value
      }
    } else if (wireType === 2) {
      const length = readProtoVarint(bytes, offset)
      offset = length.next
      if (length.value > BigInt(bytes.length - offset)) throw new WireError(`${what}: field ${number} is truncated`)
      const end = offset + Number(length.value)
      if (field != null) {
        if (field.type === 'varint') throw new WireError(`${what}: field ${number} (${field.name}) has the wrong wire type`)
        if (field.max != null && end - offset > field.max) throw new WireError(`${what}: ${field.name} is ${end - offset} bytes, over ${field.max}`)
        const data = Buffer.from(bytes.subarray(offset, end))
        if (field.type === 'string') {
          try {
            result[field.name] = utf8Strict.decode(data)
          } catch {
            throw new WireError(`${what}: ${field.name} is not valid UTF-8`)
          }
        } else {
          result[field.name] = data
        }
      }
      offset = end
    } else if (wireType === 1 || wireType === 5) {
      if (field != null) throw new WireError(`${what}: field ${number} (${field.name}) has the wrong wire type`)
      const size = wireType === 1 ? 8 : 4
      if (offset + size > bytes.length) throw new WireError(`${what}: field ${number} is truncated`)
      offset += size
    } else {
      throw new WireError(`${what}: unsupported wire type ${wireType}`)
    }
  }
  return result
}

const MODEL_RESPONSE_SCHEMA = {
  1: { name: 'status', type: 'varint', max: 0xffffffff },
  2: { name: 'reason', type: 'string', max: MAX_REASON_BYTES },
  3: { name: 'modelHash', type: 'bytes', max: 32 },
  4: { name: 'round', type: 'varint' },
  5: { name: 'openRound', type: 'varint' },
  6: { name: 'openRoundDeadlineUnixMs', type: 'varint' },
  7: { name: 'codec', type: 'varint', max: 0xffffffff },
  8: { name: 'numElements', type: 'varint' },
  9: { name: 'manifestJson', type: 'string', max: MAX_MANIFEST_JSON },
  10: { name: 'chainId', type: 'varint' },
  11: { name: 'ledger', type: 'bytes', max: 20 }
}

const RECEIPT_SCHEMA = {
  1: { name: 'status', type: 'varint', max: 0xffffffff },
  2: { name: 'reason', type: 'string', max: MAX_REASON_BYTES },
  3: { name: 'updateId', type: 'bytes', max: 32 },
  4: { name: 'sequence', type: 'varint' },
  5: { name: 'receivedUnixMs', type: 'varint' },
  6: { name: 'serverSignature', type: 'bytes', max: 128 },
  7: { name: 'serverPublicKey', type: 'bytes', max: MAX_PUBLIC_KEY_PROTOBUF }
}

/** `ModelRequest { string taskId = 1; bytes modelHash = 2 }`; an empty hash (left out) asks for the current model. */
export function encodeModelRequest (taskId, modelHash = Buffer.alloc(0)) {
  return encodeProtobuf([[1, 'bytes', taskId], [2, 'bytes', modelHash]])
}

/** Decodes a `ModelResponse`; a status-0 answer must carry a 32-byte hash, and the ledger is 20 bytes (zeros when absent). */
export function decodeModelResponse (bytes) {
  const response = decodeProtobuf(bytes, MODEL_RESPONSE_SCHEMA, 'ModelResponse')
  if (response.status === 0n && response.modelHash.length !== 32) throw new WireError(`ModelResponse: the model hash is ${response.modelHash.length} bytes, not 32`)
  if (response.ledger.length === 0) response.ledger = Buffer.alloc(20)
  else if (response.ledger.length !== 20) throw new WireError(`ModelResponse: the ledger is ${response.ledger.length} bytes, not 20`)
  return response
}

/** `SubmitRequest { bytes preimage = 1; bytes signature = 2; bytes publicKey = 3 }`. */
export function encodeSubmitRequest (preimage, signature, publicKeyProtobuf) {
  return encodeProtobuf([[1, 'bytes', preimage], [2, 'bytes', signature], [3, 'bytes', publicKeyProtobuf]])
}

/** Decodes a `SubmitReceipt`; an update id, when present, is 32 bytes. */
export function decodeReceipt (bytes) {
  if (bytes.length > MAX_RECEIPT_FRAME) throw new WireError(`SubmitReceipt is ${bytes.length} bytes, over ${MAX_RECEIPT_FRAME}`)
  const receipt = decodeProtobuf(bytes, RECEIPT_SCHEMA, 'SubmitReceipt')
  if (receipt.updateId.length !== 0 && receipt.updateId.length !== 32) throw new WireError(`SubmitReceipt: the update id is ${receipt.updateId.length} bytes, not 32`)
  return receipt
}

/** `BindRequest { uint64 chainId = 1; bytes ledger = 2; bytes address = 3; bytes signature = 4 }` of /fedagg/bind/1.0.0. */
export function encodeBindRequest (chainId, ledger, address, signature) {
  return encodeProtobuf([[1, 'varint', chainId], [2, 'bytes', ledger], [3, 'bytes', address], [4, 'bytes', signature]])
}

/** Decodes a `BindResponse { uint32 status = 1; string reason = 2 }`. */
export function decodeBindResponse (bytes) {
  return decodeProtobuf(bytes, {
    1: { name: 'status', type: 'varint', max: 0xffffffff },
    2: { name: 'reason', type: 'string', max: MAX_REASON_BYTES }
  }, 'BindResponse')
}

// ---- keys ------------------------------------------------------------------------------------------------------------

/** The libp2p `PublicKey` protobuf of an Ed25519 key, deterministic: `08 01 12 20 ‖ key` (36 bytes). */
export function ed25519PublicKeyProtobuf (raw) {
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes')
  return Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x20]), Buffer.from(raw)])
}

/**
 * The raw 32-byte key of a libp2p `PublicKey` protobuf: Type (1) = 1 (Ed25519) and Data (2), in either order, each
 * exactly once; other key types, unknown fields and trailing bytes are refused.
 */
export function parseEd25519PublicKeyProtobuf (bytes) {
  let type = null
  let data = null
  let offset = 0
  while (offset < bytes.length) {
    const tag = readProtoVarint(bytes, offset)
    offset = tag.next
    if (tag.value === 0x08n && type == null) {
      const v = readProtoVarint(bytes, offset)
      offset = v.next
      type = v.value
    } else if (tag.value === 0x12n && data == null) {
      const length = readProtoVarint(bytes, offset)
      offset = length.next
      if (length.value > BigInt(bytes.length - offset)) throw new WireError('PublicKey: Data is truncated')
      data = Buffer.from(bytes.subarray(offset, offset + Number(length.value)))
      offset += data.length
    } else {
      throw new WireError(`PublicKey: unexpected, repeated or unknown field (tag ${tag.value})`)
    }
  }
  if (type !== 1n) throw new WireError(`PublicKey: key type ${type} is not Ed25519 (1)`)
  if (data == null || data.length !== 32) throw new WireError('PublicKey: an Ed25519 key is 32 bytes')
  return data
}

// ---- signed bytes ----------------------------------------------------------------------------------------------------

/** The float32 LE = 0, float16 LE = 1, bfloat16 LE = 2 element sizes; undefined for other codecs. */
export const elementSize = (codec) => ({ 0: 4, 1: 2, 2: 2 })[Number(codec)]

/**
 * The signed update preimage, exactly 159 + L bytes:
 * magic(16) ‖ u64 chainId ‖ ledger(20) ‖ u16 L ‖ taskId(L) ‖ u64 round ‖ baseModelHash(32) ‖ u8 codec ‖
 * u64 numElements ‖ payloadSha256(32) ‖ u64 numSamples ‖ nonce(16) ‖ u64 expiresUnixMs.
 */
export function encodePreimage (p) {
  const taskId = Buffer.from(p.taskId, 'utf8')
  if (taskId.length < 1 || taskId.length > MAX_TASK_ID_BYTES) throw new Error(`the task id is ${taskId.length} bytes, not 1..${MAX_TASK_ID_BYTES}`)
  const exact = (bytes, length, what) => {
    if (bytes.length !== length) throw new Error(`${what} is ${bytes.length} bytes, not ${length}`)
    return Buffer.from(bytes)
  }
  const out = Buffer.concat([
    UPDATE_MAGIC,
    u64BigEndian(p.chainId),
    exact(p.ledger, 20, 'the ledger'),
    u16BigEndian(taskId.length),
    taskId,
    u64BigEndian(p.round),
    exact(p.baseModelHash, 32, 'the base model hash'),
    Buffer.from([p.codec]),
    u64BigEndian(p.numElements),
    exact(p.payloadSha256, 32, 'the payload hash'),
    u64BigEndian(p.numSamples),
    exact(p.nonce, 16, 'the nonce'),
    u64BigEndian(p.expiresUnixMs)
  ])
  if (out.length !== PREIMAGE_FIXED_LENGTH + taskId.length) throw new Error('preimage length mismatch (bug)')
  return out
}

/** `"FEDAGG-RECEIPT-V1" ‖ updateId(32) ‖ u64 sequence ‖ u64 receivedUnixMs` (65 bytes), what the server signs. */
export function receiptSignedBytes (updateId, sequence, receivedUnixMs) {
  if (updateId.length !== 32) throw new Error('an update id is 32 bytes')
  return Buffer.concat([RECEIPT_MAGIC, Buffer.from(updateId), u64BigEndian(sequence), u64BigEndian(receivedUnixMs)])
}

/** `"FEDAGG-BIND-V1" ‖ u64 chainId ‖ ledger(20) ‖ address(20)` (62 bytes), what a participant signs to bind an address. */
export function bindingSignedBytes (chainId, ledger, address) {
  if (ledger.length !== 20 || address.length !== 20) throw new Error('a ledger and an address are 20 bytes')
  return Buffer.concat([BIND_MAGIC, u64BigEndian(chainId), Buffer.from(ledger), Buffer.from(address)])
}

// ---- framing ---------------------------------------------------------------------------------------------------------

/**
 * Unsigned-varint length-prefixed messages (at most 9 varint bytes, minimally encoded) and raw bytes over a js-libp2p
 * stream. Every read takes an AbortSignal.
 */
export class FramedStream {
  constructor (stream, maxBufferSize = 8 * 1024 * 1024) {
    this.stream = stream
    this.bytes = byteStream(stream, { maxBufferSize })
    this.buffered = Buffer.alloc(0)
  }

  async #more (signal) {
    const chunk = await this.bytes.read({ signal })
    if (chunk == null) return false
    const data = chunk.subarray()
    this.buffered = this.buffered.length === 0 ? Buffer.from(data) : Buffer.concat([this.buffered, data])
    return true
  }

  /** The next message (at most `max` bytes), or null when the stream ends cleanly before one starts. */
  async readMessage (max, signal) {
    for (;;) {
      let value = 0
      let scale = 1
      let i = 0
      let complete = false
      for (; i < this.buffered.length && i < MAX_FRAME_VARINT_BYTES; i++) {
        const byte = this.buffered[i]
        value += (byte & 0x7f) * scale
        scale *= 128
        if ((byte & 0x80) === 0) {
          if (byte === 0 && i > 0) throw new WireError('the message length is not minimally encoded')
          complete = true
          i++
          break
        }
      }
      if (!complete && i >= MAX_FRAME_VARINT_BYTES) throw new WireError('the message length varint is longer than 9 bytes')
      if (complete) {
        if (value > max) throw new WireError(`the message is ${value} bytes, over the limit of ${max}`)
        if (this.buffered.length >= i + value) {
          const message = this.buffered.subarray(i, i + value)
          this.buffered = this.buffered.subarray(i + value)
          return message
        }
      }
      if (!(await this.#more(signal))) {
        if (this.buffered.length === 0) return null
        throw new WireError(`the stream ended inside a message (${this.buffered.length} bytes buffered)`)
      }
    }
  }

  /** Raw bytes as they arrive (what is buffered first); null at the end of the stream. */
  async readChunk (signal) {
    if (this.buffered.length === 0 && !(await this.#more(signal))) return null
    const chunk = this.buffered
    this.buffered = Buffer.alloc(0)
    return chunk
  }

  async write (data, signal) {
    await this.bytes.write(data, { signal })
  }

  async writeMessage (data, signal) {
    await this.bytes.write(Buffer.concat([encodeVarint(data.length), data]), { signal })
  }
}
