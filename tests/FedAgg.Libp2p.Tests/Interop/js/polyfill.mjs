// Node 20 lacks Promise.withResolvers (Node 22+), which js-libp2p 3.x uses. This module is imported before any libp2p
// module: ES imports are hoisted and evaluated in order, so the polyfill must live in its own module.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
