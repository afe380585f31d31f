/**
 * `items` in consecutive slices of at most `size`: what effect's `Array.chunksOf` answers, which this is not
 * replaced by because it copies the rest of the array at every slice. Measured on one host, alternately:
 * 50,000 ids in slices of 256 (a run's submit batches, a repository's statements) took 45–80 ms there
 * and 0.05–0.1 ms here.
 */
export const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
