/**
 * A least-recently-used map of at most `max` entries: a `Map` from key to node, and the nodes in
 * a doubly linked list, most recently used first. A hit moves its node to the front (pointers
 * only, the `Map` is not touched); an insert beyond `max` reuses the least recently used node.
 *
 * It replaced lru-cache in the memory cache store: the engine's profiles (packages/core/bench)
 * showed lru-cache's get and set at 6-15 % of the CPU of a cached lookup and of a miss, for
 * features (TTL, sizes, disposal, stale reads) the store does not use.
 */
interface Node<K, V> {
  key: K;
  value: V;
  /** Towards the most recently used end. */
  prev: Node<K, V> | undefined;
  /** Towards the least recently used end. */
  next: Node<K, V> | undefined;
}

export class Lru<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  /** Most recently used. */
  private head: Node<K, V> | undefined;
  /** Least recently used: evicted first. */
  private tail: Node<K, V> | undefined;

  /** @throws RangeError unless `max` is a whole number of 1 or more. */
  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`An LRU holds a whole number of entries, 1 or more; got ${String(max)}.`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, made the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const node = this.map.get(key);
    if (node === undefined) return undefined;
    this.toFront(node);
    return node.value;
  }

  /** Sets the value, most recently used; evicts the least recently used entry beyond `max`. */
  set(key: K, value: V): void {
    let node = this.map.get(key);
    if (node !== undefined) {
      node.value = value;
      this.toFront(node);
      return;
    }
    if (this.map.size >= this.max) {
      // Full: the least recently used node becomes the new one (no allocation).
      node = this.tail as Node<K, V>;
      this.map.delete(node.key);
      this.unlink(node);
      node.key = key;
      node.value = value;
    } else {
      node = { key, value, prev: undefined, next: undefined };
    }
    this.map.set(key, node);
    this.pushFront(node);
  }

  /** True when the key was there. */
  delete(key: K): boolean {
    const node = this.map.get(key);
    if (node === undefined) return false;
    this.map.delete(key);
    this.unlink(node);
    return true;
  }

  clear(): void {
    this.map.clear();
    this.head = this.tail = undefined;
  }

  /** Keys, most recently used first. */
  *keys(): IterableIterator<K> {
    for (let node = this.head; node; node = node.next) yield node.key;
  }

  private toFront(node: Node<K, V>): void {
    if (this.head === node) return;
    this.unlink(node);
    this.pushFront(node);
  }

  private pushFront(node: Node<K, V>): void {
    node.prev = undefined;
    node.next = this.head;
    if (this.head) this.head.prev = node;
    this.head = node;
    this.tail ??= node;
  }

  private unlink(node: Node<K, V>): void {
    const { prev, next } = node;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    node.prev = node.next = undefined;
  }
}
