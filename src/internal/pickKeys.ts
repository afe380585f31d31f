/** The entries of `map` whose keys are among `keys` (a key it lacks is left out), as a map of their own. */
export const pickKeys = <K, V>(map: ReadonlyMap<K, V>, keys: Iterable<K>): Map<K, V> => {
  const picked = new Map<K, V>()
  for (const key of keys) {
    const value = map.get(key)
    if (value !== undefined) picked.set(key, value)
  }
  return picked
}
